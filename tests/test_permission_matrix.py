"""Permission matrix generated from the API itself, plus a page matrix for key pages x roles.

Every operation in the OpenAPI schema must have an entry in AUDIENCE below (and every entry must still
exist), so a new endpoint cannot ship without someone deciding who may call it. Then:

- every "authenticated" operation answers an anonymous caller with 401 and the JSON error shape;
- every "authenticated" GET with path ids answers a signed-in worker asking for objects that do not exist
  with 403/404 (never 5xx, never 200), and the platform operator, who sees everything, with 404;
- every "public" GET answers an anonymous caller without 401 and without 5xx.
"""

import re

import pytest
from django.test import Client

from config.api import api

from .conftest import client_for
from .factories import PersonFactory, Role, member

pytestmark = pytest.mark.django_db

PUBLIC = "public"
AUTH = "authenticated"

# (METHOD, path template as in the OpenAPI schema) -> audience. Decide deliberately when adding an endpoint.
AUDIENCE: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/verify/lookup"): PUBLIC,
    ("GET", "/api/v1/verify/{token}"): PUBLIC,
    ("GET", "/api/v1/accounts/me"): AUTH,
    ("GET", "/api/v1/accounts/tokens"): AUTH,
    ("POST", "/api/v1/accounts/tokens"): AUTH,
    ("POST", "/api/v1/accounts/tokens/{token_id}/revoke"): AUTH,
    ("GET", "/api/v1/reference/regions"): PUBLIC,
    ("GET", "/api/v1/reference/levels"): PUBLIC,
    ("GET", "/api/v1/reference/occupations"): PUBLIC,
    ("GET", "/api/v1/reference/occupations/{code}/standard"): PUBLIC,
    ("GET", "/api/v1/reference/catalogue"): PUBLIC,
    ("GET", "/api/v1/reference/changes"): AUTH,
    ("POST", "/api/v1/reference/changes"): AUTH,
    ("GET", "/api/v1/reference/changes/{change_id}"): AUTH,
    ("POST", "/api/v1/reference/changes/{change_id}/confirm"): AUTH,
    ("POST", "/api/v1/reference/changes/{change_id}/discard"): AUTH,
    ("POST", "/api/v1/accreditation/organisations"): AUTH,
    ("GET", "/api/v1/accreditation/organisations"): AUTH,
    ("GET", "/api/v1/accreditation/organisations/{org_id}"): AUTH,
    ("GET", "/api/v1/accreditation/filings"): AUTH,
    ("POST", "/api/v1/accreditation/filings"): AUTH,
    ("GET", "/api/v1/accreditation/filings/review-queue"): AUTH,
    ("GET", "/api/v1/accreditation/filings/{filing_id}"): AUTH,
    ("PUT", "/api/v1/accreditation/filings/{filing_id}/scope"): AUTH,
    ("POST", "/api/v1/accreditation/filings/{filing_id}/attachments"): AUTH,
    ("POST", "/api/v1/accreditation/filings/{filing_id}/submit"): AUTH,
    ("POST", "/api/v1/accreditation/filings/{filing_id}/start-review"): AUTH,
    ("POST", "/api/v1/accreditation/filings/{filing_id}/approve"): AUTH,
    ("POST", "/api/v1/accreditation/filings/{filing_id}/return"): AUTH,
    ("POST", "/api/v1/accreditation/filings/{filing_id}/reject"): AUTH,
    ("POST", "/api/v1/accreditation/filings/{filing_id}/suspend"): AUTH,
    ("POST", "/api/v1/accreditation/filings/{filing_id}/reinstate"): AUTH,
    ("POST", "/api/v1/accreditation/filings/{filing_id}/revoke"): AUTH,
    ("GET", "/api/v1/accreditation/appointments"): AUTH,
    ("POST", "/api/v1/accreditation/appointments"): AUTH,
    ("POST", "/api/v1/accreditation/appointments/{appointment_id}/withdraw"): AUTH,
    ("GET", "/api/v1/accreditation/training-records"): AUTH,
    ("POST", "/api/v1/accreditation/training-records"): AUTH,
    ("POST", "/api/v1/accreditation/training-records/import"): AUTH,
    ("GET", "/api/v1/directory/"): PUBLIC,
    ("GET", "/api/v1/directory/{org_id}"): PUBLIC,
    ("GET", "/api/v1/assessments/plans/public"): PUBLIC,
    ("GET", "/api/v1/assessments/plans/public/{plan_id}"): PUBLIC,
    ("GET", "/api/v1/assessments/plans"): AUTH,
    ("POST", "/api/v1/assessments/plans"): AUTH,
    ("GET", "/api/v1/assessments/plans/{plan_id}"): AUTH,
    ("POST", "/api/v1/assessments/plans/{plan_id}/publish"): AUTH,
    ("POST", "/api/v1/assessments/plans/{plan_id}/reschedule"): AUTH,
    ("POST", "/api/v1/assessments/plans/{plan_id}/cancel"): AUTH,
    ("POST", "/api/v1/assessments/plans/{plan_id}/registrations"): AUTH,
    ("POST", "/api/v1/assessments/plans/{plan_id}/registrations/import"): AUTH,
    ("GET", "/api/v1/assessments/registrations"): AUTH,
    ("GET", "/api/v1/assessments/registrations/{registration_id}"): AUTH,
    ("POST", "/api/v1/assessments/registrations/{registration_id}/review"): AUTH,
    ("POST", "/api/v1/assessments/registrations/{registration_id}/evidence"): AUTH,
    ("POST", "/api/v1/assessments/registrations/{registration_id}/withdraw"): AUTH,
    ("GET", "/api/v1/assessments/plans/{plan_id}/panel"): AUTH,
    ("GET", "/api/v1/assessments/classes"): AUTH,
    ("POST", "/api/v1/assessments/classes"): AUTH,
    ("GET", "/api/v1/assessments/classes/{class_id}"): AUTH,
    ("POST", "/api/v1/assessments/classes/{class_id}/students"): AUTH,
    ("POST", "/api/v1/assessments/classes/{class_id}/approve"): AUTH,
    ("GET", "/api/v1/careers/mine"): AUTH,
    ("GET", "/api/v1/assessments/plans/{plan_id}/panel/{kind}/candidates"): AUTH,
    ("POST", "/api/v1/assessments/plans/{plan_id}/panel/{kind}"): AUTH,
    ("POST", "/api/v1/assessments/plans/{plan_id}/panel/{kind}/{appointment_id}/remove"): AUTH,
    ("GET", "/api/v1/assessments/plans/{plan_id}/supervisor/candidates"): AUTH,
    ("POST", "/api/v1/assessments/plans/{plan_id}/supervisor"): AUTH,
    ("POST", "/api/v1/assessments/plans/{plan_id}/supervisor/random"): AUTH,
    ("POST", "/api/v1/assessments/relationships"): AUTH,
    ("GET", "/api/v1/assessments/relationships"): AUTH,
    ("POST", "/api/v1/assessments/plans/{plan_id}/supervision-report"): AUTH,
    ("GET", "/api/v1/assessments/supervision/my-plans"): AUTH,
    ("GET", "/api/v1/assessments/my/assessor-plans"): AUTH,
    ("POST", "/api/v1/assessments/plans/{plan_id}/scores/{kind}"): AUTH,
    ("POST", "/api/v1/assessments/plans/{plan_id}/scores/{kind}/submit"): AUTH,
    ("POST", "/api/v1/assessments/plans/{plan_id}/scores/{kind}/import"): AUTH,
    ("POST", "/api/v1/assessments/plans/{plan_id}/scores/{kind}/lock"): AUTH,
    ("GET", "/api/v1/assessments/plans/{plan_id}/results"): AUTH,
    ("POST", "/api/v1/assessments/results/{result_id}/corrections"): AUTH,
    ("POST", "/api/v1/assessments/corrections/{correction_id}/decide"): AUTH,
    ("POST", "/api/v1/assessments/plans/{plan_id}/publication"): AUTH,
    ("GET", "/api/v1/assessments/plans/{plan_id}/objections"): AUTH,
    ("POST", "/api/v1/assessments/objections/{objection_id}/answer"): AUTH,
    ("POST", "/api/v1/assessments/plans/{plan_id}/finalise"): AUTH,
    ("GET", "/api/v1/assessments/my/cancellation-choices"): AUTH,
    ("POST", "/api/v1/assessments/cancellation-choices/{choice_id}/choose"): AUTH,
    ("GET", "/api/v1/assessments/plans/{plan_id}/cancellation-choices"): AUTH,
    ("POST", "/api/v1/assessments/cancellation-choices/{choice_id}/refund"): AUTH,
    ("GET", "/api/v1/assessments/public/plans/{plan_id}/results"): PUBLIC,
    ("POST", "/api/v1/assessments/public/plans/{plan_id}/objections"): PUBLIC,
    ("GET", "/api/v1/certificates/{certificate_id}/credential"): AUTH,
    ("GET", "/api/v1/certificates/report"): AUTH,
    ("GET", "/api/v1/certificates/history"): AUTH,
    ("GET", "/api/v1/certificates/import/template"): AUTH,
    ("POST", "/api/v1/certificates/import"): AUTH,
    ("GET", "/api/v1/credentials/status/{purpose}"): PUBLIC,
    ("GET", "/api/v1/certificates"): AUTH,
    ("GET", "/api/v1/certificates/batches/{batch_id}"): AUTH,
    ("POST", "/api/v1/certificates/plans/{plan_id}/issue"): AUTH,
    ("GET", "/api/v1/certificates/plans/{plan_id}/print.pdf"): AUTH,
    ("GET", "/api/v1/certificates/{certificate_id}"): AUTH,
    ("GET", "/api/v1/certificates/{certificate_id}/pdf"): AUTH,
    ("POST", "/api/v1/certificates/{certificate_id}/revoke"): AUTH,
    ("POST", "/api/v1/certificates/{certificate_id}/suspend"): AUTH,
    ("POST", "/api/v1/certificates/{certificate_id}/reinstate"): AUTH,
    ("POST", "/api/v1/certificates/{certificate_id}/replace"): AUTH,
    ("GET", "/api/v1/oversight/audit"): AUTH,
    ("GET", "/api/v1/oversight/audit/verify"): AUTH,
    ("GET", "/api/v1/oversight/public/challenge"): PUBLIC,
    ("POST", "/api/v1/oversight/public/complaints"): PUBLIC,
    ("POST", "/api/v1/oversight/public/track"): PUBLIC,
    ("GET", "/api/v1/oversight/public/exposures"): PUBLIC,
    ("GET", "/api/v1/oversight/public/exposures/{exposure_id}"): PUBLIC,
    ("GET", "/api/v1/oversight/complaints"): AUTH,
    ("GET", "/api/v1/oversight/complaints/{complaint_id}"): AUTH,
    ("POST", "/api/v1/oversight/complaints/{complaint_id}/accept"): AUTH,
    ("POST", "/api/v1/oversight/complaints/{complaint_id}/assign"): AUTH,
    ("POST", "/api/v1/oversight/complaints/{complaint_id}/reject"): AUTH,
    ("POST", "/api/v1/oversight/complaints/{complaint_id}/notes"): AUTH,
    ("POST", "/api/v1/oversight/complaints/{complaint_id}/sanctions"): AUTH,
    ("POST", "/api/v1/oversight/complaints/{complaint_id}/close"): AUTH,
    ("POST", "/api/v1/oversight/exposures/{exposure_id}/withdraw"): AUTH,
    ("GET", "/api/v1/oversight/reliances"): AUTH,
    ("POST", "/api/v1/oversight/reliances"): AUTH,
    ("POST", "/api/v1/oversight/reliances/{reliance_id}/end"): AUTH,
    ("POST", "/api/v1/oversight/insurance-imports"): AUTH,
    ("POST", "/api/v1/oversight/guazheng/scan"): AUTH,
    ("GET", "/api/v1/oversight/guazheng/flags"): AUTH,
    ("GET", "/api/v1/oversight/guazheng/flags/{flag_id}"): AUTH,
    ("POST", "/api/v1/oversight/guazheng/flags/{flag_id}/investigate"): AUTH,
    ("POST", "/api/v1/oversight/guazheng/flags/{flag_id}/dismiss"): AUTH,
    ("POST", "/api/v1/oversight/comebacks/scan"): AUTH,
    ("GET", "/api/v1/oversight/comebacks"): AUTH,
    ("GET", "/api/v1/oversight/comebacks/{finding_id}"): AUTH,
    ("POST", "/api/v1/oversight/comebacks/{finding_id}/investigate"): AUTH,
    ("POST", "/api/v1/oversight/comebacks/{finding_id}/link"): AUTH,
    ("POST", "/api/v1/oversight/comebacks/{finding_id}/dismiss"): AUTH,
    ("GET", "/api/v1/oversight/inspections"): AUTH,
    ("POST", "/api/v1/oversight/inspections"): AUTH,
    ("POST", "/api/v1/oversight/inspections/draw"): AUTH,
    ("GET", "/api/v1/oversight/inspections/{inspection_id}"): AUTH,
    ("POST", "/api/v1/oversight/inspections/{inspection_id}/findings"): AUTH,
    ("POST", "/api/v1/oversight/inspections/{inspection_id}/rectifications"): AUTH,
    ("POST", "/api/v1/oversight/inspections/{inspection_id}/escalate"): AUTH,
    ("POST", "/api/v1/oversight/inspections/{inspection_id}/close"): AUTH,
    ("GET", "/api/v1/oversight/rectifications"): AUTH,
    ("POST", "/api/v1/oversight/rectifications/{rectification_id}/submit"): AUTH,
    ("POST", "/api/v1/oversight/rectifications/{rectification_id}/review"): AUTH,
    ("GET", "/api/v1/oversight/dashboard"): AUTH,
    ("GET", "/api/v1/oversight/dashboard/{panel}.xlsx"): AUTH,
    ("GET", "/api/v1/subsidies/policies"): PUBLIC,
    ("GET", "/api/v1/subsidies/publicity"): PUBLIC,
    ("POST", "/api/v1/subsidies/publicity/{claim_id}/objections"): PUBLIC,
    ("GET", "/api/v1/subsidies/claims"): AUTH,
    ("POST", "/api/v1/subsidies/claims"): AUTH,
    ("GET", "/api/v1/subsidies/claims/preview"): AUTH,
    ("GET", "/api/v1/subsidies/claims/bulk-template"): AUTH,
    ("POST", "/api/v1/subsidies/claims/bulk"): AUTH,
    ("GET", "/api/v1/subsidies/claims/{claim_id}"): AUTH,
    ("POST", "/api/v1/subsidies/claims/{claim_id}/account"): AUTH,
    ("POST", "/api/v1/subsidies/claims/{claim_id}/withdraw"): AUTH,
    ("POST", "/api/v1/subsidies/claims/{claim_id}/review"): AUTH,
    ("POST", "/api/v1/subsidies/claims/{claim_id}/second-review"): AUTH,
    ("POST", "/api/v1/subsidies/claims/{claim_id}/approve"): AUTH,
    ("POST", "/api/v1/subsidies/claims/{claim_id}/reject"): AUTH,
    ("POST", "/api/v1/subsidies/objections/{objection_id}/resolve"): AUTH,
    ("GET", "/api/v1/subsidies/queue"): AUTH,
    ("POST", "/api/v1/subsidies/insurance-records/import"): AUTH,
    ("POST", "/api/v1/subsidies/training-subsidies/import"): AUTH,
    ("GET", "/api/v1/subsidies/batches"): AUTH,
    ("POST", "/api/v1/subsidies/batches"): AUTH,
    ("GET", "/api/v1/subsidies/batches/{batch_id}"): AUTH,
    ("GET", "/api/v1/subsidies/batches/{batch_id}/bank-file"): AUTH,
    ("POST", "/api/v1/subsidies/batches/{batch_id}/claims/{claim_id}/paid"): AUTH,
    ("POST", "/api/v1/subsidies/batches/{batch_id}/claims/{claim_id}/failed"): AUTH,
    ("GET", "/api/v1/subsidies/statistics"): AUTH,
}

# GET operations that check the caller's role before looking the object up, so a worker gets 403 (which
# reveals nothing about whether the id exists) instead of 404. Keep this list short and deliberate.
ROLE_GATED_BEFORE_LOOKUP = {
    ("GET", "/api/v1/subsidies/batches/{batch_id}"),
    ("GET", "/api/v1/subsidies/batches/{batch_id}/bank-file"),
}

PATH_VALUES = {"purpose": "revocation", "kind": "skills"}
REQUIRED_QUERY_VALUES = {"number": "x", "name": "x", "id_number": "x", "certificate_id": "999999"}
ERROR_KEYS = {"code", "message", "details"}


def _schema_operations() -> dict[tuple[str, str], dict]:
    schema = api.get_openapi_schema()
    return {(method.upper(), path): op for path, ops in schema["paths"].items() for method, op in ops.items()}


OPERATIONS = _schema_operations()


def _param_types(op: dict) -> dict[str, str | None]:
    return {p["name"]: p.get("schema", {}).get("type") for p in op.get("parameters", []) if p["in"] == "path"}


def _fill(path: str, op: dict) -> str:
    types = _param_types(op)

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name in PATH_VALUES:
            return PATH_VALUES[name]
        return "999999" if types.get(name) == "integer" else "x"

    return re.sub(r"{(\w+)}", value, path)


def _required_query(op: dict) -> dict[str, str]:
    return {
        p["name"]: REQUIRED_QUERY_VALUES.get(p["name"], "x")
        for p in op.get("parameters", [])
        if p["in"] == "query" and p.get("required")
    }


def _call(client: Client, method: str, url: str, query: dict | None = None):
    if method == "GET":
        return client.get(url, query or {})
    return client.generic(method, url, data="{}", content_type="application/json")


def _ops(audience: str, method: str | None = None, with_path_params: bool | None = None) -> list:
    out = []
    for key, aud in sorted(AUDIENCE.items()):
        if key not in OPERATIONS or aud != audience or (method and key[0] != method):
            continue
        if with_path_params is not None and bool(_param_types(OPERATIONS[key])) != with_path_params:
            continue
        out.append(pytest.param(key, id=f"{key[0]} {key[1]}"))
    return out


def _assert_error_shape(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) >= ERROR_KEYS, body
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["details"], dict)
    return body


@pytest.fixture
def worker():
    return member(Role.WORKER, person=PersonFactory())


# --- the table and the schema agree ---------------------------------------------------------------------


def test_every_schema_operation_has_an_audience():
    missing = sorted(set(OPERATIONS) - set(AUDIENCE))
    assert not missing, f"operations without an entry in AUDIENCE (decide who may call them): {missing}"


def test_every_audience_entry_still_exists():
    stale = sorted(set(AUDIENCE) - set(OPERATIONS))
    assert not stale, f"AUDIENCE entries no longer in the API (remove them): {stale}"


def test_role_gated_entries_are_authenticated_gets_in_the_table():
    assert all(AUDIENCE.get(key) == AUTH and key[0] == "GET" for key in ROLE_GATED_BEFORE_LOOKUP)


def test_audience_values_are_known():
    assert set(AUDIENCE.values()) <= {PUBLIC, AUTH}


def test_audience_matches_declared_security():
    """The OpenAPI document advertises auth exactly where the table says it is needed."""
    wrong = [
        (key, aud)
        for key, aud in AUDIENCE.items()
        if key in OPERATIONS and bool(OPERATIONS[key].get("security")) != (aud == AUTH)
    ]
    assert not wrong, wrong


# --- API matrix -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", _ops(AUTH))
def test_authenticated_operation_refuses_anonymous(key):
    method, path = key
    op = OPERATIONS[key]
    response = _call(Client(), method, _fill(path, op))
    assert response.status_code == 401, (method, path, response.status_code, response.content[:300])
    body = _assert_error_shape(response)
    assert body["code"] == "not_authenticated"


@pytest.mark.parametrize("key", _ops(AUTH, method="GET", with_path_params=True))
def test_authenticated_get_of_missing_object_is_not_found(key, worker, operator):
    method, path = key
    op = OPERATIONS[key]
    url = _fill(path, op)
    query = _required_query(op)

    as_worker = _call(client_for(worker), method, url, query)
    expected = 403 if key in ROLE_GATED_BEFORE_LOOKUP else 404
    assert as_worker.status_code == expected, (path, as_worker.status_code, as_worker.content[:300])
    _assert_error_shape(as_worker)

    as_operator = _call(client_for(operator), method, url, query)
    assert as_operator.status_code == 404, (path, as_operator.status_code, as_operator.content[:300])
    assert _assert_error_shape(as_operator)["code"] == "not_found"


@pytest.mark.parametrize("key", _ops(PUBLIC, method="GET"))
def test_public_get_is_open_to_anonymous(key):
    method, path = key
    op = OPERATIONS[key]
    response = _call(Client(), method, _fill(path, op), _required_query(op))
    assert response.status_code != 401, (path, response.content[:300])
    assert response.status_code < 500, (path, response.status_code, response.content[:300])
    if response.status_code >= 400:
        _assert_error_shape(response)


@pytest.mark.parametrize("key", _ops(PUBLIC, method="GET", with_path_params=True))
def test_public_get_of_missing_object_is_not_found(key):
    """Public lookups by id do not invent data for ids that do not exist (tokens answer `unknown`/`forged`)."""
    method, path = key
    op = OPERATIONS[key]
    response = _call(Client(), method, _fill(path, op), _required_query(op))
    if path.startswith("/api/v1/verify/") or path.startswith("/api/v1/credentials/status/"):
        assert response.status_code in (200, 404), (path, response.status_code)
        if response.status_code == 200 and path.startswith("/api/v1/verify/"):
            assert response.json()["status"] in ("forged", "unknown"), response.json()
        return
    assert response.status_code == 404, (path, response.status_code, response.content[:300])
    _assert_error_shape(response)


# --- page matrix ------------------------------------------------------------------------------------------

# oversight.dashboards._scope calls actor.require_bureau(): PermissionDenied (403) for anyone but bureau staff
# and operators; a region outside the officer's jurisdiction is a 404.
DASHBOARD_DENIED = 403

PAGES = {
    # page: {role: expected status ("login" = redirect to the login page)}
    "/accreditation/review/": {
        "anonymous": "login",
        "cc_officer": 200,
        "province_officer": 200,
        "org_admin": 403,
        "worker": 403,
        "operator": 200,
    },
    "/assessments/manage/": {
        "anonymous": "login",
        "org_admin": 200,
        "cc_officer": 200,
        "worker": 403,
    },
    "/certificates/mine/": {
        "anonymous": "login",
        "worker": 200,
    },
    "/certificates/careers/": {
        "anonymous": "login",
        "worker": 200,
        "org_admin": 200,
    },
    "/assessments/classes/": {
        "anonymous": "login",
        "org_admin": 200,
        "cc_officer": 200,
        "worker": 403,
        "operator": 200,
    },
    "/oversight/dashboard/": {
        "anonymous": "login",
        "cc_officer": 200,
        "province_officer": 200,
        "org_admin": DASHBOARD_DENIED,
        "worker": DASHBOARD_DENIED,
    },
    "/reference/changes/": {
        "anonymous": "login",
        "operator": 200,
        "cc_officer": 403,
        "org_admin": 403,
        "worker": 403,
    },
    "/oversight/comebacks/": {
        "anonymous": "login",
        "cc_officer": 200,
        "province_officer": 200,
        "operator": 200,
        "org_admin": 403,
        "worker": 403,
    },
    "/admin/": {
        "anonymous": "admin_login",
        "operator": 200,
        "cc_officer": "admin_login",
        "org_admin": "admin_login",
        "worker": "admin_login",
    },
}

PAGE_CASES = [
    pytest.param(page, role, expected, id=f"{page} as {role}")
    for page, roles in PAGES.items()
    for role, expected in roles.items()
]


@pytest.mark.parametrize(("page", "role", "expected"), PAGE_CASES)
def test_page_matrix(page, role, expected, request):
    user = None if role == "anonymous" else request.getfixturevalue(role)
    response = client_for(user).get(page)
    if expected == "login":
        assert response.status_code == 302, (page, role, response.status_code)
        assert response["Location"].startswith("/login/"), response["Location"]
    elif expected == "admin_login":
        assert response.status_code == 302, (page, role, response.status_code)
        assert response["Location"].startswith("/admin/login/"), response["Location"]
    else:
        assert response.status_code == expected, (page, role, response.status_code)


def test_dashboard_outside_jurisdiction_is_not_found(cc_officer, jlc_officer):
    """长春 staff asking for 吉林市 figures get a 404, page and API alike; 吉林市 staff see their own."""
    assert client_for(cc_officer).get("/oversight/dashboard/", {"region": "220200"}).status_code == 404
    api_response = client_for(cc_officer).get("/api/v1/oversight/dashboard", {"region": "220200"})
    assert api_response.status_code == 404
    _assert_error_shape(api_response)
    assert client_for(jlc_officer).get("/oversight/dashboard/", {"region": "220200"}).status_code == 200


def test_other_tenants_organisation_is_not_found(org, other_org, org_admin, other_org_admin, cc_officer):
    """An organisation's admin cannot see another organisation; the answer is the same as for a missing id."""
    url = f"/api/v1/accreditation/organisations/{other_org.id}"
    response = client_for(org_admin).get(url)
    assert response.status_code == 404, response.content[:300]
    assert _assert_error_shape(response)["code"] == "not_found"
    assert client_for(other_org_admin).get(url).status_code == 200
    # 长春 bureau staff do not oversee an organisation in 吉林市.
    assert client_for(cc_officer).get(url).status_code == 404
