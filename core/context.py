"""The request context: a leaf module that anything may read (logs, the audit log), set by the middleware."""

from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="")


def current_request_id() -> str:
    return request_id_var.get()
