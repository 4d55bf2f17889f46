"""Whose subscriptions and deliveries an actor may see: an organisation admin (or its API token) its own
organisation's, the operator all; anyone else none (another tenant's object is a 404)."""

from django.db.models import QuerySet

from accounts.actors import Actor
from accounts.models import Role

from .models import Delivery, Subscription


def subscriptions_for(actor: Actor) -> QuerySet[Subscription]:
    actor.require_authenticated()
    qs = Subscription.objects.select_related("organisation")
    if actor.is_operator:
        return qs
    return qs.filter(organisation_id__in=actor.organisation_ids(Role.ORG_ADMIN))


def deliveries_for(actor: Actor) -> QuerySet[Delivery]:
    return Delivery.objects.filter(subscription__in=subscriptions_for(actor)).select_related("subscription")
