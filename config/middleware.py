import logging
import re
import uuid

from core.context import request_id_var
from core.errors import HTTP_CODES, error_response

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Gives every request an id (kept from a sane X-Request-ID), for logs and the audit log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(rid)
        request.request_id = rid
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = rid
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or "-"
        return True


class ApiJsonErrorsMiddleware:
    """Under /api/, an error response that is not JSON (405 from routing, a 404 from the URL resolver,
    a CSRF page) is replaced by the platform's JSON error shape. Never an HTML page from the API."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            status = response.status_code
            new = error_response(
                status,
                HTTP_CODES.get(status, "server_error" if status >= 500 else "error"),
                response.reason_phrase,
            )
            if status == 405 and response.has_header("Allow"):
                new["Allow"] = response["Allow"]
            return new
        return response


class RejectNulCharactersMiddleware:
    """A NUL character in a query or form value can never be stored or compared by PostgreSQL (it raises): refuse
    the request up front, as 422 JSON under /api/ and a 400 page elsewhere (found by the schema fuzzing)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._has_nul(request):
            from django.shortcuts import render
            from django.utils.translation import gettext as _

            message = _("输入包含不允许的控制字符")
            if request.path.startswith("/api/"):
                return error_response(422, "validation_failed", message)
            return render(request, "error.html", {"message": message}, status=400)
        return self.get_response(request)

    @staticmethod
    def _has_nul(request) -> bool:
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            return True
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            return any("\x00" in v for values in request.POST.lists() for v in values[1])
        return False


class PlatformErrorPageMiddleware:
    """Pages raise the same errors as services; this turns them into the page a person should see."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.contrib.auth.views import redirect_to_login
        from django.shortcuts import render

        from core.errors import NotAuthenticated, NotFound, PermissionDenied, PlatformError

        from .api import DATABASE_DOWN, database_unavailable_response
        from .views import database_unavailable_page

        if request.path.startswith("/api/"):
            # The API's own handlers answer its errors; this is for plain views under /api/ (the scan API).
            return database_unavailable_response() if isinstance(exception, DATABASE_DOWN) else None
        if isinstance(exception, DATABASE_DOWN):  # also with DEBUG on: a restart is not a bug to debug
            return database_unavailable_page(request)
        if not isinstance(exception, PlatformError):
            return None
        if isinstance(exception, NotAuthenticated):
            return redirect_to_login(request.get_full_path())
        if isinstance(exception, NotFound):
            return render(request, "404.html", status=404)
        if isinstance(exception, PermissionDenied):
            return render(request, "403.html", {"message": exception.message}, status=403)
        return render(request, "error.html", {"message": exception.message}, status=exception.status)
