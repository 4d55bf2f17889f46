"""gunicorn's settings for the platform's web nodes (`gunicorn config.wsgi` from the repository root reads this file
by itself; elsewhere pass `-c /path/to/gunicorn.conf.py`). Command-line options still override it.

Request limits. gunicorn refuses an over-long request line or header before Django sees it, and by default answers
with its own HTML page. Here its request-line limit is raised to its maximum (8190 bytes), so that the platform's
own, lower limit (MAX_REQUEST_TARGET_BYTES, 4096 bytes of path and query, config.middleware.RequestLineLimitMiddleware)
is the one a client meets, answered as the API's JSON error; and whatever gunicorn still refuses itself (a line
beyond 8190 bytes, too many or too large headers, a malformed request) is answered in the same JSON shape
`{"code", "message", "details"}` instead of HTML (`_json_error` below). A load balancer in front must allow at least
as long a request line (nginx: `large_client_header_buffers 4 16k;`), or its own page is what clients see.
"""

import gc
import json

from gunicorn import util

limit_request_line = 8190  # gunicorn's maximum; the platform refuses beyond 4096 bytes itself, in JSON
limit_request_fields = 100
limit_request_field_size = 8190

_CODES = {
    400: ("bad_request", "请求格式不正确"),
    403: ("permission_denied", "请求被拒绝"),
    414: ("uri_too_long", "请求地址过长,请缩短查询条件"),
    417: ("expectation_failed", "不支持该 Expect 请求头"),
    431: ("header_fields_too_large", "请求头过多或过大"),
    500: ("server_error", "服务器内部错误,请稍后再试"),
    501: ("not_implemented", "不支持该传输编码"),
}


def _json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's `util.write_error`, answering in the platform's error shape. The request's own text (which
    gunicorn puts in `mesg`) is not echoed back."""
    code, message = _CODES.get(status_int, ("bad_request", "请求格式不正确"))
    body = json.dumps({"code": code, "message": message, "details": {}}, ensure_ascii=False).encode("utf-8")
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


util.write_error = _json_error


def post_worker_init(worker) -> None:
    """The application is loaded: what exists now (modules, settings, models, translations, about 480,000 objects)
    lives as long as the worker. Frozen, the garbage collector's passes no longer walk it again and again as
    requests come and go: a first scan's share of collection fell from 0.042 to 0.017 ms (bench/bench_verify.py's
    scans, measured in one process)."""
    gc.freeze()
