"""Demo data for the foundation: bureaus and their officers, the people who work on the platform, one login per
role; the steps above (accreditation.demo, ...) add the organisations and what they do. Idempotent."""

from dataclasses import dataclass, field

from django.db import transaction
from stdnum.cn import ric, uscc

from .actors import Actor
from .binding_codes import binding_code_issue, binding_code_redeem
from .invitations import invitation_accept, invitation_create
from .models import BindingCode, Bureau, Membership, Person, Role, User
from .second_factor import demo_totp_device, requires_second_factor, secret_text
from .services import account_signup, person_get_or_create

DEMO_PASSWORD = "demo-2026"


def valid_ric(prefix17: str) -> str:
    return prefix17 + ric.calc_check_digit(prefix17 + "0")


def valid_uscc(prefix17: str) -> str:
    return prefix17 + uscc.calc_check_digit(prefix17 + "0")


@dataclass
class DemoContext:
    """What each app's demo step made, for the next step to build on, and the logins to print."""

    logins: list[tuple[str, str, str]] = field(default_factory=list)
    users: dict[str, User] = field(default_factory=dict)
    bureaus: dict[str, Bureau] = field(default_factory=dict)
    organisations: dict = field(default_factory=dict)  # accreditation.Organisation by key
    people: dict[str, Person] = field(default_factory=dict)
    urls: list[tuple[str, str]] = field(default_factory=list)
    filings: dict = field(default_factory=dict)
    plans: dict = field(default_factory=dict)


def _user(
    ctx: DemoContext,
    username: str,
    label: str,
    *,
    superuser: bool = False,
    person: Person | None = None,
    real_name: str = "",
):
    """A demo login. People who work on the platform or sign up as workers get theirs as anyone does: they sign up
    (account_signup) and bind by a code from the bureau's window (demo_bind); officers and organisation admins are
    the demo's starting point and are made directly. `real_name`: what the pages call a staff account without a
    bound person (greeting, 承办人, 导入人 columns)."""
    user = User.objects.filter(username=username).first()
    if user is None and person is not None:
        user = account_signup(actor=Actor.anonymous(), username=username, password=DEMO_PASSWORD)
    elif user is None:
        user = User(username=username, is_staff=superuser, is_superuser=superuser)
        user.set_password(DEMO_PASSWORD)
        user.save()
    if real_name and not user.get_full_name():
        user.first_name = real_name
        user.save(update_fields=["first_name"])
    if person is not None and user.person_id is None:
        demo_bind(user, person)
    ctx.users[username] = user
    ctx.logins.append((username, DEMO_PASSWORD, label))
    return user


DEMO_WINDOW = "长春市人力资源和社会保障局"


def demo_bind(user: User, person: Person) -> None:
    """The demo's people had their papers checked at the Changchun bureau's service window, which handed each a
    one-time binding code; each then binds their own account with it (accounts.binding_codes), as a person without
    the identity provider does. So the demo walks the binding-code path every time it runs."""
    bureau = Bureau.objects.get(name=DEMO_WINDOW)
    officer = Membership.objects.filter(bureau=bureau, role=Role.BUREAU_STAFF).select_related("user").first()
    code = binding_code_issue(
        actor=Actor.for_user(officer.user), person=person, place=BindingCode.Place.BUREAU_WINDOW, bureau=bureau
    )
    binding_code_redeem(
        actor=Actor.for_user(user),
        user=user,
        name=person.name,
        id_type=person.id_type,
        id_number=person.id_number,
        code=code,
    )
    user.refresh_from_db()


def demo_accept_invitation(
    *, inviter: Actor, user: User, role: str, organisation_id: int | None = None, bureau_id: int | None = None
) -> None:
    """The organisation (or bureau) invites the appointed person and the person's own bound account accepts
    (accounts.invitations): the only way the demo's assessors, trainers and supervisors get their roles."""
    if Membership.objects.filter(user=user, role=role, organisation_id=organisation_id, bureau_id=bureau_id).exists():
        return
    person = user.person
    _invitation, raw = invitation_create(
        actor=inviter,
        role=role,
        name=person.name,
        id_type=person.id_type,
        id_number=person.id_number,
        organisation_id=organisation_id,
        bureau_id=bureau_id,
    )
    invitation_accept(actor=Actor.for_user(user), token=raw)


def _member(user: User, role: str, *, bureau=None, organisation=None) -> None:
    Membership.objects.get_or_create(user=user, role=role, bureau=bureau, organisation=organisation)


@transaction.atomic
def seed(ctx: DemoContext) -> None:
    """Bureaus of the demo province, their officers, and the people (with bound accounts) who will be appointed;
    their organisation roles come with the organisations (accreditation.demo). The reference data is loaded by
    the step before (occupations.demo)."""
    system = Actor.platform()
    _user(ctx, "admin", "平台运维(Django 管理后台)", superuser=True, real_name="吴运维")

    for key, name, code in [
        ("jilin_province", "吉林省人力资源和社会保障厅", "220000"),
        ("changchun", "长春市人力资源和社会保障局", "220100"),
        ("jilin_city", "吉林市人力资源和社会保障局", "220200"),
    ]:
        region = Bureau._meta.get_field("region").related_model.objects.get(code=code)  # occupations.Region
        ctx.bureaus[key], _ = Bureau.objects.get_or_create(name=name, defaults={"region": region})
    for username, key, label, real_name in [
        ("jl_officer", "jilin_province", "人社部门 · 吉林省人社厅(全省)", "郑国强"),
        ("cc_officer", "changchun", "人社部门 · 长春市人社局", "刘芳"),
        ("cc_officer2", "changchun", "人社部门 · 长春市人社局(复核)", "赵强"),
        ("jlc_officer", "jilin_city", "人社部门 · 吉林市人社局", "孙丽"),
    ]:
        _member(_user(ctx, username, label, real_name=real_name), Role.BUREAU_STAFF, bureau=ctx.bureaus[key])

    people = {
        "assessor": ("李建国", valid_ric("22010219880312201"), "13500000001"),
        "supervisor": ("周敏", valid_ric("22010419900521402"), "13500000002"),
        "trainer": ("陈晓东", valid_ric("22010219920910103"), "13500000003"),
        "worker": ("张伟", valid_ric("22010219950101223"), "13500000004"),
    }
    for key, (name, id_number, phone) in people.items():
        ctx.people[key] = person_get_or_create(actor=system, name=name, id_type="ric", id_number=id_number, phone=phone)
    # Signed up and bound; their roles come by invitation once they are appointed (accreditation.demo).
    _user(ctx, "assessor1", "考评员 · 长春华信", person=ctx.people["assessor"])
    _user(ctx, "supervisor1", "督导员(外督)· 长春市人社局", person=ctx.people["supervisor"])
    _user(ctx, "trainer1", "培训教师 · 长春华信", person=ctx.people["trainer"])
    _user(ctx, "worker1", "劳动者 · 张伟", person=ctx.people["worker"])  # a worker needs no role, only the binding


def second_factors(ctx: DemoContext) -> list[tuple[str, str, str]]:
    """Each demo staff login gets an authenticator whose secret is printed (it is a demo: the secret is public,
    like the password), so a newcomer can add it to a phone app or ask `manage.py demo_totp_code` for the code.
    Returns (username, otpauth URI, secret as text)."""
    printed = []
    for username, _password, _label in ctx.logins:
        user = ctx.users[username]
        if requires_second_factor(Actor.for_user(user)):
            device = demo_totp_device(user)
            printed.append((username, device.config_url, secret_text(device.key)))
    return printed
