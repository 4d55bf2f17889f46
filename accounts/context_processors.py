from .actors import UNBOUND_MESSAGE, Actor


def roles(request):
    if not hasattr(request, "user"):
        return {}
    actor = Actor.from_request(request)
    return {"actor": actor, "actor_roles": actor.roles, "unbound_message": UNBOUND_MESSAGE}


def sign_in_options(request):
    """Whether the login page offers real-name sign-in through the identity provider, and under which name."""
    from django.conf import settings

    return {
        "oidc_enabled": bool(settings.OIDC_ISSUER and settings.OIDC_CLIENT_ID),
        "oidc_label": settings.OIDC_PROVIDER_LABEL,
    }
