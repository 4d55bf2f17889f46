"""Measures taken on a case or an inspection (处理措施).

Certificate and filing measures go through their own services (certificates.services, accreditation.services),
so that the certificate's verification, the public directory and their audit entries follow by themselves; the
Sanction row records which case or inspection was the reason. Callers lock and authorise the case or
inspection first; this module checks the target lies in the actor's jurisdiction.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import Role
from accreditation import services as filings
from accreditation.models import Filing, Organisation
from accreditation.selectors import organisations_for
from certificates import services as certificates
from certificates.models import Certificate
from core.audit import audit_record
from core.errors import Conflict, NotFound, ValidationFailed
from core.notifications import notify

from .models import Complaint, Inspection, Sanction

ORGANISATION_KINDS = (
    Sanction.Kind.WARNING,
    Sanction.Kind.CRITICISM,
    Sanction.Kind.FILING_SUSPENDED,
    Sanction.Kind.FILING_REVOKED,
)


def _organisation(actor: Actor, organisation_id: int | None) -> Organisation:
    if not organisation_id:
        raise ValidationFailed(_("请指定被处理的单位"), details={"field": "organisation_id"})
    org = organisations_for(actor).filter(pk=organisation_id).first()
    if org is None:
        raise NotFound()
    return org


def _filing_in_force(org: Organisation) -> Filing:
    filing = org.filings.filter(status__in=Filing.IN_FORCE).first()
    if filing is None:
        raise Conflict(_("%(org)s 没有有效的备案,无法暂停或撤销") % {"org": org.name})
    return filing


@transaction.atomic
def sanction_apply(
    *,
    actor: Actor,
    kind: str,
    reason: str,
    reference: str,
    complaint: Complaint | None = None,
    inspection: Inspection | None = None,
    organisation_id: int | None = None,
    certificate_id: int | None = None,
) -> Sanction:
    """Carry out one measure and record it against the case or inspection named by `reference` (its number)."""
    if kind not in Sanction.Kind.values:
        raise ValidationFailed(_("未知的处理措施"), details={"field": "kind"})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写处理理由"), details={"field": "reason"})
    # The reason is shown publicly on the verification page and the directory: it names the case, not people.
    public_reason = _("%(reason)s(%(ref)s)") % {"reason": reason, "ref": reference}
    org: Organisation | None = None
    cert: Certificate | None = None
    if kind in Sanction.CERTIFICATE_KINDS:
        if not certificate_id:
            raise ValidationFailed(_("请指定证书"), details={"field": "certificate_id"})
        change = (
            certificates.certificate_suspend
            if kind == Sanction.Kind.CERTIFICATE_SUSPENDED
            else certificates.certificate_revoke
        )
        cert = change(actor=actor, certificate_id=certificate_id, reason=public_reason[:255])
    else:
        org = _organisation(actor, organisation_id)
        if kind == Sanction.Kind.FILING_SUSPENDED:
            filings.filing_suspend(actor=actor, filing_id=_filing_in_force(org).id, reason=public_reason)
        elif kind == Sanction.Kind.FILING_REVOKED:
            filings.filing_revoke(actor=actor, filing_id=_filing_in_force(org).id, reason=public_reason)
    sanction = Sanction(
        kind=kind,
        organisation=org,
        certificate=cert,
        complaint=complaint,
        inspection=inspection,
        reason=reason,
        decided_by=actor.user,
    )
    sanction.full_clean()
    sanction.save()
    audit_record(
        actor=actor,
        action="sanction.apply",
        obj=sanction,
        after={
            "kind": kind,
            "reference": reference,
            "organisation": org.id if org else None,
            "certificate": cert.number if cert else None,
        },
        reason=reason,
        region_code=org.region.code if org else cert.region_code,
        organisation_id=org.id if org else (cert.organisation_id if cert else None),
    )
    if org is not None and kind in (Sanction.Kind.WARNING, Sanction.Kind.CRITICISM):
        admins = [m.user for m in org.members.filter(role=Role.ORG_ADMIN).select_related("user")]
        notify(
            users=admins,
            title=_("监督处理决定:%(kind)s") % {"kind": sanction.get_kind_display()},
            body=public_reason,
        )
    return sanction
