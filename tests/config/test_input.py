"""Input that fails safe: control characters, dates that are numbers, bodies that are not objects, request lines
that are too long. Each is refused with the platform's error and changes nothing."""

import datetime
import json
import os
import socket
import subprocess
import sys
import time
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from accounts.models import ApiToken
from accreditation.models import Organisation
from assessments.models import GraduatingClass
from core.schema_types import STRICT_DATE_VALIDATORS
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "details"} and body["code"] == code
    return body


# --- control characters ----------------------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x07", "\x1b", "\x7f", "\x85", "\x9b"])
def test_a_json_body_with_a_control_character_is_refused_and_nothing_is_stored(org_admin, org, char):
    r = client_for(org_admin).post(
        "/api/v1/accounts/tokens",
        {"organisation_id": org.id, "name": f"系统{char}对接"},
        content_type="application/json",
    )
    body = _error(r, 422, "validation_failed")
    assert body["details"]["errors"][0]["loc"] == ["body", "name"]
    assert not ApiToken.objects.exists()


def test_control_characters_are_found_in_nested_values_and_keys(cc_officer):
    c = client_for(cc_officer)
    r = c.post("/api/v1/oversight/guazheng/scan", {"region_code": ["220100", "x\x02"]}, content_type="application/json")
    assert _error(r, 422, "validation_failed")["details"]["errors"][0]["loc"] == ["body", "region_code", "1"]
    r = c.post("/api/v1/oversight/guazheng/scan", {"region\x03": "220100"}, content_type="application/json")
    assert _error(r, 422, "validation_failed")["details"]["errors"][0]["loc"] == ["body", "region\x03"]


def test_tab_and_line_breaks_are_text(org_admin, org):
    """Text areas send CR LF; a tab is harmless. Only the other control characters are refused."""
    r = client_for(org_admin).post(
        "/api/v1/accounts/tokens",
        {"organisation_id": org.id, "name": "第一行\r\n第二行\t备注"},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    assert ApiToken.objects.get().name == "第一行\r\n第二行\t备注"


def test_query_values_with_control_characters_are_refused(client):
    body = _error(client.get("/api/v1/reference/catalogue", {"q": "电\x1b[31m工"}), 422, "validation_failed")
    assert body["details"] == {"field": "q"}
    page = client.get("/directory/", {"q": "\x08"})
    assert page.status_code == 400 and "控制字符" in page.content.decode()


def test_a_form_with_a_control_character_is_refused_and_nothing_is_stored(org_admin):
    before = Organisation.objects.count()
    r = client_for(org_admin).post("/accreditation/register/", {"name": "长春\x0b评价机构", "kind": "S"})
    assert r.status_code == 400 and "控制字符" in r.content.decode()
    assert Organisation.objects.count() == before


# --- dates are dates -------------------------------------------------------------------------------------


def _loose_dates(annotation, metadata: list, where: str, seen: set) -> typing.Iterator[str]:
    if typing.get_origin(annotation) is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        yield from _loose_dates(base, [*metadata, *extra], where, seen)
        return
    if annotation in (datetime.date, datetime.datetime):
        if not any(getattr(m, "func", None) in STRICT_DATE_VALIDATORS for m in metadata):
            yield where
        return
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation not in seen:
            seen.add(annotation)
            for name, field in annotation.model_fields.items():
                yield from _loose_dates(field.annotation, list(field.metadata), f"{where}.{name}", seen)
        return
    for arg in typing.get_args(annotation):
        yield from _loose_dates(arg, [], where, seen)


def test_every_date_and_time_the_api_reads_is_strict():
    """Every query, form and body field of type date or datetime, nested ones too, is core.schema_types.IsoDate,
    IsoDateTime or Instant: pydantic's own types read `0` as 1970-01-01."""
    from config.api import api

    loose = set()
    for bound in api._get_bound_routers():
        for view in bound.path_operations.values():
            for operation in view.operations:
                name = f"{operation.view_func.__module__}.{operation.view_func.__name__}"
                for model in operation.models:
                    loose.update(_loose_dates(model, [], name, set()))
    assert not loose, "use core.schema_types.IsoDate / IsoDateTime / Instant for: " + ", ".join(sorted(loose))


@pytest.mark.parametrize("value", ["0", "1700000000", "20250301", "2025-3-1", "1e9"])
def test_a_number_is_not_a_date_in_a_query(client, value):
    body = _error(client.get("/api/v1/subsidies/policies", {"on": value}), 422, "validation_failed")
    assert body["details"]["errors"][0]["loc"][-1] == "on"
    assert client.get("/api/v1/subsidies/policies", {"on": "2025-03-01"}).status_code == 200


def test_a_number_is_not_a_date_in_a_body(org_admin, org):
    c = client_for(org_admin)
    for value in (0, 1e9, "0", True):
        r = c.post(
            "/api/v1/assessments/classes",
            {"plan_id": 1, "name": "2026届", "major": "电气", "graduation_date": value},
            content_type="application/json",
        )
        body = _error(r, 422, "validation_failed")
        assert body["details"]["errors"][0]["loc"][-1] == "graduation_date", value
    assert not GraduatingClass.objects.exists()


def test_a_number_is_not_a_time(operator):
    r = client_for(operator).get("/api/v1/oversight/audit", {"since": "0"})
    assert _error(r, 422, "validation_failed")["details"]["errors"][0]["loc"][-1] == "since"


def test_a_number_is_not_a_date_inside_registration_evidence():
    from assessments.registration import _clean_evidence
    from core.errors import ValidationFailed

    for value in (0, 20250301, "20250301", False):
        with pytest.raises(ValidationFailed):
            _clean_evidence({"prior_certificates": [{"level": "5", "issued_on": value}]})
    clean = _clean_evidence({"prior_certificates": [{"level": "5", "issued_on": "2020-06-30"}]})
    assert clean["prior_certificates"][0]["issued_on"] == "2020-06-30"


# --- a body is the object its schema describes -----------------------------------------------------------


@pytest.mark.parametrize("body", ["[null, null]", "[]", "null", '"220100"', "1", "true"])
def test_a_body_that_is_not_an_object_is_refused(cc_officer, body):
    """ScanIn's one field is optional: before, `[null, null]` passed as an empty object and ran the scan."""
    c = client_for(cc_officer)
    r = c.post("/api/v1/oversight/guazheng/scan", body, content_type="application/json")
    assert _error(r, 422, "validation_failed")["details"]["errors"][0]["loc"] == ["body"]
    assert c.post("/api/v1/oversight/guazheng/scan", "{}", content_type="application/json").status_code == 200


def test_a_body_sent_as_another_content_type_is_read_the_same_strict_way(cc_officer):
    r = client_for(cc_officer).post("/api/v1/oversight/guazheng/scan", "[null]", content_type="text/plain")
    _error(r, 422, "validation_failed")


def test_a_body_that_is_not_json_stays_a_400(cc_officer):
    r = client_for(cc_officer).post("/api/v1/oversight/guazheng/scan", "{nope", content_type="application/json")
    _error(r, 400, "bad_request")


# --- an over-long request line ---------------------------------------------------------------------------


def test_an_over_long_request_target_is_the_platforms_414(client, settings):
    limit = settings.MAX_REQUEST_TARGET_BYTES
    body = _error(client.get("/api/v1/reference/catalogue", {"q": "a" * limit}), 414, "uri_too_long")
    assert body["details"] == {"limit": limit}
    assert client.get("/api/v1/reference/catalogue", {"q": "a" * (limit - 100)}).status_code == 200
    page = client.get("/directory/", {"q": "电" * limit})  # counted in bytes as sent (percent-encoded)
    assert page.status_code == 414 and page["Content-Type"].startswith("text/html")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _raw_get(port: int, target: str) -> tuple[int, str, dict]:
    with socket.create_connection(("127.0.0.1", port), timeout=120) as s:  # a loaded CI machine
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if headers.get("transfer-encoding") == "chunked":
        size, _, rest = body.partition(b"\r\n")
        body = rest[: int(size, 16)]
    return int(lines[0].split()[1]), headers.get("content-type", ""), json.loads(body) if body else {}


def test_gunicorn_answers_what_it_refuses_itself_in_the_platforms_json(tmp_path):
    """gunicorn.conf.py: up to gunicorn's maximum the request reaches Django (the platform's 414); beyond it
    gunicorn refuses the line itself, in the same JSON shape instead of its HTML page."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update({"VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"})
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-w", "1", "-b", f"127.0.0.1:{port}", "config.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "gunicorn did not start"
                time.sleep(0.2)
        status, content_type, body = _raw_get(port, "/api/v1/reference/catalogue?q=" + "a" * 5000)
        assert (status, body["code"]) == (414, "uri_too_long") and body["details"] == {"limit": 4096}
        assert content_type == "application/json"
        status, content_type, body = _raw_get(port, "/api/v1/reference/catalogue?q=" + "a" * 9000)
        assert (status, content_type, body["code"]) == (414, "application/json", "uri_too_long")
        assert set(body) == {"code", "message", "details"} and "aaaa" not in json.dumps(body)
    finally:
        server.terminate()
        server.wait(timeout=30)
