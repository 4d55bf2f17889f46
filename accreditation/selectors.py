"""Reads, scoped. `organisations_for(actor)` is the one permission helper for organisations."""

from django.db.models import Q, QuerySet

from accounts.actors import Actor
from config.errors import NotFound
from occupations.models import Region

from .models import Organisation


def organisations_for(actor: Actor) -> QuerySet[Organisation]:
    """Organisations this actor may see: operators all, bureau staff their region, members their own."""
    qs = Organisation.objects.select_related("region")
    if actor.is_operator:
        return qs
    q = Region.within_q("region", actor.bureau_prefixes) | Q(pk__in=actor.organisation_ids())
    return qs.filter(q)


def organisation_get(actor: Actor, pk: int) -> Organisation:
    """The organisation, or NotFound when it does not exist or lies outside the actor's scope."""
    org = organisations_for(actor).filter(pk=pk).first()
    if org is None:
        raise NotFound()
    return org
