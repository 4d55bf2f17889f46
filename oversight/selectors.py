from django.db.models import Q, QuerySet

from accounts.actors import Actor
from accounts.models import Role
from core.models import AuditEntry
from occupations.models import Region


def audit_entries_for(actor: Actor, *, filters: dict) -> QuerySet[AuditEntry]:
    """Audit entries visible to the actor: bureau staff their region, organisation admins their own."""
    actor.require_authenticated()
    qs = AuditEntry.objects.order_by("-seq")
    if not actor.is_operator:
        q = Region.code_within_q("region_code", actor.bureau_prefixes)
        q |= Q(organisation_id__in=actor.organisation_ids(Role.ORG_ADMIN))
        qs = qs.filter(q)
    if filters.get("object_type"):
        qs = qs.filter(object_type=filters["object_type"])
    if filters.get("object_id"):
        qs = qs.filter(object_id=filters["object_id"])
    if filters.get("actor"):
        who = filters["actor"]
        qs = qs.filter(
            Q(actor_label__icontains=who)
            | Q(actor__person__name__icontains=who)
            | Q(actor__first_name__icontains=who)
            | Q(actor__last_name__icontains=who)
        )
    if filters.get("action"):
        qs = qs.filter(action__startswith=filters["action"])
    if filters.get("since"):
        qs = qs.filter(at__gte=filters["since"])
    if filters.get("until"):
        qs = qs.filter(at__lte=filters["until"])
    return qs
