"""Revoking many certificates at once: a whole assessment session found fraudulent, with one public reason.

First a preview (what the selection touches: how many certificates would be revoked, which are already revoked or
replaced, which the actor may not change, how many holders will be told), then the revocation: one transaction, one
UPDATE, one audit entry naming every number, one notice to each holder, one certificate event, and the status lists
and the verification caches refreshed once, whatever the number of certificates.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import Role, User
from assessments.plans import plan_get
from core.audit import audit_record
from core.errors import NotFound, ValidationFailed
from core.notifications import notify
from occupations.models import Region

from . import verification_cache
from .credentials import status_lists_invalidate
from .models import Certificate
from .services import certificates_for
from .signals import REVOKED, certificate_event

#: A bulk revocation names at most this many certificates by number (a plan takes all of its own).
MAX_NUMBERS = 5000
REVOCABLE = (Certificate.Status.VALID, Certificate.Status.SUSPENDED)


@dataclass
class BulkPreview:
    """What a bulk revocation would do; the page and the API show it before anything changes."""

    to_revoke: list[Certificate] = field(default_factory=list)
    already: list[str] = field(default_factory=list)  # numbers already revoked or replaced: left as they are
    not_allowed: list[str] = field(default_factory=list)  # numbers the actor sees but may not change
    unknown: list[str] = field(default_factory=list)  # numbers asked for that the actor cannot see
    holders_notified: int = 0

    def as_dict(self) -> dict:
        return {
            "to_revoke": len(self.to_revoke),
            "numbers": [c.number for c in self.to_revoke],
            "already_revoked": self.already,
            "not_allowed": self.not_allowed,
            "unknown": self.unknown,
            "holders_notified": self.holders_notified,
        }


def _selection(actor: Actor, *, plan_id: int | None, numbers: list[str] | None):
    if plan_id is None and not numbers:
        raise ValidationFailed(_("请选择认定计划或填写证书编号"), details={"field": "numbers"})
    wanted = sorted({(n or "").strip().upper() for n in numbers or [] if (n or "").strip()})
    if len(wanted) > MAX_NUMBERS:
        raise ValidationFailed(_("一次最多撤销%(n)d张证书") % {"n": MAX_NUMBERS}, details={"field": "numbers"})
    q = Q()
    if plan_id is not None:
        plan_get(actor, plan_id)  # another organisation's plan is a 404, as everywhere
        q |= Q(registration__plan_id=plan_id)
    if wanted:
        q |= Q(number__in=wanted)
    visible = certificates_for(actor).filter(q).order_by("number")
    return wanted, visible


def _may_change(actor: Actor, cert: Certificate, overseen: dict[str, bool]) -> bool:
    """The rule of the single status change (services._for_change): the issuing organisation's admin, the bureau
    of the certificate's region, or the operator."""
    if actor.is_operator or cert.organisation_id in actor.organisation_ids(Role.ORG_ADMIN):
        return True
    if cert.region_code not in overseen:
        region = Region.objects.filter(code=cert.region_code).first()
        overseen[cert.region_code] = region is not None and actor.oversees_region(region)
    return overseen[cert.region_code]


def revocation_preview(*, actor: Actor, plan_id: int | None = None, numbers: list[str] | None = None) -> BulkPreview:
    wanted, visible = _selection(actor, plan_id=plan_id, numbers=numbers)
    preview = BulkPreview()
    overseen: dict[str, bool] = {}
    seen = set()
    for cert in visible:
        seen.add(cert.number)
        if not _may_change(actor, cert, overseen):
            preview.not_allowed.append(cert.number)
        elif cert.status in REVOCABLE:
            preview.to_revoke.append(cert)
        else:
            preview.already.append(cert.number)
    preview.unknown = [n for n in wanted if n not in seen]
    if not seen:
        raise NotFound(_("没有您可以撤销的证书"))
    person_ids = {c.person_id for c in preview.to_revoke}
    preview.holders_notified = User.objects.filter(person_id__in=person_ids).count()
    return preview


@transaction.atomic
def certificates_revoke_bulk(
    *,
    actor: Actor,
    reason: str,
    plan_id: int | None = None,
    numbers: list[str] | None = None,
    effective_on: datetime.date | None = None,
) -> BulkPreview:
    """Revoke every revocable certificate of the selection that the actor may change; the others are reported, as
    in the preview. The status lists change once (one generation of cached lists), not once per certificate."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写理由(将公开显示)"), details={"field": "reason"})
    preview = revocation_preview(actor=actor, plan_id=plan_id, numbers=numbers)
    if not preview.to_revoke:
        return preview
    ids = [c.id for c in preview.to_revoke]
    # Lock the rows and take only those still revocable: a single revocation may have raced us since the preview.
    locked = list(
        Certificate.objects.select_for_update().filter(id__in=ids, status__in=REVOCABLE).order_by("id").values("id")
    )
    ids = [row["id"] for row in locked]
    preview.to_revoke = [c for c in preview.to_revoke if c.id in set(ids)]
    day = effective_on or timezone.localdate()
    Certificate.objects.filter(id__in=ids).update(
        status=Certificate.Status.REVOKED, status_reason=reason[:255], status_changed_on=day
    )
    for cert in preview.to_revoke:
        cert.status, cert.status_reason, cert.status_changed_on = Certificate.Status.REVOKED, reason[:255], day
    transaction.on_commit(status_lists_invalidate)
    verification_cache.certificates_changed([c.number for c in preview.to_revoke])
    first = preview.to_revoke[0]
    audit_record(
        actor=actor,
        action="certificate.revoke_bulk",
        object_type="certificates.certificate",
        object_id=first.id,
        after={
            "numbers": [c.number for c in preview.to_revoke],
            "plan_id": plan_id,
            "status": Certificate.Status.REVOKED,
            "effective_on": day,
        },
        reason=reason,
        region_code=first.region_code,
        organisation_id=first.organisation_id,
    )
    holders = list(User.objects.filter(person_id__in={c.person_id for c in preview.to_revoke}))
    notify(
        users=holders,
        title=_("您的证书已被撤销"),
        body=_(
            "您的证书已于 %(d)s 撤销。理由:%(r)s。撤销后的证书不能作为持证证明;如有异议,请联系发证机构或当地人社部门。"
        )
        % {"d": day.isoformat(), "r": reason[:255]},
        link="/certificates/mine/",
    )
    certificate_event.send(
        sender=Certificate, event=REVOKED, certificates=preview.to_revoke, actor=actor, reason=reason[:255]
    )
    return preview
