"""The second factor of staff accounts: a TOTP authenticator app, with single-use recovery codes (django-otp).

Who needs one is decided here and nowhere else (`requires_second_factor`): every account that holds a staff role
(bureau staff, organisation admin, assessor, supervisor, operator) or may open the Django admin. Workers and
trainers sign in with their password alone unless they also hold one of those roles.

Enrolment keeps the new secret in the session until a first code from the phone proves it was copied; only then
is a device written (and any previous one replaced). Resets are done by another administrator, never by the
user through that path, and are audited and notified.
"""

import secrets
from base64 import b32encode
from binascii import unhexlify

import segno
from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.audit import audit_record
from core.errors import NotFound, PermissionDenied, ValidationFailed
from core.notifications import notify
from core.ratelimit import failure_count, failures_blocked, failures_clear, too_many

from .actors import Actor
from .models import Membership, Role, User

SECOND_FACTOR_ROLES = frozenset({Role.OPERATOR, Role.BUREAU_STAFF, Role.ORG_ADMIN, Role.ASSESSOR, Role.SUPERVISOR})
RECOVERY_CODE_COUNT = 10
TOTP_NAME = "authenticator"
RECOVERY_NAME = "recovery"
PENDING_SESSION_KEY = "second_factor_pending_key"
FRESH_CODES_SESSION_KEY = "second_factor_fresh_codes"
LIMIT_SCOPE = "second_factor"  # wrong codes, counted per account (settings.RATE_LIMITS)


# --- who needs it, and has this session passed it ------------------------------------------------------------


def requires_second_factor(actor: Actor) -> bool:
    """A signed-in account with a staff role, or one that may open the Django admin. Tokens never (they are
    machine credentials with their own revocation); anonymous visitors have nothing to verify."""
    if actor.user is None or actor.token is not None:
        return False
    return bool(actor.roles & SECOND_FACTOR_ROLES) or actor.user.is_staff


def session_verified(request) -> bool:
    """This session passed a second factor (django_otp's OTPMiddleware reads that from the session)."""
    is_verified = getattr(getattr(request, "user", None), "is_verified", None)
    return bool(is_verified and is_verified())


def second_factor_pending(request) -> bool:
    """Signed in, required to pass a second factor, and has not yet in this session."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    # A fresh Actor, not the one cached on the request: this runs before the view, which may change roles.
    return requires_second_factor(Actor.for_user(user)) and not session_verified(request)


def totp_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-id").first()


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --- enrolment ------------------------------------------------------------------------------------------------


def pending_key(session) -> str:
    """The secret being enrolled (hex, 20 random bytes), kept in the session until a first code confirms it."""
    key = session.get(PENDING_SESSION_KEY)
    if not key:
        key = secrets.token_hex(20)
        session[PENDING_SESSION_KEY] = key
    return key


def secret_text(key_hex: str) -> str:
    """The secret as an authenticator app asks for it when typed in: base32, in groups of four."""
    b32 = b32encode(unhexlify(key_hex)).decode().rstrip("=")
    return " ".join(b32[i : i + 4] for i in range(0, len(b32), 4))


def provisioning_uri(user: User, key_hex: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return TOTPDevice(user=user, key=key_hex, name=TOTP_NAME).config_url


def qr_svg(uri: str) -> str:
    """The QR code as inline SVG, drawn by the platform (no third-party service ever sees the secret)."""
    return segno.make(uri, error="m").svg_inline(scale=4, border=2)


def _totp_step(key_hex: str, code: str, *, min_t: int | None = None) -> int | None:
    """The time step at which `code` is valid for `key_hex` (±1 step for clock skew), or None."""
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = TOTP(unhexlify(key_hex), step=30, digits=6)
    if totp.verify(int(code), tolerance=1, min_t=min_t):
        return totp.t()
    return None


def _new_recovery_codes(device: StaticDevice) -> list[str]:
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


@transaction.atomic
def second_factor_enrol(*, actor: Actor, key_hex: str, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm a new authenticator with its first code; replaces any previous one and issues fresh recovery
    codes (returned once, to be shown once). The caller has made sure the session may enrol (see the view)."""
    user = User.objects.select_for_update().get(pk=actor.user.pk)
    code = normalise_code(code)
    step = _totp_step(key_hex, code)
    if step is None:
        raise ValidationFailed(_("验证码不正确,请核对手机上显示的 6 位数字(注意手机时间是否准确)"))
    replaced = list(TOTPDevice.objects.filter(user=user).values_list("id", flat=True))
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    # last_t: the code just typed cannot be used again to sign in.
    device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, key=key_hex, confirmed=True, last_t=step)
    recovery = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = _new_recovery_codes(recovery)
    audit_record(
        actor=actor,
        action="second_factor.enrol",
        obj=user,
        before={"devices": replaced},
        after={"device": device.pk, "recovery_codes": len(codes)},
    )
    return device, codes


@transaction.atomic
def recovery_codes_regenerate(*, actor: Actor) -> list[str]:
    """New recovery codes for the actor's own account; the old ones stop working at once."""
    user = User.objects.select_for_update().get(pk=actor.user.pk)
    if totp_device(user) is None:
        raise ValidationFailed(_("请先设置手机验证器"))
    device, _created = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_NAME, defaults={"confirmed": True})
    before = device.token_set.count()
    codes = _new_recovery_codes(device)
    audit_record(
        actor=actor,
        action="second_factor.recovery_codes_regenerate",
        obj=user,
        before={"recovery_codes_left": before},
        after={"recovery_codes": len(codes)},
    )
    return codes


# --- signing in -----------------------------------------------------------------------------------------------


def normalise_code(code: str) -> str:
    """What people type: '123 456', 'abcd-efgh', 'ABCD EFGH'."""
    return "".join(ch for ch in (code or "") if ch.isalnum()).lower()[:16]


def second_factor_verify(*, request, code: str):
    """Check a code typed at sign-in against the account's authenticator (6 digits) or recovery codes (8
    characters, each good once). Wrong codes count against the account (RATE_LIMITS['second_factor']); past the
    limit nothing is checked until the window ends. On success the session is marked verified."""
    user = request.user
    key = str(user.pk)
    wait = failures_blocked(LIMIT_SCOPE, key)
    if wait is not None:
        raise too_many(wait, _("验证码错误次数过多,请 %(wait)s后再试。"))
    code = normalise_code(code)
    device = _match(user, code)
    if device is None:
        wait = failure_count(LIMIT_SCOPE, key)
        if wait is not None:
            raise too_many(wait, _("验证码错误次数过多,请 %(wait)s后再试。"))
        raise ValidationFailed(_("验证码不正确"))
    failures_clear(LIMIT_SCOPE, key)
    otp_login(request, device)
    if isinstance(device, StaticDevice):
        _recovery_code_used(user, device)
    return device


def _match(user: User, code: str):
    from django_otp import verify_token

    if len(code) == 6 and code.isdigit():
        device = totp_device(user)
    elif len(code) == 8:
        device = StaticDevice.objects.filter(user=user, confirmed=True).first()
    else:
        return None
    if device is None:
        return None
    # verify_token locks the device row: two requests with the same code cannot both pass.
    return verify_token(user, device.persistent_id, code)


def _recovery_code_used(user: User, device: StaticDevice) -> None:
    left = device.token_set.count()
    with transaction.atomic():
        audit_record(
            actor=Actor.for_user(user),
            action="second_factor.recovery_code_used",
            obj=user,
            after={"recovery_codes_left": left},
        )
        notify(
            users=[user],
            title=_("您的账号使用了一个恢复码登录"),
            body=_("剩余恢复码 %(n)d 个。如非本人操作,请立即修改密码并联系管理员重置两步验证。") % {"n": left},
        )


# --- reset by another administrator -------------------------------------------------------------------------


def resettable_users(actor: Actor) -> QuerySet[User]:
    """Accounts whose second factor `actor` may reset: the operator anyone's; an organisation admin those whose
    every organisation or bureau role lies within organisations they administer; bureau staff those whose every
    such role lies within their own bureau(s). Never the actor's own, never an operator's but by an operator."""
    actor.require_authenticated()
    if actor.token is not None or actor.user is None:
        return User.objects.none()
    users = User.objects.filter(is_active=True).exclude(pk=actor.user.pk).order_by("username")
    if actor.is_operator:
        return users.filter(Q(pk__in=Membership.objects.values("user_id")) | Q(is_staff=True) | Q(is_superuser=True))
    org_ids = actor.organisation_ids(Role.ORG_ADMIN)
    bureau_ids = {b.pk for b in actor.bureaus()}
    if not org_ids and not bureau_ids:
        return users.none()
    in_scope = Q(organisation_id__in=org_ids) | Q(bureau_id__in=bureau_ids)
    elsewhere = Membership.objects.exclude(in_scope).filter(
        Q(organisation__isnull=False) | Q(bureau__isnull=False) | Q(role=Role.OPERATOR)
    )
    return users.filter(
        pk__in=Membership.objects.filter(in_scope).values("user_id"), is_staff=False, is_superuser=False
    ).exclude(pk__in=elsewhere.values("user_id"))


@transaction.atomic
def second_factor_reset(*, actor: Actor, user_id: int, reason: str) -> User:
    """Remove another account's authenticator and recovery codes (a lost phone); the account enrols again at its
    next sign-in. Audited with the reason; the account's owner is notified."""
    actor.require_authenticated()
    if actor.user is None:
        raise PermissionDenied(_("两步验证只能由管理员本人在页面上重置"))
    if user_id == actor.user.pk:
        raise PermissionDenied(_("不能重置自己的两步验证;丢失手机请用恢复码登录后重新设置,或请其他管理员重置"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写重置原因(如:手机遗失,已电话核实本人)"), details={"field": "reason"})
    if not resettable_users(actor).filter(pk=user_id).exists():
        if actor.is_operator or not User.objects.filter(pk=user_id).exists():
            raise NotFound()
        shares = Membership.objects.filter(user_id=user_id).filter(
            Q(organisation_id__in=actor.organisation_ids(Role.ORG_ADMIN)) | Q(bureau__in=actor.bureaus())
        )
        if shares.exists():  # one of the actor's staff, who also holds roles the actor does not oversee
            raise PermissionDenied(_("该用户还在其他机构或部门任职,请由平台运维人员重置"))
        raise NotFound()
    target = User.objects.select_for_update().get(pk=user_id)
    devices = [
        {"type": d._meta.model_name, "id": d.pk, "name": d.name}
        for model in (TOTPDevice, StaticDevice)
        for d in model.objects.filter(user=target)
    ]
    TOTPDevice.objects.filter(user=target).delete()
    StaticDevice.objects.filter(user=target).delete()
    audit_record(
        actor=actor,
        action="second_factor.reset",
        obj=target,
        before={"devices": devices},
        after={"devices": []},
        reason=reason[:500],
    )
    notify(
        users=[target],
        title=_("您的两步验证已被管理员重置"),
        body=_(
            "%(who)s 重置了您的两步验证(原因:%(reason)s)。下次登录时请重新设置手机验证器。如非本人申请,请立即联系管理员。"
        )
        % {"who": actor.user.display_name, "reason": reason[:200]},
    )
    return target


def demo_totp_device(user: User) -> TOTPDevice:
    """The demo's authenticator for a demo staff account (seed_demo prints its secret). Never in production."""
    if settings.PRODUCTION:
        raise RuntimeError("demo second factors are never created in production")
    device = TOTPDevice.objects.filter(user=user, name="demo", confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="demo", confirmed=True)
        recovery = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
        _new_recovery_codes(recovery)
    return device
