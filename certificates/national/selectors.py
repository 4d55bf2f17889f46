"""Who sees which reporting records: organisations their own, bureau staff their region's, the operator all."""

import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import Role
from occupations.models import Region

from .models import ReportRecord


def records_for(actor: Actor) -> QuerySet[ReportRecord]:
    actor.require_authenticated()
    qs = ReportRecord.objects.select_related("organisation", "resent_as")
    if actor.is_operator:
        return qs
    q = Q(organisation_id__in=actor.organisation_ids(Role.ORG_ADMIN)) | Region.code_within_q(
        "region_code", actor.bureau_prefixes
    )
    return qs.filter(q)


def overdue(qs: QuerySet[ReportRecord], today: datetime.date | None = None) -> QuerySet[ReportRecord]:
    """Past their deadline and not (yet) in the national database: waiting, failing, held or rejected."""
    today = today or timezone.localdate()
    return qs.filter(status__in=ReportRecord.OPEN, due_on__lt=today)
