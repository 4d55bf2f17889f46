from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from .api import error_response


def healthz(request):
    """Liveness and database reachability, for load balancers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return JsonResponse({"status": "ok"})
    except Exception:
        return JsonResponse({"status": "database_unavailable"}, status=503)


def handler_404_view(request, exception=None):
    if request.path.startswith("/api/"):
        return error_response(404, "not_found", "未找到")
    return render(request, "404.html", status=404)


def handler_500_view(request):
    if request.path.startswith("/api/"):
        return error_response(500, "server_error", "服务器内部错误,请稍后再试")
    return render(request, "500.html", status=500)


def ping(request):
    """A bare JSON view with no database: the yardstick the verification benchmark compares against."""
    return JsonResponse({"status": "ok"})
