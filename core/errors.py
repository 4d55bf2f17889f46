"""The platform's one error hierarchy.

Services raise these; the API maps them to JSON {"code", "message", "details"} with the class's status, and
pages show the message. Each class has a stable code that clients may rely on.
"""

from typing import Any

from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _


class PlatformError(Exception):
    status = 400
    code = "bad_request"
    default_message = _("请求无效")

    def __init__(self, message: Any = None, *, code: str | None = None, details: dict | None = None):
        self.message = str(message if message is not None else self.default_message)
        if code:
            self.code = code
        self.details = details or {}
        super().__init__(self.message)

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "details": self.details}


class NotAuthenticated(PlatformError):
    status = 401
    code = "not_authenticated"
    default_message = _("请先登录")


class SecondFactorRequired(NotAuthenticated):
    """Signed in with a password, but a staff account must also pass its second factor in this session."""

    code = "second_factor_required"
    default_message = _("请先完成两步验证(动态验证码)")


class PermissionDenied(PlatformError):
    status = 403
    code = "permission_denied"
    default_message = _("您没有执行此操作的权限")


class NotFound(PlatformError):
    status = 404
    code = "not_found"
    default_message = _("未找到")


class Conflict(PlatformError):
    """The request is valid but the object's state forbids it (wrong status, duplicate, already done)."""

    status = 409
    code = "conflict"
    default_message = _("与当前状态冲突")


class RuleViolation(Conflict):
    """A step that would break a rule that must hold (考培分离, an assessor's qualification, a panel's size): the
    message names each rule and the record that triggered it, and `details.findings` lists them for clients."""

    code = "rule_violation"
    default_message = _("该操作违反考评规则")


class ValidationFailed(PlatformError):
    status = 422
    code = "validation_failed"
    default_message = _("输入有误")


class RateLimited(PlatformError):
    status = 429
    code = "rate_limited"
    default_message = _("请求过于频繁,请稍后再试")


def error_response(status: int, code: str, message: str, details: dict | None = None) -> JsonResponse:
    """The one JSON shape of every error the API answers: {"code", "message", "details"}. A limit reached (429)
    also says in the Retry-After header how many seconds to wait, when the limit knows it."""
    response = JsonResponse(
        {"code": code, "message": message, "details": details or {}},
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )
    retry_after = (details or {}).get("retry_after_seconds")
    if status == 429 and retry_after:
        response["Retry-After"] = str(int(retry_after))
    return response


HTTP_CODES = {  # the stable code for an HTTP status that no PlatformError raised
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    414: "uri_too_long",
    422: "validation_failed",
    429: "rate_limited",
    431: "header_fields_too_large",
}
