import sys

from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.cache import cache_control

from accounts.actors import Actor
from accounts.models import Role
from core import db_routing
from core.errors import error_response

from .api import DATABASE_DOWN, RETRY_AFTER_SECONDS, database_unavailable_response
from .home import todos_for


def _answers(alias: str) -> bool:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def healthz(request):
    """Whether this node can serve, for load balancers: 200 `ok` when the primary database answers, else 503
    (`degraded` when the replica can still serve public reads, `database_unavailable` when not). With
    `?serve=public` the question is whether it can serve public reads (verification, the directory, the public
    lists): 200 `degraded` too. A balancer checks public reads' nodes with the latter and everything else with the
    former (deploy/cluster's HAProxy: two backends): every node shares the primary, and a balancer that took them
    all out for it stopped verification too, as the PgBouncer drill showed; a node cut off from the primary alone
    is still out for everything else."""
    if _answers(DEFAULT_DB_ALIAS):
        return JsonResponse({"status": "ok"})
    if db_routing.replica_configured() and db_routing.choose_public_alias() == db_routing.REPLICA:
        # The replica answers and has replayed every certificate change: public reads can be served.
        degraded = {"status": "degraded", "primary": "database_unavailable", "replica": "ok"}
        return JsonResponse(degraded, status=200 if request.GET.get("serve") == "public" else 503)
    return JsonResponse({"status": "database_unavailable"}, status=503)


# The home page's panels, in this order; each shows its role's to-do list (config/home.py) and its usual pages.
HOME_PANELS = [
    (Role.OPERATOR, "operator"),
    (Role.BUREAU_STAFF, "bureau"),
    (Role.ORG_ADMIN, "org_admin"),
    (Role.ASSESSOR, "assessor"),
    (Role.SUPERVISOR, "supervisor"),
    (Role.TRAINER, "trainer"),
    (Role.WORKER, "worker"),
]


def home(request):
    """The landing page: public entry points for visitors; for a signed-in person, a to-do list per role."""
    actor = Actor.from_request(request)
    if not actor.is_authenticated:
        return render(request, "home/public.html")
    roles = set(actor.roles)
    if actor.person is not None:
        roles.add(Role.WORKER)
    panels = [{"name": name, "todos": todos_for(actor, role)} for role, name in HOME_PANELS if role in roles]
    return render(
        request,
        "home/dashboard.html",
        {
            "panels": panels,
            "memberships": actor.memberships,
            # Only an employer files subsidy claims for its staff (subsidies.views.employer).
            "employer_admin": any(
                m.role == Role.ORG_ADMIN and m.organisation and m.organisation.kind == m.organisation.Kind.EMPLOYER
                for m in actor.memberships
            ),
        },
    )


@cache_control(public=True, max_age=86400)
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says; send them to the static file (hashed in production)."""
    return HttpResponsePermanentRedirect(static("favicon.ico"))


def handler_404_view(request, exception=None):
    if request.path.startswith("/api/"):
        return error_response(404, "not_found", "未找到")
    return render(request, "404.html", status=404)


def handler_500_view(request):
    # Django calls this inside its `except` block, so the exception is at hand: a database that is restarting or
    # unreachable is a temporary 503 with Retry-After, not a server fault (bench/fault_db_restart.py).
    if isinstance(sys.exc_info()[1], DATABASE_DOWN):
        if request.path.startswith("/api/"):
            return database_unavailable_response()
        return database_unavailable_page(request)
    if request.path.startswith("/api/"):
        return error_response(500, "server_error", "服务器内部错误,请稍后再试")
    return render(request, "500.html", status=500)


def database_unavailable_page(request):
    response = render(request, "503.html", status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def ping(request):
    """A bare JSON view with no database: the yardstick the verification benchmark compares against."""
    return JsonResponse({"status": "ok"})
