"""The one NinjaAPI: mounts each app's Router under /api/v1/ and maps every error to JSON.

Errors always have the shape {"code": "...", "message": "...", "details": {...}}.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer
from ninja.security.session import SessionAuth

from accounts.actors import Actor
from accounts.models import ApiToken
from accounts.second_factor import second_factor_pending
from core.errors import HTTP_CODES, PlatformError, SecondFactorRequired, error_response
from core.text import control_character_paths

log = logging.getLogger(__name__)


class TokenAuth(HttpBearer):
    """`Authorization: Bearer sk_…` — an organisation's system acting as that organisation's admin."""

    def authenticate(self, request: HttpRequest, token: str):
        found = ApiToken.find_active(token)
        if found is None:
            return None
        found.touch()
        request.actor = Actor(token=found)
        return request.actor


class SessionActorAuth(SessionAuth):
    """The browser's session (CSRF-checked for unsafe methods). A staff account's session counts only once it has
    passed its second factor (401 `second_factor_required` before; accounts/second_factor.py)."""

    def authenticate(self, request: HttpRequest, key):
        if request.user.is_authenticated:
            request.actor = Actor.for_user(request.user)
            if second_factor_pending(request):
                raise SecondFactorRequired()
            return request.actor
        return None


class StrictJsonParser(Parser):
    """A JSON body must be the object the operation's schema describes: an array, a string, a number or null is
    refused (without this, `[null, null]` passed for a schema whose fields are all optional, since ninja's schemas
    read attributes from any object), and so is text with a control character anywhere in it (core/text.py).

    ninja turns any exception raised here into a 400 "Cannot parse request body"; `_http_error` below answers the
    ValidationError it carries as the 422 it is."""

    def parse_body(self, request: HttpRequest):
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise NinjaValidationError([{"loc": ["body"], "msg": _("请求体应为 JSON 对象"), "type": "object_type"}])
        errors = [
            {"loc": ["body", *path], "msg": _("输入包含不允许的控制字符"), "type": "control_character"}
            for path in control_character_paths(data)
        ]
        if errors:
            raise NinjaValidationError(errors)
        return data


ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "properties": {
        "code": {"type": "string", "description": "稳定的错误代码,如 not_found、validation_failed"},
        "message": {"type": "string", "description": "可读的错误说明"},
        "details": {"type": "object", "description": "字段、规则等细节"},
    },
    "required": ["code", "message", "details"],
}


class PlatformApi(NinjaAPI):
    """The NinjaAPI whose OpenAPI document also declares the errors: every operation may answer a 4xx with the one
    error shape, so clients (and the schema fuzzing in tests/test_api_fuzzing.py) can rely on it."""

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        ref = {"$ref": "#/components/schemas/Error"}
        for operations in schema["paths"].values():
            for operation in operations.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                responses = operation["responses"]
                for status, response in responses.items():
                    if str(status).startswith("4") and "content" in response:
                        # An import's row report, or the same error shape when the request itself is invalid.
                        media = response["content"].setdefault("application/json", {})
                        media["schema"] = {"anyOf": [media.get("schema", {}), ref]}
                responses["4XX"] = {
                    "description": "错误:{code, message, details}",
                    "content": {"application/json": {"schema": ref}},
                }
        return schema


api = PlatformApi(
    title="职业技能等级认定平台 API",
    version="1",
    description="评价机构备案、认定考核、证书核验、技能补贴与监督管理的接口。错误统一为 {code, message, details}。",
    auth=[TokenAuth(), SessionActorAuth()],
    urls_namespace="api",
    parser=StrictJsonParser(),
    docs_url="/docs",
    # Served from the platform's own static files ("ninja" in INSTALLED_APPS); no call to the public validator.
    docs=Swagger(settings={"validatorUrl": None}),
    openapi_url="/openapi.json",
)


@api.exception_handler(PlatformError)
def _platform_error(request, exc: PlatformError):
    return error_response(exc.status, exc.code, exc.message, exc.details)


@api.exception_handler(NinjaValidationError)
def _validation_error(request, exc: NinjaValidationError):
    errors = [
        {"loc": [str(p) for p in e.get("loc", [])], "msg": str(e.get("msg", "")), "type": e.get("type", "")}
        for e in exc.errors
    ]
    return error_response(422, "validation_failed", _("输入有误"), {"errors": errors})


@api.exception_handler(AuthenticationError)
def _auth_error(request, exc):
    return error_response(401, "not_authenticated", _("请先登录或提供有效的接口令牌"))


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if isinstance(exc.__cause__, NinjaValidationError):  # raised by StrictJsonParser, wrapped by ninja
        return _validation_error(request, exc.__cause__)
    code = HTTP_CODES.get(exc.status_code, "error")
    if exc.status_code == 403 and "CSRF" in str(exc):
        return error_response(403, "csrf_failed", _("CSRF 校验失败,请刷新页面后重试"))
    return error_response(exc.status_code, code, str(exc))


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error_response(404, "not_found", _("未找到"))


@api.exception_handler(DjangoPermissionDenied)
def _forbidden(request, exc):
    return error_response(403, "permission_denied", _("您没有执行此操作的权限"))


@api.exception_handler(DjangoValidationError)
def _django_validation(request, exc: DjangoValidationError):
    details = exc.message_dict if hasattr(exc, "error_dict") else {"errors": exc.messages}
    return error_response(422, "validation_failed", "; ".join(exc.messages), details)


# The database restarting or unreachable: temporary, so 503 with Retry-After; connections come back by themselves
# (CONN_HEALTH_CHECKS), nobody has to step in.
DATABASE_DOWN = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


def database_unavailable_response() -> JsonResponse:
    response = error_response(503, "service_unavailable", _("数据库暂时不可用,请稍后重试"))
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def _database_down(request, exc):
    log.warning("database unavailable: %s", exc)
    return database_unavailable_response()


@api.exception_handler(DataError)
def _database_refused_the_input(request, exc):
    """A value the database cannot hold or compare (found by the schema fuzzing on PostgreSQL: a NUL character in a
    filter, a time-zone offset beyond ±15:59) is the request's fault: 422, not 500."""
    log.warning("database refused the input: %s", exc)
    return error_response(422, "validation_failed", _("输入包含无法处理的字符或超出范围的值"))


@api.exception_handler(Exception)
def _server_error(request, exc):
    log.exception("unhandled API error")
    return error_response(500, "server_error", _("服务器内部错误,请稍后再试"))


def _mount() -> None:
    from accounts.api import router as accounts_router
    from accreditation.api import public_router as directory_router
    from accreditation.api import router as accreditation_router
    from assessments.api import public_router as assessments_public_router
    from assessments.api import router as assessments_router
    from assessments.cancellations.api import router as assessments_cancellations_router
    from assessments.employment.api import router as assessments_employment_router
    from assessments.evidence.api import router as assessments_evidence_router
    from assessments.examday.api import router as assessments_examday_router
    from assessments.integrity.api import router as assessments_integrity_router
    from assessments.panels.api import router as assessments_panels_router
    from assessments.resits.api import router as assessments_resits_router
    from assessments.review.api import router as assessments_review_router
    from assessments.schools.api import router as assessments_schools_router
    from assessments.scoring.api import router as assessments_scoring_router
    from certificates.api import public_router as verify_router
    from certificates.api import router as certificates_router
    from certificates.api_careers import router as careers_router
    from certificates.api_credentials import public_router as credentials_public_router
    from certificates.api_credentials import router as credentials_router
    from certificates.national.api import router as national_router
    from certificates.sharing.api import public_router as shared_copies_public_router
    from certificates.sharing.api import router as shared_copies_router
    from certificates.webhooks.api import router as webhooks_router
    from core.api import router as exports_router
    from occupations.api import router as occupations_router
    from occupations.api_changes import router as occupations_changes_router
    from oversight.api import router as oversight_router
    from oversight.api_comebacks import router as oversight_comebacks_router
    from oversight.api_oversight import public_router as oversight_public_router
    from oversight.api_oversight import router as oversight_cases_router
    from subsidies.api import public_router as subsidies_public_router
    from subsidies.api import router as subsidies_router
    from subsidies.intake.api import router as subsidies_intake_router

    # First: public verification is the hottest path, and URL resolution walks the routes in order.
    api.add_router("/verify", verify_router)
    api.add_router("/exports", exports_router)
    api.add_router("/accounts", accounts_router)
    api.add_router("/reference", occupations_router)
    api.add_router("/reference", occupations_changes_router)
    api.add_router("/accreditation", accreditation_router)
    api.add_router("/directory", directory_router)
    api.add_router("/assessments", assessments_public_router)
    api.add_router("/assessments", assessments_router)
    api.add_router("/assessments", assessments_panels_router)
    api.add_router("/assessments", assessments_scoring_router)
    api.add_router("/assessments", assessments_schools_router)
    api.add_router("/assessments", assessments_cancellations_router)
    api.add_router("/assessments", assessments_integrity_router)
    api.add_router("/assessments", assessments_employment_router)
    api.add_router("/assessments", assessments_examday_router)
    api.add_router("/assessments", assessments_resits_router)
    api.add_router("/assessments", assessments_review_router)
    api.add_router("/assessments", assessments_evidence_router)
    # Before /certificates: its /{certificate_id} route would otherwise swallow /certificates/report etc.
    api.add_router("", credentials_router)
    api.add_router("", credentials_public_router)
    api.add_router("/certificates/national", national_router)
    api.add_router("/webhooks", webhooks_router)
    api.add_router("/shared-copies/verify", shared_copies_public_router)
    api.add_router("/shared-copies", shared_copies_router)
    api.add_router("/certificates", certificates_router)
    api.add_router("/careers", careers_router)

    api.add_router("/oversight", oversight_router)
    api.add_router("/oversight/public", oversight_public_router)
    api.add_router("/oversight", oversight_cases_router)
    api.add_router("/oversight", oversight_comebacks_router)
    api.add_router("/subsidies", subsidies_public_router)
    api.add_router("/subsidies", subsidies_router)
    api.add_router("/subsidies/intake", subsidies_intake_router)


_mount()
