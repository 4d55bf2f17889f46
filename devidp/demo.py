"""Demo: citizens of the local identity provider for people of the demo, so that signing in through 统一身份认证
shows the whole path: a certificate holder with no account yet (created and bound on first sign-in), one whose
provider account is below the assurance needed to bind, a newcomer the platform has no record of, and worker1
(张伟), whose account is already linked and signs straight in. Runs last in seed_demo; idempotent."""

from django.conf import settings

from accounts.actors import Actor
from accounts.demo import DEMO_PASSWORD, DemoContext, valid_ric
from accounts.models import OidcIdentity, User
from accounts.oidc.provider import Vouched
from accounts.oidc.services import oidc_link
from certificates.models import Certificate

from .models import Citizen

NEWCOMER = ("citizen_new", "刘洋", valid_ric("22010319980808101"))


def _citizen(username: str, name: str, id_number: str, assurance: str) -> Citizen:
    citizen = Citizen.objects.filter(username=username).first()
    if citizen is None:
        citizen = Citizen(username=username, name=name, id_type="ric", id_number=id_number, assurance=assurance)
        citizen.set_password(DEMO_PASSWORD)
        citizen.full_clean()
        citizen.save()
    return citizen


def _holders(ctx: DemoContext) -> list:
    """Holders of valid certificates from the finished assessment who have no account: the first two by number."""
    plan = ctx.plans.get("finished")
    certs = Certificate.objects.filter(registration__plan=plan, status="valid", person__user__isnull=True)
    return [c.person for c in certs.select_related("person").order_by("number")[:2]]


def seed(ctx: DemoContext) -> None:
    lines = []
    existing = {c.username: c for c in Citizen.objects.filter(username__in=["citizen_a", "citizen_b"])}
    holders = _holders(ctx)
    for username, assurance, note in [
        ("citizen_a", "L3", "持证人,首次登录即创建账号并实名绑定,可看到证书"),
        ("citizen_b", "L2", "持证人,认证等级 L2 低于绑定所需的 L3:可登录但不绑定"),
    ]:
        citizen = existing.get(username)
        if citizen is None and holders:
            person = holders.pop(0)
            citizen = _citizen(username, person.name, person.id_number, assurance)
        if citizen is not None:
            lines.append((username, citizen.name, note))
    newcomer = _citizen(*NEWCOMER, "L3")
    lines.append((newcomer.username, newcomer.name, "平台尚无此人记录:首次登录时建档并绑定"))

    worker = ctx.users.get("worker1")
    if worker is not None and worker.person_id is not None:
        person = worker.person
        citizen = _citizen("citizen_zhangwei", person.name, person.id_number, "L3")
        if not OidcIdentity.objects.filter(user=worker, issuer=settings.OIDC_ISSUER).exists():
            oidc_link(
                actor=Actor.for_user(User.objects.get(pk=worker.pk)),
                vouched=Vouched(
                    issuer=settings.OIDC_ISSUER,
                    subject=citizen.subject,
                    assurance=citizen.assurance,
                    name=citizen.name,
                    id_type=citizen.id_type,
                    id_number=citizen.id_number,
                    problem="",
                ),
            )
        lines.append((citizen.username, citizen.name, "已关联 worker1,直接登录 worker1"))

    for username, name, note in lines:
        ctx.urls.append((f"统一身份认证登录 {username} / {DEMO_PASSWORD}({name}:{note})", "/login/"))
