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


class RequestLineLimitMiddleware:
    """A request target (path and query) longer than MAX_REQUEST_TARGET_BYTES gets the platform's 414: JSON under
    /api/, a page elsewhere. gunicorn (gunicorn.conf.py) lets request lines through up to its own maximum, which is
    larger, so this is the limit a client meets; what gunicorn still refuses itself it answers in the same JSON."""

    def __init__(self, get_response):
        from django.conf import settings

        self.get_response = get_response
        self.limit = settings.MAX_REQUEST_TARGET_BYTES

    def __call__(self, request):
        target = request.META.get("RAW_URI") or request.get_full_path()
        if len(target.encode("utf-8", "surrogateescape")) > self.limit:
            from django.shortcuts import render
            from django.utils.translation import gettext as _

            message = _("请求地址过长(上限%(n)d字节),请缩短查询条件") % {"n": self.limit}
            if request.path.startswith("/api/"):
                return error_response(414, "uri_too_long", message, {"limit": self.limit})
            return render(request, "error.html", {"message": message}, status=414)
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """A Content-Security-Policy on every response (pages, the admin, the API docs, JSON and files alike): scripts,
    styles, fonts and connections only from the platform itself, images also as data: URIs (the SVG icons of the
    API docs' CSS), no plugins, no <base>, forms only to the platform, never framed. No template has an inline
    script, a style attribute or an event-handler attribute (static/js/site.js does their work), so nothing needs
    'unsafe-inline' or a nonce; an injected <script> or onerror= would not run."""

    POLICY = "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.POLICY)
        return response


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


class RejectControlCharactersMiddleware:
    """Text with a control character (core/text.py: anything in Unicode's Cc category but tab, LF and CR) in the
    path, a query value or a form value is refused before any view sees it: 422 JSON under
    /api/, a 400 page elsewhere, and nothing is stored. The API's JSON bodies are checked by its parser
    (config/api.py, StrictJsonParser), where the body is decoded anyway; spreadsheet cells by core.spreadsheets;
    uploaded file names arrive with every non-printable character already removed by Django's multipart parser.

    Why refuse instead of strip: PostgreSQL cannot store NUL (the schema fuzzing found it as a 500), and a stored
    C0 character made the bureau's data report fail for the whole region (openpyxl refuses to write it)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        field = self._field_with_control_characters(request)
        if field is not None:
            from django.shortcuts import render
            from django.utils.translation import gettext as _

            message = _("输入包含不允许的控制字符")
            if request.path.startswith("/api/"):
                return error_response(422, "validation_failed", message, {"field": field})
            return render(request, "error.html", {"message": message}, status=400)
        return self.get_response(request)

    @staticmethod
    def _field_with_control_characters(request) -> str | None:
        from core.text import has_control_characters

        if has_control_characters(request.path):
            return "path"
        for key, values in request.GET.lists():
            if has_control_characters(key) or any(has_control_characters(v) for v in values):
                return key
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            for key, values in request.POST.lists():
                if has_control_characters(key) or any(has_control_characters(v) for v in values):
                    return key
        return None


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
