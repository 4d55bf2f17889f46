"""Certificates after issue: who may see them, and status changes (revoke, suspend, reinstate, replace, reissue)."""

import datetime

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as _noop

from accounts.actors import Actor
from accounts.models import Role
from core.audit import audit_record
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.notifications import notify
from occupations.models import Region

from . import signing
from .credentials import status_lists_invalidate
from .ecert import identifier_for
from .issuance import allocate_numbers, printed_fields, token_algorithm
from .models import Certificate
from .signals import EVENT_FOR_ACTION, certificate_event
from .status_index import certificates_insert

# --- Reads -------------------------------------------------------------------------------------------------


def certificates_for(actor: Actor) -> QuerySet[Certificate]:
    """Holders see their own; organisations what they issued; bureau staff what was issued in their region."""
    qs = Certificate.objects.select_related("level", "occupation", "organisation", "person")
    if actor.is_operator:
        return qs
    q = Q(organisation_id__in=actor.organisation_ids(Role.ORG_ADMIN)) | Region.code_within_q(
        "region_code", actor.bureau_prefixes
    )
    if actor.person is not None:
        q |= Q(person=actor.person)
    return qs.filter(q)


def certificate_get(actor: Actor, certificate_id: int) -> Certificate:
    cert = certificates_for(actor).filter(pk=certificate_id).first()
    if cert is None:
        raise NotFound()
    return cert


# --- Status changes ----------------------------------------------------------------------------------------


def _for_change(actor: Actor, certificate_id: int) -> Certificate:
    cert = Certificate.objects.select_for_update().select_related("level").filter(pk=certificate_id).first()
    if cert is None or not certificates_for(actor).filter(pk=certificate_id).exists():
        raise NotFound()
    issuer = cert.organisation_id in actor.organisation_ids(Role.ORG_ADMIN)
    region = Region.objects.filter(code=cert.region_code).first()
    bureau = actor.is_operator or (region is not None and actor.oversees_region(region))
    if not (issuer or bureau):
        raise PermissionDenied(_("只有发证机构或所在地人社部门可以变更证书状态"))
    return cert


def _change(
    actor: Actor,
    cert: Certificate,
    *,
    to: str,
    allowed: tuple,
    action: str,
    reason: str,
    effective_on: datetime.date | None,
) -> Certificate:
    if cert.status not in allowed:
        raise Conflict(_("证书当前状态为“%(s)s”,不能执行此操作") % {"s": cert.get_status_display()})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写理由(将公开显示)"), details={"field": "reason"})
    before = {"status": cert.status, "status_reason": cert.status_reason}
    cert.status, cert.status_reason = to, reason[:255]
    cert.status_changed_on = effective_on or timezone.localdate()
    cert.save(update_fields=["status", "status_reason", "status_changed_on"])
    transaction.on_commit(status_lists_invalidate)
    holder_notify(cert, action=action)
    audit_record(
        actor=actor,
        action=f"certificate.{action}",
        obj=cert,
        before=before,
        after={"status": to, "status_reason": cert.status_reason, "effective_on": cert.status_changed_on},
        reason=reason,
        region_code=cert.region_code,
        organisation_id=cert.organisation_id,
    )
    certificate_event.send(
        sender=Certificate, event=EVENT_FOR_ACTION[action], certificates=[cert], actor=actor, reason=cert.status_reason
    )
    return cert


_HOLDER_NOTICES = {
    "revoke": (
        _noop("您的证书已被撤销"),
        _noop(
            "证书 %(n)s 已于 %(d)s 撤销。理由:%(r)s。撤销后的证书不能作为持证证明;如有异议,请联系发证机构或当地人社部门。"
        ),
    ),
    "suspend": (
        _noop("您的证书已被暂停"),
        _noop("证书 %(n)s 自 %(d)s 起暂停。理由:%(r)s。暂停期间证书不能作为持证证明。"),
    ),
    "reinstate": (_noop("您的证书已恢复有效"), _noop("证书 %(n)s 已于 %(d)s 恢复有效。说明:%(r)s。")),
    "replace": (_noop("您的证书已换发"), _noop("证书 %(n)s 已于 %(d)s 换发为新证书,原证书作废。理由:%(r)s。")),
    "reissue": (
        _noop("您的证书已补发"),
        _noop("证书 %(n)s 已于 %(d)s 补发(同一编号的新一份),原件二维码仍然有效。说明:%(r)s。"),
    ),
}


def holder_notify(cert: Certificate, *, action: str, reason: str = "") -> None:
    """Tell the holder (every account bound to them) what happened to their certificate and why."""
    from accounts.models import User

    title, body = _HOLDER_NOTICES[action]
    day = cert.status_changed_on or timezone.localdate()
    notify(
        users=list(User.objects.filter(person_id=cert.person_id)),
        title=_(title),
        body=_(body) % {"n": cert.number, "d": day.isoformat(), "r": reason or cert.status_reason},
        link=f"/certificates/{cert.id}/",
    )


@transaction.atomic
def certificate_revoke(
    *, actor: Actor, certificate_id: int, reason: str, effective_on: datetime.date | None = None
) -> Certificate:
    cert = _for_change(actor, certificate_id)
    return _change(
        actor,
        cert,
        to=Certificate.Status.REVOKED,
        action="revoke",
        reason=reason,
        effective_on=effective_on,
        allowed=(Certificate.Status.VALID, Certificate.Status.SUSPENDED),
    )


@transaction.atomic
def certificate_suspend(
    *, actor: Actor, certificate_id: int, reason: str, effective_on: datetime.date | None = None
) -> Certificate:
    cert = _for_change(actor, certificate_id)
    return _change(
        actor,
        cert,
        to=Certificate.Status.SUSPENDED,
        action="suspend",
        reason=reason,
        effective_on=effective_on,
        allowed=(Certificate.Status.VALID,),
    )


@transaction.atomic
def certificate_reinstate(*, actor: Actor, certificate_id: int, reason: str) -> Certificate:
    cert = _for_change(actor, certificate_id)
    return _change(
        actor,
        cert,
        to=Certificate.Status.VALID,
        action="reinstate",
        reason=reason,
        effective_on=None,
        allowed=(Certificate.Status.SUSPENDED,),
    )


@transaction.atomic
def certificate_reissue(*, actor: Actor, certificate_id: int, reason: str) -> Certificate:
    """补发: a lost certificate's new copy, with the same number and data. The copy count (and the e-certificate
    identifier's version) goes up; the token is unchanged, so the lost copy's QR code still verifies, as the rule
    for a reissue says. Distinct from 换发 (certificate_replace), which corrects data under a new number."""
    cert = _for_change(actor, certificate_id)
    issuer = cert.organisation_id in actor.organisation_ids(Role.ORG_ADMIN)
    if not (issuer or actor.is_operator or (cert.organisation_id is None)):
        raise PermissionDenied(_("补发证书须由发证机构办理"))
    if cert.status != Certificate.Status.VALID:
        raise Conflict(_("只有有效证书可以补发"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写补发原因"), details={"field": "reason"})
    before = {"copies": cert.copies, "ecert_id": cert.ecert_id}
    cert.copies += 1
    if cert.ecert_id:
        cert.ecert_id = identifier_for(cert, version=cert.copies) or cert.ecert_id
    cert.save(update_fields=["copies", "ecert_id"])
    audit_record(
        actor=actor,
        action="certificate.reissue",
        obj=cert,
        before=before,
        after={"copies": cert.copies, "ecert_id": cert.ecert_id},
        reason=reason,
        region_code=cert.region_code,
        organisation_id=cert.organisation_id,
    )
    holder_notify(cert, action="reissue", reason=reason)
    return cert


CORRECTABLE = ("holder_name", "work_type")


@transaction.atomic
def certificate_replace(*, actor: Actor, certificate_id: int, reason: str, corrections: dict) -> Certificate:
    """A corrected certificate with a new number supersedes the old, which then verifies as superseded."""
    cert = _for_change(actor, certificate_id)
    if cert.organisation_id not in actor.organisation_ids(Role.ORG_ADMIN) and not actor.is_operator:
        raise PermissionDenied(_("换发证书须由发证机构办理"))
    if cert.status != Certificate.Status.VALID:
        raise Conflict(_("只有有效证书可以换发"))
    unknown = set(corrections) - set(CORRECTABLE)
    if unknown:
        raise ValidationFailed(_("只能更正姓名或工种"), details={"fields": sorted(unknown)})
    prefix = cert.organisation.number_prefix
    today = timezone.localdate()
    number = allocate_numbers(prefix, today, cert.level, 1)[0]
    new = Certificate(
        number=number,
        kind=cert.kind,
        person=cert.person,
        organisation=cert.organisation,
        occupation=cert.occupation,
        level=cert.level,
        holder_name=cert.holder_name,
        id_type=cert.id_type,
        id_number=cert.id_number,
        occupation_name=cert.occupation_name,
        work_type=cert.work_type,
        organisation_name=cert.organisation_name,
        issued_on=today,
        region_code=cert.region_code,
        note=_("换发自%(n)s") % {"n": cert.number},
    )
    for key, value in corrections.items():
        setattr(new, key, str(value).strip())
    new.token = signing.token_sign(number, printed_fields(new), alg=token_algorithm(new.region_code))
    certificates_insert([new])
    cert.superseded_by = new  # set before _change announces the replacement, saved just after
    _change(
        actor,
        cert,
        to=Certificate.Status.SUPERSEDED,
        action="replace",
        reason=reason,
        effective_on=today,
        allowed=(Certificate.Status.VALID,),
    )
    cert.save(update_fields=["superseded_by"])
    return new
