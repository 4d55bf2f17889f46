"""Demo data for the foundation: bureaus and their officers, the people who work on the platform, one login per
role; the steps above (accreditation.demo, ...) add the organisations and what they do. Idempotent."""

from dataclasses import dataclass, field

from django.db import transaction
from stdnum.cn import ric, uscc

from .actors import Actor
from .binding import identity_bind
from .models import BindingChannel, Bureau, Membership, Person, Role, User
from .second_factor import demo_totp_device, requires_second_factor, secret_text
from .services import person_get_or_create

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
    """`real_name`: what the pages call a staff account without a bound person (greeting, 承办人, 导入人 columns)."""
    user = User.objects.filter(username=username).first()
    if user is None:
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


def demo_bind(user: User, person: Person) -> None:
    """The demo's people had their papers checked at a service window; their accounts are bound the only way
    there is, through accounts.binding, with that check as the evidence."""
    identity_bind(
        actor=Actor.platform(),
        user=user,
        person=person,
        channel=BindingChannel.BUREAU,
        evidence={"demo": "证件现场核验(演示数据)"},
    )


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
    _user(ctx, "assessor1", "考评员 · 长春华信", person=ctx.people["assessor"])
    _member(
        _user(ctx, "supervisor1", "督导员(外督)· 长春市人社局", person=ctx.people["supervisor"]),
        Role.SUPERVISOR,
        bureau=ctx.bureaus["changchun"],
    )
    _user(ctx, "trainer1", "培训教师 · 长春华信", person=ctx.people["trainer"])
    _member(_user(ctx, "worker1", "劳动者 · 张伟", person=ctx.people["worker"]), Role.WORKER)


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
