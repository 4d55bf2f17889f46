"""Invitations: how people who work on the platform get their role (issue 13, item 4).

An organisation's admin invites the assessors, supervisors and trainers it has registered (its appointments); a
bureau invites its officers and the external supervisors it has registered. The link carries a random token (only
its digest is stored), expires, and can be revoked. The invitee signs up or signs in, binds the account to the
invited person by proof (the identity provider or a binding code; accounts.binding), and accepts: only then is
the role granted. Nobody grants themselves a role, and knowing the link is not enough: the account must be the
invited person's. Staff roles then need a second factor (accounts.second_factor), which the site asks for next.
"""

import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.notifications import notify, notify_address

from .actors import UNBOUND_MESSAGE, Actor
from .conflicts import identity_mismatch, names_match
from .identity import normalise_id_number
from .models import Bureau, Invitation, Membership, Person, Role
from .services import person_get_or_create

ORGANISATION_ROLES = (Role.ASSESSOR, Role.SUPERVISOR, Role.TRAINER)
BUREAU_ROLES = (Role.BUREAU_STAFF, Role.SUPERVISOR)

# (organisation_id | None, bureau_id | None, person_id, role) -> is there an appointment behind this invitation?
_appointment_checks: list[Callable[[int | None, int | None, int, str], bool]] = []


def appointment_check_register(check: Callable[[int | None, int | None, int, str], bool]) -> None:
    """accreditation says whether an organisation (or bureau) has appointed a person to a role; accounts sits below
    it and cannot look."""
    if check not in _appointment_checks:
        _appointment_checks.append(check)


def _appointed(organisation_id, bureau_id, person_id: int, role: str) -> bool:
    return any(check(organisation_id, bureau_id, person_id, role) for check in _appointment_checks)


def token_digest(raw: str) -> str:
    return hashlib.sha256((raw or "").strip().encode()).hexdigest()


def invitation_link(raw: str) -> str:
    return reverse("accounts:invitation", kwargs={"token": raw})


def _needs_appointment(role: str, bureau) -> bool:
    return not (bureau is not None and role == Role.BUREAU_STAFF)


def _check_inviter(actor: Actor, role: str, organisation_id, bureau_id):
    """The organisation or bureau the invitation is from, which `actor` must administer; else 404/403."""
    actor.require_authenticated()
    if (organisation_id is None) == (bureau_id is None):
        raise ValidationFailed(_("请指定邀请的机构或人社部门"), details={"field": "organisation_id"})
    if organisation_id is not None:
        if role not in ORGANISATION_ROLES:
            raise ValidationFailed(_("机构只能邀请考评员、督导员和培训教师"), details={"field": "role"})
        actor.require_org_role(organisation_id, Role.ORG_ADMIN)
        organisation = Invitation.organisation.field.related_model.objects.select_related("region").get(
            pk=organisation_id
        )
        return organisation, None
    if role not in BUREAU_ROLES:
        raise ValidationFailed(_("人社部门只能邀请工作人员和外部督导员"), details={"field": "role"})
    actor.require_bureau()
    bureau = next((b for b in actor.bureaus() if b.pk == bureau_id), None)
    if bureau is None and actor.is_operator:
        bureau = Bureau.objects.select_related("region").filter(pk=bureau_id).first()
    if bureau is None:
        raise NotFound()
    return None, bureau


def invitation_create(
    *,
    actor: Actor,
    role: str,
    name: str,
    id_type: str,
    id_number: str,
    email: str = "",
    organisation_id: int | None = None,
    bureau_id: int | None = None,
) -> tuple[Invitation, str]:
    """Invite the person named to `role`. Returns the invitation and the raw token (shown once, and e-mailed when an
    address is given). An open invitation for the same person and role there is revoked by the new one."""
    if role not in Role.values:
        raise ValidationFailed(_("未知的角色"), details={"field": "role"})
    organisation, bureau = _check_inviter(actor, role, organisation_id, bureau_id)
    id_number = normalise_id_number(id_type, id_number)
    email = (email or "").strip().lower()
    if email and ("@" not in email or len(email) > 254):
        raise ValidationFailed(_("邮箱格式不正确"), details={"field": "email"})
    if _needs_appointment(role, bureau):
        person = Person.objects.filter(id_type=id_type, id_number=id_number).first()
        if person is None or not _appointed(
            organisation.pk if organisation else None, bureau.pk if bureau else None, person.pk, role
        ):
            raise NotFound(_("请先在人员登记中登记此人(考评员、督导员或培训教师),再发出邀请"))
        if not names_match(person.name, name):
            raise identity_mismatch(
                actor=actor, person=person, claimed_name=name, source="appointment", organisation=organisation
            )
    else:  # a bureau's own officer: the bureau holds their papers as their employer
        person = person_get_or_create(actor=actor, name=name, id_type=id_type, id_number=id_number, source="bureau")
    holder = getattr(person, "user", None)
    if (
        holder is not None
        and Membership.objects.filter(user=holder, role=role, organisation=organisation, bureau=bureau).exists()
    ):
        raise Conflict(_("此人已拥有该角色,无需邀请"), code="already_member")
    raw = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        superseded = Invitation.objects.filter(
            person=person,
            role=role,
            organisation=organisation,
            bureau=bureau,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
        ).update(revoked_at=now)
        invitation = Invitation(
            person=person,
            role=role,
            organisation=organisation,
            bureau=bureau,
            token_hash=token_digest(raw),
            email=email,
            created_by=actor.user,
            expires_at=now + timedelta(days=settings.INVITATION_DAYS),
        )
        invitation.full_clean(exclude=["person", "organisation", "bureau", "created_by"])
        invitation.save()
        audit_record(
            actor=actor,
            action="invitation.create",
            obj=invitation,
            region_code=(organisation or bureau).region.code,
            organisation_id=organisation.pk if organisation else None,
            after={
                "person": person.pk,
                "role": role,
                "bureau": bureau.pk if bureau else None,
                "email": bool(email),
                "expires_at": invitation.expires_at,
                "superseded": superseded,
            },
        )
        body = _(
            "%(inviter)s邀请您担任%(role)s。请在 %(until)s 前打开链接,注册或登录账号,并通过统一身份认证或绑定码"
            "完成本人实名绑定后接受邀请。如非本人,请忽略本邮件。"
        ) % {
            "inviter": (organisation or bureau).name,
            "role": invitation.get_role_display(),
            "until": timezone.localtime(invitation.expires_at).strftime("%Y-%m-%d"),
        }
        title = _("职业技能等级认定平台:角色邀请")
        if holder is not None:
            notify(users=[holder], title=title, body=body, link=invitation_link(raw))
        if email and (holder is None or holder.email != email):
            notify_address(email=email, title=title, body=body, link=invitation_link(raw))
    return invitation, raw


def invitations_for(actor: Actor) -> QuerySet[Invitation]:
    """The invitations this actor's organisations (as admin) or bureaus have sent; the operator sees all."""
    qs = Invitation.objects.select_related("person", "organisation", "bureau", "accepted_by")
    if actor.is_operator:
        return qs
    bureau_ids = [b.pk for b in actor.bureaus()]
    org_ids = actor.organisation_ids(Role.ORG_ADMIN)
    if not bureau_ids and not org_ids:
        return qs.none()
    return qs.filter(Q(organisation_id__in=org_ids) | Q(bureau_id__in=bureau_ids))


@transaction.atomic
def invitation_revoke(*, actor: Actor, invitation_id: int) -> Invitation:
    actor.require_authenticated()
    invitation = invitations_for(actor).select_for_update(of=("self",)).filter(pk=invitation_id).first()
    if invitation is None:
        raise NotFound()
    if invitation.accepted_at is not None:
        raise Conflict(_("邀请已被接受,不能撤销;如需取消角色,请在人员管理中处理"), code="invitation_accepted")
    if invitation.revoked_at is not None:
        return invitation
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor,
        action="invitation.revoke",
        obj=invitation,
        region_code=(invitation.organisation or invitation.bureau).region.code,
        organisation_id=invitation.organisation_id,
        before={"status": "open"},
        after={"status": "revoked"},
    )
    return invitation


def invitation_by_token(raw: str) -> Invitation:
    """The invitation a link stands for, whatever its state (the page says why one cannot be accepted)."""
    invitation = (
        Invitation.objects.select_related("person", "organisation", "bureau")
        .filter(token_hash=token_digest(raw))
        .first()
    )
    if invitation is None:
        raise NotFound(_("邀请链接无效"))
    return invitation


def invitation_state(invitation: Invitation) -> str:
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= timezone.now():
        return "expired"
    return "open"


def invitation_accept(*, actor: Actor, token: str) -> Membership:
    """The signed-in invitee accepts: their account must already be bound, by proof, to the invited person."""
    actor.require_authenticated()
    if actor.user is None:
        raise PermissionDenied(_("邀请只能由本人登录后接受"))
    invitation = invitation_by_token(token)
    state = invitation_state(invitation)
    if state != "open":
        raise Conflict(
            {
                "accepted": _("该邀请已被接受"),
                "revoked": _("该邀请已撤销,请联系邀请单位重新发送"),
                "expired": _("该邀请已过期,请联系邀请单位重新发送"),
            }[state],
            code=f"invitation_{state}",
        )
    if actor.person is None:
        raise PermissionDenied(UNBOUND_MESSAGE, code="identity_unbound", details={"bind": "/accounts/me/"})
    if actor.person.pk != invitation.person_id:
        with transaction.atomic():
            audit_record(
                actor=actor,
                action="invitation.accept_refused",
                obj=invitation,
                organisation_id=invitation.organisation_id,
                after={"user": actor.user.pk, "person": actor.person.pk, "invited": invitation.person_id},
            )
        raise PermissionDenied(
            _("该邀请发给的是其他人员,您的账号不能接受。请确认链接是否发给您本人。"), code="invitation_other_person"
        )
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation_state(locked) != "open":
            raise Conflict(_("该邀请已被处理"), code="invitation_closed")
        try:
            with transaction.atomic():
                membership, created = Membership.objects.get_or_create(
                    user=actor.user, role=locked.role, organisation=locked.organisation, bureau=locked.bureau
                )
        except IntegrityError:
            membership, created = (
                Membership.objects.get(
                    user=actor.user, role=locked.role, organisation=locked.organisation, bureau=locked.bureau
                ),
                False,
            )
        locked.accepted_at = timezone.now()
        locked.accepted_by = actor.user
        locked.save(update_fields=["accepted_at", "accepted_by"])
        audit_record(
            actor=actor,
            action="invitation.accept",
            obj=locked,
            region_code=(locked.organisation or locked.bureau).region.code,
            organisation_id=locked.organisation_id,
            after={"user": actor.user.pk, "role": locked.role, "membership": membership.pk, "new": created},
        )
    actor._memberships = None  # the new role counts from now on (second factor included)
    actor.__dict__.pop("bureau_prefixes", None)
    return membership
