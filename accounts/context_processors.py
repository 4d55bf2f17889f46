from .actors import Actor


def roles(request):
    if not hasattr(request, "user"):
        return {}
    actor = Actor.from_request(request)
    return {"actor": actor, "actor_roles": actor.roles}
