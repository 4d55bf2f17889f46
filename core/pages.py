"""Small helpers for page views: run a service and report its outcome the way every page does."""

from collections.abc import Callable
from typing import TypeVar

from django.contrib import messages
from django.utils.translation import gettext_lazy as _lazy
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from .errors import PlatformError, ValidationFailed

T = TypeVar("T")
S = TypeVar("S", bound=BaseModel)


def perform(request, action: Callable[[], T], success: str = "") -> T | None:
    """Run `action`; on success flash `success`, on a refused action flash the reason and return None."""
    try:
        result = action()
    except PlatformError as exc:
        messages.error(request, exc.message)
        return None
    if success:
        messages.success(request, success)
    return result


def safe_next(request, default: str) -> str:
    """The `next` the form posted, if it points back into this site; otherwise `default` (no open redirects)."""
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


_FIELD_PROBLEMS = {
    "missing": _lazy("请填写完整"),
    "int_parsing": _lazy("应填写整数"),
    "int_from_float": _lazy("应填写整数"),
    "bool_parsing": _lazy("请选择是或否"),
    "date_from_datetime_parsing": _lazy("日期格式应为 YYYY-MM-DD"),
    "date_parsing": _lazy("日期格式应为 YYYY-MM-DD"),
    "datetime_parsing": _lazy("时间格式不正确"),
    "decimal_parsing": _lazy("应填写数字"),
}


def form_input(request, schema: type[S]) -> S:
    """The posted form read through the API's input schema for the same action, so that a page and the API accept
    exactly the same input. An empty field of a non-text type counts as not filled in (its default, or an error if
    the schema requires it); a problem raises ValidationFailed naming the field (in `details`), which `perform`
    shows like any refusal."""
    data: dict = {}
    for name, field in schema.model_fields.items():
        key = field.alias or name
        if key not in request.POST:
            continue
        value = request.POST.get(key)
        if value == "" and field.annotation is not str:
            continue
        data[key] = value
    try:
        return schema.model_validate(data)
    except PydanticValidationError as exc:
        problem = exc.errors()[0]
        field = ".".join(str(part) for part in problem["loc"])
        message = _FIELD_PROBLEMS.get(problem["type"], _lazy("填写有误"))
        raise ValidationFailed(message, details={"field": field}) from None
