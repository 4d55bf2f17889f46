"""A reference receiver: a stand-in for the provincial/national database at the edge of the world.

It exists for development, the demo and the tests, so that the whole reporting path runs over HTTP against
something that checks records the way a national database would and answers in the wire format
(certificates/national/wire.py). It imports nothing of the platform: its checks are its own (python-stdnum for the
ID number and the credit code, the national certificate number rule), so it catches what the platform's own
validation missed. Run it with `python manage.py national_receiver --port 8765` and point NATIONAL_REPORT_URL at
http://127.0.0.1:8765/records. Never part of a production deployment: the real database is the province's.

It keeps each answer by record_id (a record sent again gets the answer it got the first time, and is stored once)
and the certificates it accepted by number. For tests it can be told to answer slowly (`delay`), to fail the next
requests with an HTTP status (`fail_next`), or be stopped and started again.
"""

import contextlib
import datetime
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

from stdnum.cn import ric, uscc

BEIJING = ZoneInfo("Asia/Shanghai")
NUMBER = re.compile(r"^[YS]\d{21}$")
OCCUPATION_CODE = re.compile(r"^\d-\d{2}-\d{2}-\d{2}$")
NATIONAL_LEVEL_DIGITS = {"1", "2", "3", "4", "5"}
CERTIFICATE_FIELDS = (
    "certificate_number",
    "name",
    "id_type",
    "id_number",
    "occupation_code",
    "occupation_name",
    "level_digit",
    "organisation_name",
    "organisation_credit_code",
    "issued_on",
    "status",
)
RESULT_FIELDS = (
    "name",
    "id_type",
    "id_number",
    "occupation_code",
    "level_digit",
    "outcome",
    "assessed_on",
    "organisation_credit_code",
)
STATUSES = {"valid", "revoked", "suspended", "superseded"}
OUTCOMES = {"passed", "failed", "absent", "void"}


def _date(value: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


class ReferenceDatabase:
    """The checks and the store, apart from HTTP."""

    def __init__(self, store: Path | None = None) -> None:
        self.lock = threading.Lock()
        self.store = store
        self.answers: dict[str, dict] = {}
        self.certificates: dict[str, dict] = {}
        self.results: dict[str, dict] = {}
        self.received = 0  # every record seen, repeats included
        if store is not None and store.exists():
            saved = json.loads(store.read_text(encoding="utf-8"))
            self.answers, self.certificates, self.results = saved["answers"], saved["certificates"], saved["results"]

    def _save(self) -> None:
        if self.store is not None:
            data = {"answers": self.answers, "certificates": self.certificates, "results": self.results}
            self.store.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    def _common(self, data: dict, required: tuple[str, ...]) -> tuple[str, str] | None:
        missing = [f for f in required if not str(data.get(f) or "").strip()]
        if missing:
            return "MISSING_FIELD", f"缺少必填项:{'、'.join(missing)}"
        if data["id_type"] == "居民身份证" and not ric.is_valid(data["id_number"]):
            return "BAD_ID_NUMBER", "居民身份证号码校验不通过"
        if not uscc.is_valid(data["organisation_credit_code"]):
            return "BAD_CREDIT_CODE", "评价机构统一社会信用代码校验不通过"
        if not OCCUPATION_CODE.match(data["occupation_code"]):
            return "BAD_OCCUPATION_CODE", "职业编码应为《职业分类大典》编码(如6-31-01-03)"
        if data["level_digit"] not in NATIONAL_LEVEL_DIGITS:
            return "BAD_LEVEL", "等级代码应为1—5(国家证书编码规则)"
        return None

    def _check_certificate(self, event: str, data: dict) -> tuple[str, str] | None:
        problem = self._common(data, CERTIFICATE_FIELDS)
        if problem:
            return problem
        number = data["certificate_number"]
        if not NUMBER.match(number):
            return "BAD_NUMBER", "证书编号应为1位字母(Y/S)加21位数字"
        if number[15] != data["level_digit"]:
            return "BAD_NUMBER", "证书编号第16位与等级不符"
        issued = _date(data["issued_on"])
        if issued is None or issued > datetime.datetime.now(BEIJING).date() + datetime.timedelta(days=1):
            return "BAD_DATE", "发证日期无效或晚于今日"
        if number[13:15] != f"{issued.year % 100:02d}":
            return "BAD_NUMBER", "证书编号第14—15位与发证年份不符"
        if data["status"] not in STATUSES:
            return "BAD_STATUS", "证书状态无法识别"
        known = self.certificates.get(number)
        if event == "issued":
            if known is not None and known["id_number"] != data["id_number"]:
                return "DUPLICATE_NUMBER", "该证书编号已登记给他人"
        elif known is None:
            return "UNKNOWN_CERTIFICATE", "证书尚未登记,不能变更状态(请先上报发证数据)"
        return None

    def _check_result(self, data: dict) -> tuple[str, str] | None:
        problem = self._common(data, RESULT_FIELDS)
        if problem:
            return problem
        if data["outcome"] not in OUTCOMES:
            return "BAD_OUTCOME", "认定结果应为合格、不合格、缺考或无效"
        if _date(data["assessed_on"]) is None:
            return "BAD_DATE", "认定日期无效"
        return None

    def receive(self, body: dict) -> dict:
        records = body.get("records")
        if not isinstance(records, list):
            raise ValueError("records")
        answers = []
        with self.lock:
            for record in records:
                self.received += 1
                record_id = str(record.get("record_id") or "")
                if not record_id:
                    raise ValueError("record_id")
                if record_id in self.answers:  # sent before: the same answer, nothing stored twice
                    answers.append(self.answers[record_id])
                    continue
                data = record.get("data") or {}
                if record.get("type") == "certificate":
                    problem = self._check_certificate(str(record.get("event")), data)
                elif record.get("type") == "result":
                    problem = self._check_result(data)
                else:
                    problem = ("BAD_TYPE", "记录类型应为certificate或result")
                if problem is None:
                    receipt = uuid.uuid4().hex[:16].upper()
                    if record["type"] == "certificate":
                        self.certificates[data["certificate_number"]] = data
                    else:
                        self.results[receipt] = data
                    answer = {"record_id": record_id, "status": "accepted", "receipt": receipt}
                else:
                    answer = {"record_id": record_id, "status": "rejected", "code": problem[0], "message": problem[1]}
                self.answers[record_id] = answer
                answers.append(answer)
            self._save()
        return {"results": answers}


class ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], database: ReferenceDatabase, token: str = "") -> None:
        super().__init__(address, _Handler)
        self.database, self.token = database, token
        self.delay = 0.0  # seconds to wait before answering (after storing: the answer is what gets lost)
        self.fail_status: int | None = None
        self.fail_count = 0
        self.requests = 0

    def fail_next(self, count: int, status: int = 503) -> None:
        self.fail_count, self.fail_status = count, status

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/records"


class _Handler(BaseHTTPRequestHandler):
    server: ReceiverServer

    def log_message(self, format: str, *args) -> None:  # quiet; the store is the record
        pass

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        server = self.server
        server.requests += 1
        if self.path.rstrip("/") != "/records":
            return self._reply(404, {"error": "not found"})
        if server.token and self.headers.get("Authorization") != f"Bearer {server.token}":
            return self._reply(401, {"error": "bad token"})
        if server.fail_count > 0:
            server.fail_count -= 1
            return self._reply(server.fail_status or 503, {"error": "unavailable"})
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            answer = server.database.receive(body)
        except (ValueError, TypeError, AttributeError):
            return self._reply(400, {"error": "malformed"})
        if server.delay:
            time.sleep(server.delay)
        # The platform may have given up waiting: then the answer is lost, and the record is sent again.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._reply(200, answer)


def serve_in_thread(
    host: str = "127.0.0.1", port: int = 0, database: ReferenceDatabase | None = None, token: str = ""
) -> ReceiverServer:
    """Start a receiver on a background thread (port 0: any free port); stop it with server.shutdown()."""
    server = ReceiverServer((host, port), database or ReferenceDatabase(), token)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
