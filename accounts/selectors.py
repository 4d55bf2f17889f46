"""Reads about users that several apps need."""

from .models import Role, User


def organisation_admins(organisation_id: int) -> list[User]:
    """The accounts that administer an organisation: whom to tell about its filings, inspections and objections."""
    return list(
        User.objects.filter(
            memberships__organisation_id=organisation_id, memberships__role=Role.ORG_ADMIN, is_active=True
        ).distinct()
    )
