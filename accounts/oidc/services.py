"""What a sign-in through the identity provider does to accounts and people. Each outcome is audited.

The provider vouches for a subject (its own account id) and, at some assurance level, for a name and an ID number.
- A subject seen before signs straight into the account it belongs to (OidcIdentity).
- A new subject gets a new account; at or above the minimum assurance it is bound (accounts.binding, channel
  "oidc") to the Person with that ID number, created if the platform has none.
- A Person whose record has another name for that ID number is not bound: an IdentityConflict goes to a bureau,
  and no account is made until it is settled.
- A Person already bound to another account is refused; nothing is made.
- Below the minimum assurance, or without usable identity claims, the account is signed in but stays unbound.
- Accounts that must use a second factor (staff) are never signed into through the provider.
"""

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import Conflict, PermissionDenied

from ..actors import Actor
from ..binding import identity_bind
from ..conflicts import identity_conflict_open, name_key
from ..models import IdentityConflict, OidcIdentity, Person, User
from ..second_factor import requires_second_factor
from ..services import person_get_or_create
from .provider import Vouched

# The roles that must sign in with a password and a second factor (issue 13, item 5); never through the provider.


@dataclass
class SignIn:
    """Who to sign in (None: nobody) and what to tell them."""

    user: User | None
    outcome: str
    message: str = ""


def _trace(vouched: Vouched) -> dict:
    return {"issuer": vouched.issuer, "subject": vouched.subject, "acr": vouched.assurance}


def _refuse(actor: Actor, why: str, vouched: Vouched, error: Exception, obj=None) -> None:
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="oidc.sign_in_refused",
            obj=obj,
            object_type="" if obj else "oidc",
            after={**_trace(vouched), "why": why},
        )
    raise error


def _person_for(vouched: Vouched) -> Person | None:
    return Person.objects.filter(id_type=vouched.id_type, id_number=vouched.id_number).first()


def _same_person(user: User, vouched: Vouched) -> bool:
    person = user.person
    return person.id_type == vouched.id_type and person.id_number == vouched.id_number


def _low_assurance_message(vouched: Vouched) -> str:
    return _(
        "您在%(provider)s的实名认证等级为“%(acr)s”,实名绑定需要“%(min)s”及以上。已为您登录,但账号尚未实名:"
        "请在%(provider)s完成实人认证后重新登录,或在考场、评价机构或人社服务窗口核验身份后使用绑定码绑定。"
    ) % {
        "provider": settings.OIDC_PROVIDER_LABEL,
        "acr": vouched.assurance or _("未提供"),
        "min": settings.OIDC_MIN_ASSURANCE,
    }


def _claims_message(vouched: Vouched) -> str:
    return _("%(provider)s未提供可用的身份信息(%(problem)s),账号尚未实名。") % {
        "provider": settings.OIDC_PROVIDER_LABEL,
        "problem": vouched.problem,
    }


def _conflict_message(conflict: IdentityConflict) -> str:
    if conflict.status == IdentityConflict.Status.RECORD_KEPT:
        return _(
            "人社部门已核查该证件号码的记录并维持原姓名,因此不能通过统一身份认证绑定。"
            "如有异议,请携带身份证件到人社服务窗口办理。"
        )
    return _(
        "%(provider)s核验的姓名与平台记录中该证件号码的姓名不一致,因此暂不绑定。"
        "我们已提交人社部门核查(编号 %(id)s);核查完成后,请再次使用%(provider)s登录即可完成绑定。"
        "如需尽快办理,请携带身份证件到人社服务窗口。"
    ) % {"provider": settings.OIDC_PROVIDER_LABEL, "id": conflict.pk}


def _conflict_open(actor: Actor, person: Person, vouched: Vouched, user: User | None) -> IdentityConflict:
    """The bureau's case for this person and this name (accounts.conflicts: one service for every channel)."""
    return identity_conflict_open(
        actor=actor,
        person=person,
        claimed_name=vouched.name,
        source=IdentityConflict.Source.OIDC,
        user=user,
        context={**_trace(vouched), "provider": settings.OIDC_PROVIDER_LABEL},
    )


def _bind(actor: Actor, user: User, vouched: Vouched) -> SignIn:
    """Bind an existing account on what the provider vouched for, or say why not. Never raises for a refusal."""
    if not vouched.assurance_ok:
        return SignIn(user, "assurance_too_low", _low_assurance_message(vouched))
    if vouched.problem:
        return SignIn(user, "claims_unusable", _claims_message(vouched))
    person = _person_for(vouched)
    if person is not None and name_key(person.name) != name_key(vouched.name):
        return SignIn(user, "conflict", _conflict_message(_conflict_open(actor, person, vouched, user)))
    try:
        if person is None:
            person = person_get_or_create(
                actor=actor, name=vouched.name, id_type=vouched.id_type, id_number=vouched.id_number
            )
        identity_bind(actor=actor, user=user, person=person, channel="oidc", evidence=vouched.evidence())
    except Conflict as exc:
        return SignIn(user, exc.code, exc.message)
    user.refresh_from_db()
    return SignIn(
        user,
        "bound",
        _("已通过%(provider)s完成实名绑定:%(name)s。")
        % {
            "provider": settings.OIDC_PROVIDER_LABEL,
            "name": person.name,
        },
    )


def _new_username() -> str:
    while True:
        username = f"gov_{secrets.token_hex(5)}"
        if not User.objects.filter(username=username).exists():
            return username


def _account_create(vouched: Vouched) -> tuple[User, OidcIdentity]:
    """A new account for a new subject (no password: it signs in through the provider). Inside the caller's
    transaction."""
    user = User(username=_new_username())
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    identity = OidcIdentity(
        user=user,
        issuer=vouched.issuer,
        subject=vouched.subject,
        assurance=vouched.assurance[:64],
        last_login_at=timezone.now(),
    )
    identity.full_clean(exclude=["user"])
    identity.save()
    audit_record(
        actor=Actor.for_user(user),
        action="oidc.account_create",
        obj=user,
        after={"user": user.pk, "username": user.username, **_trace(vouched)},
    )
    return user, identity


def _signed_in(identity: OidcIdentity, vouched: Vouched, outcome: str) -> None:
    with transaction.atomic():
        OidcIdentity.objects.filter(pk=identity.pk).update(
            last_login_at=timezone.now(), assurance=vouched.assurance[:64]
        )
        audit_record(
            actor=Actor.for_user(identity.user),
            action="oidc.sign_in",
            obj=identity,
            after={"user": identity.user_id, "outcome": outcome, **_trace(vouched)},
        )


def oidc_sign_in(*, vouched: Vouched) -> SignIn:
    """Sign in through the provider: the subject's account, or a new one (bound when the proof allows)."""
    identity = (
        OidcIdentity.objects.select_related("user__person")
        .filter(issuer=vouched.issuer, subject=vouched.subject)
        .first()
    )
    if identity is not None:
        return _returning(identity, vouched)
    anonymous = Actor.anonymous()
    if not vouched.can_bind:
        try:
            with transaction.atomic():
                user, identity = _account_create(vouched)
        except IntegrityError:
            return _race_lost(vouched)
        result = _bind(Actor.for_user(user), user, vouched)
        _signed_in(identity, vouched, result.outcome)
        return result
    person = _person_for(vouched)
    if person is not None and name_key(person.name) != name_key(vouched.name):
        conflict = _conflict_open(anonymous, person, vouched, None)
        return SignIn(None, "conflict", _conflict_message(conflict))
    if person is not None and User.objects.filter(person=person).exists():
        _refuse_person_bound(anonymous, person, vouched)
    try:
        with transaction.atomic():
            user, identity = _account_create(vouched)
            actor = Actor.for_user(user)
            if person is None:
                person = person_get_or_create(
                    actor=actor, name=vouched.name, id_type=vouched.id_type, id_number=vouched.id_number
                )
            # Inside this transaction on purpose: if the binding is refused (someone bound this person a moment
            # ago), the new account goes with it, and the refusal is audited below instead.
            identity_bind(actor=actor, user=user, person=person, channel="oidc", evidence=vouched.evidence())
    except IntegrityError:
        return _race_lost(vouched)
    except Conflict as exc:
        if exc.code != "person_already_bound":
            raise
        _refuse_person_bound(anonymous, person, vouched)
    user.refresh_from_db()
    result = SignIn(
        user,
        "bound",
        _("已通过%(provider)s完成实名绑定:%(name)s。")
        % {
            "provider": settings.OIDC_PROVIDER_LABEL,
            "name": person.name,
        },
    )
    _signed_in(identity, vouched, result.outcome)
    return result


def _race_lost(vouched: Vouched) -> SignIn:
    """The same subject's first sign-in in another tab made the account a moment ago: that one is theirs."""
    identity = OidcIdentity.objects.filter(issuer=vouched.issuer, subject=vouched.subject).first()
    if identity is None:
        raise IntegrityError("no account for the subject after a unique-constraint failure")
    return _returning(identity, vouched)


def _refuse_person_bound(actor: Actor, person: Person, vouched: Vouched) -> None:
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="identity.bind_refused",
            obj=person,
            after={"person": person.pk, "channel": "oidc", "why": "person_already_bound", **_trace(vouched)},
        )
    raise Conflict(
        _(
            "该证件号码的人员已绑定另一个平台账号,本次未创建账号、未绑定。"
            "如果那是您本人的账号,请用它的用户名和密码登录,再在“我的账号”中绑定统一身份认证;"
            "如果不是您本人办理的,请携带身份证件到人社服务窗口核查。"
        ),
        code="person_already_bound",
    )


def _returning(identity: OidcIdentity, vouched: Vouched) -> SignIn:
    user = identity.user
    actor = Actor.for_user(user)
    if not user.is_active:
        _refuse(
            actor, "account_inactive", vouched, PermissionDenied(_("该账号已停用。"), code="account_inactive"), identity
        )
    if requires_second_factor(Actor.for_user(user)):
        _refuse(
            actor,
            "second_factor_required",
            vouched,
            PermissionDenied(
                _("工作人员账号须使用用户名、密码和动态口令登录,不能通过统一身份认证直接登录。"),
                code="second_factor_required",
            ),
            identity,
        )
    if user.person_id is not None:
        if vouched.id_number and not _same_person(user, vouched):
            _refuse(
                actor,
                "person_mismatch",
                vouched,
                Conflict(
                    _("身份提供方本次核验的证件与本账号已绑定的人员不一致,已拒绝登录并记录。请到人社服务窗口核查。"),
                    code="person_mismatch",
                ),
                identity,
            )
        _signed_in(identity, vouched, "signed_in")
        return SignIn(user, "signed_in")
    result = _bind(actor, user, vouched)
    _signed_in(identity, vouched, result.outcome)
    return result


def oidc_link(*, actor: Actor, vouched: Vouched) -> SignIn:
    """A signed-in account takes the provider's subject as a way in, and is bound on what the provider vouches."""
    user = User.objects.select_related("person").get(pk=actor.user.pk)
    identity = OidcIdentity.objects.filter(issuer=vouched.issuer, subject=vouched.subject).first()
    if identity is not None and identity.user_id != user.pk:
        _refuse(
            actor,
            "subject_linked_elsewhere",
            vouched,
            Conflict(_("该统一身份认证账号已关联另一个平台账号,不能再关联本账号。"), code="subject_linked_elsewhere"),
            identity,
        )
    if OidcIdentity.objects.filter(user=user, issuer=vouched.issuer).exclude(subject=vouched.subject).exists():
        _refuse(
            actor,
            "account_has_another_subject",
            vouched,
            Conflict(_("本账号已关联另一个统一身份认证账号。"), code="account_has_another_subject"),
        )
    if user.person_id is not None and vouched.id_number and not _same_person(user, vouched):
        _refuse(
            actor,
            "person_mismatch",
            vouched,
            Conflict(_("该统一身份认证账号核验的人员与本账号已绑定的人员不一致,不能关联。"), code="person_mismatch"),
        )
    if identity is None:
        with transaction.atomic():
            identity = OidcIdentity(user=user, issuer=vouched.issuer, subject=vouched.subject)
            identity.assurance = vouched.assurance[:64]
            identity.full_clean(exclude=["user"])
            try:
                with transaction.atomic():
                    identity.save()
            except IntegrityError:
                raise Conflict(
                    _("该统一身份认证账号已关联另一个平台账号,不能再关联本账号。"), code="subject_linked_elsewhere"
                ) from None
            audit_record(actor=actor, action="oidc.link", obj=identity, after={"user": user.pk, **_trace(vouched)})
    if user.person_id is not None:
        _signed_in(identity, vouched, "linked")
        return SignIn(
            user, "linked", _("已关联%(provider)s,今后可直接使用它登录。") % {"provider": settings.OIDC_PROVIDER_LABEL}
        )
    result = _bind(actor, user, vouched)
    _signed_in(identity, vouched, result.outcome)
    return result


def oidc_failure_record(*, actor: Actor, why: str, detail: str, intent: str) -> None:
    """A sign-in this browser started came back unusable (refused at the provider, a bad token, a network
    failure): audited, so that repeated failures for one account or address can be seen."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="oidc.sign_in_failed",
            object_type="oidc",
            after={"why": why[:64], "detail": detail[:300], "intent": intent, "issuer": settings.OIDC_ISSUER},
        )
