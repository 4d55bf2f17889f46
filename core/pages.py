"""Small helpers for page views: run a service and report its outcome the way every page does."""

from collections.abc import Callable
from typing import TypeVar

from django.contrib import messages

from .errors import PlatformError

T = TypeVar("T")


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
