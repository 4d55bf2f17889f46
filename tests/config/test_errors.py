"""Every API error is JSON {code, message, details}, with the right status, never an HTML page."""

import pytest
from django.test import Client

from accounts.models import Role
from tests.conftest import client_for, pass_second_factor
from tests.factories import member

pytestmark = pytest.mark.django_db


def _assert_shape(response, status, code):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert body["message"]
    return body


def test_401(client):
    _assert_shape(client.get("/api/v1/accounts/me"), 401, "not_authenticated")


def test_403(org):
    assessor = member(Role.ASSESSOR, organisation=org)
    r = client_for(assessor).post(
        "/api/v1/accounts/tokens", {"organisation_id": org.id, "name": "x"}, content_type="application/json"
    )
    _assert_shape(r, 403, "permission_denied")


def test_403_csrf_for_a_session_without_token(org_admin, org):
    c = Client(enforce_csrf_checks=True)
    c.force_login(org_admin)
    pass_second_factor(c, org_admin)
    r = c.post("/api/v1/accounts/tokens", {"organisation_id": org.id, "name": "x"}, content_type="application/json")
    _assert_shape(r, 403, "csrf_failed")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/accreditation/organisations/999999",
        "/api/v1/no/such/thing",
        "/api/v1/reference/occupations/0-00-00-00/standard",
    ],
)
def test_404(cc_officer, path):
    _assert_shape(client_for(cc_officer).get(path), 404, "not_found")


def test_405(cc_officer):
    _assert_shape(client_for(cc_officer).delete("/api/v1/accounts/me"), 405, "method_not_allowed")


def test_409(org_admin, org):
    c = client_for(org_admin)
    token = c.post(
        "/api/v1/accounts/tokens", {"organisation_id": org.id, "name": "x"}, content_type="application/json"
    ).json()
    assert c.post(f"/api/v1/accounts/tokens/{token['id']}/revoke").status_code == 200
    _assert_shape(c.post(f"/api/v1/accounts/tokens/{token['id']}/revoke"), 409, "conflict")


def test_422_for_a_malformed_body(org_admin):
    r = client_for(org_admin).post("/api/v1/accounts/tokens", {"name": "x"}, content_type="application/json")
    body = _assert_shape(r, 422, "validation_failed")
    assert body["details"]["errors"][0]["loc"][-1] == "organisation_id"


def test_422_for_a_service_validation(org_admin, org):
    r = client_for(org_admin).post(
        "/api/v1/accounts/tokens", {"organisation_id": org.id, "name": "  "}, content_type="application/json"
    )
    _assert_shape(r, 422, "validation_failed")


def test_500_is_json_even_with_debug_off(cc_officer, settings, monkeypatch):
    settings.DEBUG = False

    def boom(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr("accreditation.api.organisations_for", boom)
    c = client_for(cc_officer)
    c.raise_request_exception = False
    body = _assert_shape(c.get("/api/v1/accreditation/organisations"), 500, "server_error")
    assert "fire" not in body["message"]


def test_pages_keep_html_errors(client):
    r = client.get("/no/such/page/")
    assert r.status_code == 404 and r["Content-Type"].startswith("text/html")


def test_openapi_and_docs_are_served(client):
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200 and "/api/v1/accreditation/organisations/{org_id}" in spec.json()["paths"]
    assert client.get("/api/v1/docs").status_code == 200


def test_a_database_outage_is_a_503_that_says_so(cc_officer, settings, monkeypatch):
    """A restarting database (bench/fault_db_restart.py) is temporary: 503 + Retry-After, never a 500."""
    from django.db import OperationalError

    settings.DEBUG = False

    def down(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("accreditation.api.organisations_for", down)
    monkeypatch.setattr("certificates.views.verify_token", down)
    monkeypatch.setattr("certificates.api.verify_token", down)
    c = client_for(cc_officer)
    c.raise_request_exception = False
    r = c.get("/api/v1/accreditation/organisations")
    body = _assert_shape(r, 503, "service_unavailable")
    assert r["Retry-After"] == "5" and "server closed" not in body["message"]
    page = Client(raise_request_exception=False).get("/v/some-token")
    assert page.status_code == 503 and page["Retry-After"] == "5"
    assert "服务暂时不可用" in page.content.decode() and "server closed" not in page.content.decode()
    settings.DEBUG = True  # a restart is not a bug to debug: the same answer with DEBUG on
    scan = Client(raise_request_exception=False).get("/api/v1/verify/k1.S000022000001263000001.x.y")  # plain view
    assert _assert_shape(scan, 503, "service_unavailable") and scan["Retry-After"] == "5"


def test_openapi_declares_the_error_shape_for_every_operation(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert set(spec["components"]["schemas"]["Error"]["required"]) == {"code", "message", "details"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation["responses"]["4XX"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"
            }, f"{method} {path}"


def test_every_schema_name_in_the_openapi_document_means_one_shape():
    """django-ninja files every schema under its class name; two classes with one name and different fields
    silently document one of them for both (found by the schema fuzzing: AttachmentOut, BatchOut, PanelOut …)."""
    from ninja import Schema

    from config.api import api

    api.get_openapi_schema()  # imports every router's schemas
    apps = {
        "accounts",
        "accreditation",
        "assessments",
        "certificates",
        "config",
        "occupations",
        "oversight",
        "subsidies",
    }
    by_name: dict[str, dict] = {}

    def walk(cls):
        for sub in cls.__subclasses__():
            if sub.__module__.split(".")[0] in apps:
                shape = sub.model_json_schema()
                first = by_name.setdefault(sub.__name__, shape)
                assert first == shape, f"two schemas named {sub.__name__} with different shapes ({sub.__module__})"
            walk(sub)

    walk(Schema)


def test_a_nul_character_is_refused_before_it_reaches_the_database(client, org_admin):
    """PostgreSQL cannot store or compare NUL; the schema fuzzing found it as a 500 (?q=%00 on the catalogue)."""
    _assert_shape(client.get("/api/v1/reference/catalogue?q=a%00b"), 422, "validation_failed")
    page = client.get("/directory/?q=%00")
    assert page.status_code == 400 and "控制字符" in page.content.decode()
    c = client_for(org_admin)
    r = c.post("/accreditation/register/", {"name": "机构\x00"})
    assert r.status_code == 400


def test_a_value_the_database_refuses_is_a_422(cc_officer, monkeypatch):
    from django.db import DataError

    def refuse(*args, **kwargs):
        raise DataError('time zone displacement out of range: "1007-02-26 09:23:09-17:10"')

    monkeypatch.setattr("accreditation.api.organisations_for", refuse)
    c = client_for(cc_officer)
    c.raise_request_exception = False
    body = _assert_shape(c.get("/api/v1/accreditation/organisations"), 422, "validation_failed")
    assert "displacement" not in body["message"]


def test_a_time_with_an_offset_the_database_cannot_hold_is_read_as_the_same_instant(client, operator):
    """PostgreSQL refuses offsets beyond ±15:59 (and a refused query spoils the rest of a transaction)."""
    r = client_for(operator).get("/api/v1/oversight/audit", {"until": "2093-10-24T17:20:54.8+17:37"})
    assert r.status_code == 200, r.content
    r = client_for(operator).get("/api/v1/oversight/audit", {"since": "0001-01-01T00:00:00+05:00"})
    assert r.status_code == 422 and r.json()["code"] == "validation_failed"
