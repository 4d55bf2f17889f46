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


# --- Domain states, written directly ------------------------------------------------------------------------
#
# Many tests need a state that a chain of workflows reaches (a filed organisation, a plan's approved candidates,
# a finalised plan, its issued certificates, the seed subsidy policies) as their starting point, not as their
# subject. Running the chain costs most of such a test's time: every approval runs the integrity, panel,
# eligibility and employment checks again. The factories below write the rows the chain leaves, and use the
# real helpers wherever a value is computed (eligibility, number prefixes, certificate numbers, signed tokens,
# status-list positions, admission tickets), so what later code reads is what the workflow would have written.
# tests/test_factories.py builds each state both ways and compares them. A test whose subject is the workflow
# itself runs the workflow (tests/assessments/conftest.py: file_organisation, make_candidates; the `issue`
# fixture of tests/certificates/conftest.py).
#
# Not written: audit entries and notifications of the skipped steps (no test of a state reads them; tests of
# the steps run the steps), and a filing's uploaded attachment (a file on disk).

FILING_SCOPE = [
    {"occupation_code": "6-31-01-03", "levels": ["5", "4", "3"]},
    {"occupation_code": "4-03-02-01", "levels": ["5", "4", "3", "2"]},
]


def filed(org, officer, scope=FILING_SCOPE, national_code: str = "0000"):
    """`org` filed by `officer`'s bureau for `scope`, as accreditation's create → submit → review → approve leave
    it: an approved filing in force from today, its scope lines, and the organisation's number prefix."""
    from django.db import transaction

    with transaction.atomic():  # the prefix counter is locked FOR UPDATE, as in the approval's transaction
        _filed(org, officer, scope, national_code)
    org.refresh_from_db()
    return org


def _filed(org, officer, scope, national_code: str) -> None:
    from django.utils import timezone

    from accounts.actors import Actor
    from accreditation.models import Filing, ScopeLine
    from accreditation.services import _assign_prefix, filing_default_valid_until
    from occupations.models import Level, Occupation

    now, today = timezone.now(), timezone.localdate()
    filing = Filing.objects.create(
        organisation=org,
        national_code=national_code,
        status=Filing.Status.APPROVED,
        submitted_at=now,
        decided_at=now,
        decided_by=officer,
        valid_from=today,
        valid_until=filing_default_valid_until(Actor.for_user(officer), today),
    )
    for line in scope:
        occupation = Occupation.objects.get(code=line["occupation_code"])
        scope_line = ScopeLine.objects.create(
            filing=filing, occupation=occupation, occupation_edition=occupation.edition
        )
        scope_line.levels.set(Level.objects.filter(code__in=line["levels"]))
    if not org.number_prefix:
        org.number_prefix = _assign_prefix(org, national_code)
        org.save(update_fields=["number_prefix"])


def candidate_person(level: str, i: int):
    """The person tests/assessments/conftest.py::make_candidates registers as candidate `i` at `level`."""
    from accounts.models import Person

    id_number = make_ric(birth=datetime.date(1990, 1, 1) + datetime.timedelta(days=i), seq=i % 900 + 1)
    person = Person.objects.filter(id_type="ric", id_number=id_number).first()
    if person is None:
        person = Person(name=f"考生{level}-{i}", id_type="ric", id_number=id_number)
        person.derive()
        person.save()
    return person


def candidate_evidence(plan, level: str, work_years: int = 12) -> dict:
    """make_candidates' evidence: enough work years, and the level below's certificate (none at level 5)."""
    prior = (
        [{"occupation_code": plan.occupation.code, "level": str(int(level) + 1), "issued_on": "2015-06-30"}]
        if level != "5"
        else []
    )
    return {"work_years": work_years, "prior_certificates": prior}


def approved_candidates(plan, admin, level: str, n: int, *, start: int = 1, work_years: int = 12) -> list:
    """`n` candidates at `level` registered in bulk by `admin` and approved, as make_candidates leaves them: the same
    people, evidence and eligibility (evaluated by the real rules), reviewed by `admin`, and each with an admission
    ticket when the plan's arrangements are complete (as approval issues one)."""
    from django.utils import timezone

    from accounts.actors import Actor
    from assessments.employment.services import employment_at_registration
    from assessments.examday.services import arrangements_complete, issue_tickets
    from assessments.models import Registration
    from assessments.registration import evaluate_eligibility

    lv = plan.levels.get(code=level)
    evidence = candidate_evidence(plan, level, work_years)
    now = timezone.now()
    regs = []
    for i in range(start, start + n):
        person = candidate_person(level, i)
        result = evaluate_eligibility(plan, lv, person, evidence)
        employment = employment_at_registration(plan, person)
        regs.append(
            Registration(
                plan=plan,
                person=person,
                level=lv,
                source="bulk",
                registered_by=admin,
                pledge_accepted_at=now,
                eligibility=result.as_dict(),
                eligibility_status=str(result.status),
                employment_status=employment.status,
                employment_note=employment.explanation,
                status=Registration.Status.APPROVED,
                reviewed_by=admin,
                reviewed_at=now,
                **evidence,
            )
        )
    for reg in regs:
        reg.save()
    if arrangements_complete(plan):
        for reg in regs:  # one at a time, as each approval issues its ticket (audited once per approval)
            issue_tickets(Actor.for_user(admin), plan, [reg], automatic=True)
    return regs


def finalised(plan, passed: int | None = None):
    """The plan finalised with the first `passed` approved registrations passing (all if None): outcomes and
    finalisation times as the result review's finalisation writes them."""
    from django.utils import timezone

    from assessments.models import Plan, Registration

    regs = list(plan.registrations.filter(status="approved").order_by("id"))
    now = timezone.now()
    for i, r in enumerate(regs):
        r.outcome = Registration.Outcome.PASSED if passed is None or i < passed else Registration.Outcome.FAILED
        r.finalised_at = now
    Registration.objects.bulk_update(regs, ["outcome", "finalised_at"])
    Plan.objects.filter(pk=plan.id).update(status=Plan.Status.FINALISED, finalised_at=now)
    plan.refresh_from_db()
    return plan


def finalised_plan(org, admin, officer):
    """The certificate tests' finalised plan: `org` filed, a published 电工 plan, four candidates at level 4 and
    three at level 3, all passed."""
    from tests.assessments.conftest import make_plan

    filed(org, officer)
    plan = make_plan(org, admin)
    approved_candidates(plan, admin, "4", 4)
    approved_candidates(plan, admin, "3", 3, start=10)
    return finalised(plan)


def issued_certificates(plan, user) -> list:
    """The finalised plan's certificates as an issue batch started by `user` leaves them: a finished batch, numbers
    from the organisation's counters, tokens signed by the real signing keys over the printed fields, random
    status-list positions (counted into the list as after the commit). Sorted like the subsidy tests expect: by
    level, then number."""
    from django.db import connection, transaction
    from django.test import TestCase
    from django.utils import timezone

    from certificates.issuance import _issuable, _new_certificate, allocate_numbers, token_algorithm
    from certificates.models import Certificate, IssueBatch
    from certificates.status_index import certificates_insert

    plan.refresh_from_db()
    org = plan.organisation
    today = timezone.localdate()
    regs = list(
        _issuable(plan, today)
        .select_related("person", "level", "plan__occupation")
        .order_by("level__rank", "person__id_number")
    )
    alg = token_algorithm(org.region.code)
    created = []
    for level_id in sorted({r.level_id for r in regs}):
        group = [r for r in regs if r.level_id == level_id]
        with transaction.atomic():  # the number counter is locked FOR UPDATE, as in issuance's transaction
            numbers = allocate_numbers(org.number_prefix, today, group[0].level, len(group))
        for reg, number in zip(group, numbers, strict=True):
            reg.plan = plan
            created.append(_new_certificate(reg, number, today, alg))
    batch = IssueBatch.objects.create(plan=plan, total=len(created), issued_on=today, created_by=user)
    if connection.in_atomic_block:  # a test's transaction, never committed: run what its commit would run
        with TestCase.captureOnCommitCallbacks(execute=True):
            certificates_insert(created)
    else:  # a transactional test: the insert commits, and its after-commit count runs then
        certificates_insert(created)
    IssueBatch.objects.filter(pk=batch.pk).update(
        status=IssueBatch.Status.DONE, done=len(created), finished_at=timezone.now()
    )
    return list(Certificate.objects.filter(registration__plan=plan).order_by("level__rank", "number"))


class _PolicySnapshot:
    """The rows subsidies.policies.policies_load writes for some files into an empty policy table, taken from a real
    load once per session and written back with three bulk inserts. A load reads every occupation of the catalogue
    (3,000 model instances) and checks each policy: about 0.3 s for each of the subsidy tests, on a quiet machine."""

    def __init__(self, paths) -> None:
        self.paths = paths
        self.policies: list[tuple[int, dict]] = []  # (the primary key it had, its other fields)
        self.amounts: list[dict] = []
        self.shortages: list[dict] = []

    def take(self) -> None:
        from subsidies.models import PolicyAmount, ShortageOccupation, SubsidyPolicy
        from subsidies.policies import policies_load

        for path in self.paths:
            policies_load(path=path)
        self.policies = [(p.pk, _fields(p)) for p in SubsidyPolicy.objects.order_by("pk")]
        self.amounts = [_fields(a) for a in PolicyAmount.objects.order_by("pk")]
        self.shortages = [_fields(s) for s in ShortageOccupation.objects.order_by("pk")]

    def restore(self) -> None:
        from subsidies.models import PolicyAmount, ShortageOccupation, SubsidyPolicy

        SubsidyPolicy.objects.bulk_create([SubsidyPolicy(**fields) for _pk, fields in self.policies])
        by_code = dict(SubsidyPolicy.objects.values_list("code", "pk"))
        ids = {pk: by_code[fields["code"]] for pk, fields in self.policies}
        PolicyAmount.objects.bulk_create(
            [PolicyAmount(**{**a, "policy_id": ids[a["policy_id"]]}) for a in self.amounts]
        )
        ShortageOccupation.objects.bulk_create([ShortageOccupation(**s) for s in self.shortages])


def _fields(obj) -> dict:
    """A row's concrete fields by attribute name, without its primary key."""
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if not f.primary_key}


_policy_snapshots: dict = {}


def subsidy_policies(*, demo: bool = True) -> None:
    """The seed subsidy policies (subsidies/data/policies.json) as `load_subsidy_policies` leaves them, and with
    `demo` the demo's 2026 continuation (demo_policies.json) as seed_demo loads it: the policy versions, their
    amounts and the shortage lists. Into a database without policies, the first call of a session runs the real
    loads and remembers their rows, and later calls write the same rows directly (without the loads' audit entry);
    into one that has some already, the real loads run."""
    from subsidies.models import PolicyAmount, ShortageOccupation, SubsidyPolicy
    from subsidies.policies import DATA_FILE, DEMO_FILE, policies_load

    paths = (DATA_FILE, DEMO_FILE) if demo else (DATA_FILE,)
    if any(m.objects.exists() for m in (SubsidyPolicy, PolicyAmount, ShortageOccupation)):
        for path in paths:
            policies_load(path=path)
        return
    snapshot = _policy_snapshots.get(paths)
    if snapshot is None:
        snapshot = _policy_snapshots[paths] = _PolicySnapshot(paths)
        snapshot.take()
    else:
        snapshot.restore()
