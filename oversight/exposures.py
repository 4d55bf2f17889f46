"""The public exposure list (曝光台): what was found and what was done, written only from fields chosen for
publication, so nothing about a reporter, and no full ID number, can reach it."""

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.identity import mask_name
from core.audit import audit_record
from core.errors import Conflict, NotFound, ValidationFailed
from occupations.models import Region

from .models import Complaint, Exposure, Inspection, Sanction


def exposure_publish(
    *,
    actor: Actor,
    reference: str,
    region: Region,
    category: str,
    subject: str,
    finding: str,
    measures: str,
    complaint: Complaint | None = None,
    inspection: Inspection | None = None,
    organisation_id: int | None = None,
) -> Exposure:
    """Put a closed case's or an inspection's finding on the public list, once (called inside its service's
    transaction, which has checked that the finding may be published)."""
    exposure = Exposure(
        reference=reference,
        complaint=complaint,
        inspection=inspection,
        region=region,
        category=str(category),
        subject=subject[:200],
        finding=finding,
        measures=measures,
        published_on=timezone.localdate(),
        published_by=actor.user,
    )
    exposure.full_clean(exclude=["complaint", "inspection", "published_by"])
    exposure.save()
    audit_record(
        actor=actor,
        action="exposure.publish",
        obj=exposure,
        after={"reference": exposure.reference, "subject": exposure.subject},
        region_code=region.code,
        organisation_id=organisation_id,
    )
    return exposure


@transaction.atomic
def exposure_withdraw(*, actor: Actor, exposure_id: int, reason: str) -> Exposure:
    """Take an entry off the public list (a correction); the record and its audit trail remain."""
    actor.require_bureau()
    exposure = Exposure.objects.select_for_update().select_related("region").filter(pk=exposure_id).first()
    if exposure is None or not (actor.is_operator or actor.oversees_region(exposure.region)):
        raise NotFound()
    if exposure.withdrawn_at is not None:
        raise Conflict(_("该曝光已撤下"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写撤下理由"), details={"field": "reason"})
    exposure.withdrawn_at, exposure.withdrawn_reason = timezone.now(), reason[:255]
    exposure.save(update_fields=["withdrawn_at", "withdrawn_reason"])
    audit_record(
        actor=actor,
        action="exposure.withdraw",
        obj=exposure,
        before={"withdrawn_at": None},
        after={"withdrawn_at": exposure.withdrawn_at},
        reason=reason,
        region_code=exposure.region.code,
    )
    return exposure


def exposures_public(*, region_code: str = "") -> QuerySet[Exposure]:
    """The exposure list anyone may read, optionally for one region and everything below it."""
    qs = Exposure.objects.filter(withdrawn_at__isnull=True).select_related("region")
    if region_code:
        qs = qs.filter(Region.inside_q("region", region_code))
    return qs


def exposure_sanctions(exposure: Exposure) -> list[dict]:
    """The measures behind an exposure, as the public may see them: kind and target, no internal reasons."""
    origin = Q(complaint_id=exposure.complaint_id) if exposure.complaint_id else Q(inspection_id=exposure.inspection_id)
    result = []
    for s in Sanction.objects.filter(origin).select_related("organisation", "certificate"):
        if s.certificate_id:
            target = _("证书 %(n)s(持证人 %(name)s)") % {
                "n": s.certificate.number,
                "name": mask_name(s.certificate.holder_name),
            }
        else:
            target = s.organisation.name
        result.append({"kind": s.kind, "kind_label": s.get_kind_display(), "target": target})
    return result
