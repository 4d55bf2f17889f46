"""Factories for test data: valid ID numbers and credit codes generated, never hard-coded."""

import datetime

import factory
from stdnum.cn import ric, uscc

from accounts.models import Bureau, Membership, Person, Role, User
from accreditation.models import Organisation
from occupations.models import Region

PASSWORD = "test-pass-123"


def make_ric(region: str = "220102", birth: datetime.date = datetime.date(1990, 5, 1), seq: int = 1) -> str:
    body = f"{region}{birth:%Y%m%d}{seq % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def appointed_since() -> datetime.date:
    """A staff appointment's start a year back: appointed on any exam day a test places near now (an exam "earlier
    today" may fall on yesterday's date just after midnight, Beijing time)."""
    from django.utils import timezone

    return timezone.localdate() - datetime.timedelta(days=365)


def make_uscc(seq: int, region: str = "220102", head: str = "91") -> str:
    body = f"{head}{region}MA{seq:07d}"
    return body + uscc.calc_check_digit(body)


def region(code: str) -> Region:
    return Region.objects.get(code=code)


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    name = factory.Sequence(lambda n: f"测试人员{n}")
    id_type = "ric"
    id_number = factory.Sequence(
        lambda n: make_ric(birth=datetime.date(1980, 1, 1) + datetime.timedelta(days=n // 900), seq=n % 900 + 1)
    )
    phone = factory.Sequence(lambda n: f"139{n:08d}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()

    @factory.post_generation
    def person(obj, create, extracted, **kwargs):
        """`UserFactory(person=p)`: an account bound to `p` the only way there is, through accounts.binding."""
        if create and extracted is not None:
            bind(obj, extracted)


def bound_user(username: str, *, person, **kwargs) -> User:
    """A login (`User.objects.create_user` arguments) bound to `person`."""
    user = User.objects.create_user(username, **kwargs)
    bind(user, person)
    return user


def bind(user, person, channel: str = "bureau"):
    """Bind `user` to `person` as a bureau's check of the papers would (tests' stand-in for a real proof)."""
    from accounts.actors import Actor
    from accounts.binding import identity_bind

    return identity_bind(
        actor=Actor.platform(), user=user, person=person, channel=channel, evidence={"test": "papers checked"}
    )


class BureauFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Bureau
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"测试人社局{n}")
    region = factory.LazyFunction(lambda: region("220100"))


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"测试评价机构{n}")
    kind = "S"
    credit_code = factory.Sequence(lambda n: make_uscc(n + 1))
    region = factory.LazyFunction(lambda: region("220102"))
    contact_name = "联系人"
    contact_phone = "13800000000"


def member(role: str, *, bureau=None, organisation=None, user=None, person=None) -> User:
    user = user or UserFactory(person=person)
    Membership.objects.create(user=user, role=role, bureau=bureau, organisation=organisation)
    return user


def invited(user, appointment, inviter) -> User:
    """`user` (bound to the appointed person) gets the appointment's role the only way there is: `inviter` (the
    organisation's admin, or the bureau's officer) sends an invitation and `user` accepts it."""
    from accounts.actors import Actor
    from accounts.invitations import invitation_accept, invitation_create
    from accreditation.selectors import LOGIN_ROLE

    person = appointment.person
    _invitation, raw = invitation_create(
        actor=Actor.for_user(inviter),
        role=LOGIN_ROLE[appointment.role],
        name=person.name,
        id_type=person.id_type,
        id_number=person.id_number,
        organisation_id=appointment.organisation_id,
        bureau_id=appointment.bureau_id,
    )
    invitation_accept(actor=Actor.for_user(user), token=raw)
    return user


TEST_TOTP_KEY = "3132333435363738393031323334353637383930"  # RFC 6238's test key, as hex


def enrolled(user, key_hex: str = TEST_TOTP_KEY):
    """A confirmed authenticator for `user` whose codes `totp_code(key_hex)` computes."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.create(user=user, name="authenticator", key=key_hex, confirmed=True)


def totp_code(key_hex: str = TEST_TOTP_KEY, step_offset: int = 0) -> str:
    """The code an authenticator app shows now for this key (or `step_offset` steps of 30 s away)."""
    import time
    from binascii import unhexlify

    from django_otp.oath import hotp

    return f"{hotp(unhexlify(key_hex), int(time.time()) // 30 + step_offset):06d}"


__all__ = [
    "PASSWORD",
    "BureauFactory",
    "OrganisationFactory",
    "PersonFactory",
    "Role",
    "UserFactory",
    "bind",
    "bound_user",
    "enrolled",
    "make_ric",
    "make_uscc",
    "member",
    "region",
    "totp_code",
]


def checked_in(plan, registrations=None, kinds=None) -> None:
    """Test set-up: the candidates were checked in at the plan's sessions (ID document checked), as the
    supervisor does on exam day (assessments/examday), so that they may be scored. Existing records are kept."""
    from django.utils import timezone

    from assessments.models import CheckIn, Registration

    regs = (
        registrations if registrations is not None else plan.registrations.filter(status=Registration.Status.APPROVED)
    )
    components = plan.components.all() if kinds is None else plan.components.filter(kind__in=kinds)
    now = timezone.now()
    for component in components:
        for reg in regs:
            CheckIn.objects.get_or_create(
                registration=reg,
                component=component,
                defaults={"status": "present", "id_checked": True, "method": "typed", "recorded_at": now},
            )
