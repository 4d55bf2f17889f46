"""Permission matrix generated from the API schema and the URL configuration.

API: every operation in the OpenAPI schema must have an entry in AUDIENCE below (and every entry must still
exist), so a new endpoint cannot ship without someone deciding who may call it. Then:

- every "authenticated" operation answers an anonymous caller with 401 and the JSON error shape;
- every "authenticated" GET with path ids answers a signed-in worker asking for objects that do not exist
  with 403/404 (never 5xx, never 200), and the platform operator, who sees everything, with 404;
- every "public" GET answers an anonymous caller without 401 and without 5xx.

Pages: every URL pattern outside the API must have an entry in PAGES with the status of a GET for each of ten
roles (anonymous, worker, assessor, supervisor, trainer, admin of the owning and of another organisation,
bureau staff of the region and of another region, operator), checked against the demo world; representative
POSTs by the wrong role are refused and change nothing.
"""

import datetime
import io
import json
import re
from dataclasses import dataclass, field

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLResolver, get_resolver
from django.utils import timezone

from accounts.actors import Actor
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
    ("POST", "/api/v1/accounts/bind/code"): AUTH,
    ("POST", "/api/v1/accounts/binding-codes"): AUTH,
    ("GET", "/api/v1/accounts/identity-conflicts"): AUTH,
    ("GET", "/api/v1/accounts/invitations"): AUTH,
    ("POST", "/api/v1/accounts/invitations"): AUTH,
    ("POST", "/api/v1/accounts/invitations/{invitation_id}/revoke"): AUTH,
    ("POST", "/api/v1/accounts/invitations/accept"): AUTH,
    ("GET", "/api/v1/accounts/identity-conflicts/{conflict_id}"): AUTH,
    ("POST", "/api/v1/accounts/identity-conflicts/{conflict_id}/resolve"): AUTH,
    ("GET", "/api/v1/reference/regions"): PUBLIC,
    ("GET", "/api/v1/reference/levels"): PUBLIC,
    ("GET", "/api/v1/reference/occupations"): PUBLIC,
    ("GET", "/api/v1/reference/occupations/{code}/standard"): PUBLIC,
    ("GET", "/api/v1/reference/occupation-categories"): PUBLIC,
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
    ("GET", "/api/v1/assessments/plans/{plan_id}/tickets"): AUTH,
    ("GET", "/api/v1/assessments/plans/{plan_id}/result-review"): AUTH,
    ("POST", "/api/v1/assessments/plans/{plan_id}/result-review"): AUTH,
    ("GET", "/api/v1/assessments/result-reviews"): AUTH,
    ("POST", "/api/v1/assessments/result-reviews/{review_id}/decide"): AUTH,
    ("GET", "/api/v1/assessments/plans/{plan_id}/evidence/{kind}"): AUTH,
    ("POST", "/api/v1/assessments/plans/{plan_id}/evidence/{kind}"): AUTH,
    ("GET", "/api/v1/assessments/registrations/{registration_id}/resit"): AUTH,
    ("POST", "/api/v1/assessments/registrations/{registration_id}/resit"): AUTH,
    ("POST", "/api/v1/assessments/plans/{plan_id}/tickets"): AUTH,
    ("GET", "/api/v1/assessments/registrations/{registration_id}/ticket"): AUTH,
    ("GET", "/api/v1/assessments/plans/{plan_id}/checkin/{kind}"): AUTH,
    ("POST", "/api/v1/assessments/plans/{plan_id}/checkin/{kind}"): AUTH,
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
    ("GET", "/api/v1/assessments/plans/{plan_id}/integrity"): AUTH,
    ("GET", "/api/v1/assessments/employers/{organisation_id}/employment-proofs"): AUTH,
    ("POST", "/api/v1/assessments/employers/{organisation_id}/employment-proofs"): AUTH,
    ("POST", "/api/v1/assessments/registrations/{registration_id}/employment-review"): AUTH,
    ("POST", "/api/v1/assessments/plans/{plan_id}/integrity/exceptions"): AUTH,
    ("POST", "/api/v1/assessments/integrity/exceptions/{exception_id}/revoke"): AUTH,
    ("GET", "/api/v1/assessments/public/plans/{plan_id}/results"): PUBLIC,
    ("POST", "/api/v1/assessments/public/plans/{plan_id}/objections"): PUBLIC,
    ("GET", "/api/v1/certificates/{certificate_id}/credential"): AUTH,
    ("GET", "/api/v1/certificates/report"): AUTH,
    ("GET", "/api/v1/exports"): AUTH,
    ("GET", "/api/v1/exports/{export_id}"): AUTH,
    ("GET", "/api/v1/exports/{export_id}/file"): AUTH,
    ("GET", "/api/v1/certificates/history"): AUTH,
    ("GET", "/api/v1/certificates/import/template"): AUTH,
    ("POST", "/api/v1/certificates/import"): AUTH,
    ("GET", "/api/v1/credentials/status/{purpose}"): PUBLIC,
    ("GET", "/api/v1/credentials/status/{issuer}/{purpose}"): PUBLIC,
    ("GET", "/api/v1/credentials/status/{issuer}/{number}/{purpose}"): PUBLIC,
    ("GET", "/api/v1/certificates"): AUTH,
    ("GET", "/api/v1/certificates/national/records"): AUTH,
    ("GET", "/api/v1/certificates/national/summary"): AUTH,
    ("POST", "/api/v1/certificates/national/records/{record_id}/resend"): AUTH,
    ("GET", "/api/v1/shared-copies"): AUTH,
    ("POST", "/api/v1/shared-copies"): AUTH,
    ("POST", "/api/v1/shared-copies/{copy_id}/withdraw"): AUTH,
    ("GET", "/api/v1/shared-copies/verify/{token}"): PUBLIC,
    ("GET", "/api/v1/webhooks/subscriptions"): AUTH,
    ("POST", "/api/v1/webhooks/subscriptions"): AUTH,
    ("GET", "/api/v1/webhooks/subscriptions/{subscription_id}"): AUTH,
    ("POST", "/api/v1/webhooks/subscriptions/{subscription_id}/rotate"): AUTH,
    ("POST", "/api/v1/webhooks/subscriptions/{subscription_id}/active"): AUTH,
    ("POST", "/api/v1/webhooks/subscriptions/{subscription_id}/delete"): AUTH,
    ("GET", "/api/v1/webhooks/deliveries"): AUTH,
    ("POST", "/api/v1/webhooks/deliveries/{delivery_id}/replay"): AUTH,
    ("GET", "/api/v1/certificates/batches/{batch_id}"): AUTH,
    ("POST", "/api/v1/certificates/plans/{plan_id}/issue"): AUTH,
    ("GET", "/api/v1/certificates/plans/{plan_id}/print.pdf"): AUTH,
    ("GET", "/api/v1/certificates/{certificate_id}"): AUTH,
    ("GET", "/api/v1/certificates/{certificate_id}/pdf"): AUTH,
    ("GET", "/api/v1/certificates/{certificate_id}/ecert"): AUTH,
    ("POST", "/api/v1/certificates/{certificate_id}/revoke"): AUTH,
    ("POST", "/api/v1/certificates/{certificate_id}/suspend"): AUTH,
    ("POST", "/api/v1/certificates/{certificate_id}/reinstate"): AUTH,
    ("POST", "/api/v1/certificates/{certificate_id}/replace"): AUTH,
    ("POST", "/api/v1/certificates/{certificate_id}/reissue"): AUTH,
    ("POST", "/api/v1/certificates/revocations"): AUTH,
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
    ("POST", "/api/v1/subsidies/military-records/import"): AUTH,
    ("POST", "/api/v1/subsidies/other-region-records/import"): AUTH,
    ("POST", "/api/v1/subsidies/declared-certificates"): AUTH,
    ("GET", "/api/v1/subsidies/declared-certificates"): AUTH,
    ("POST", "/api/v1/subsidies/declared-certificates/declare"): AUTH,
    ("POST", "/api/v1/subsidies/declared-certificates/{declared_id}/withdraw"): AUTH,
    ("POST", "/api/v1/subsidies/declared-certificates/{declared_id}/decide"): AUTH,
    ("GET", "/api/v1/subsidies/batches"): AUTH,
    ("POST", "/api/v1/subsidies/batches"): AUTH,
    ("GET", "/api/v1/subsidies/batches/{batch_id}"): AUTH,
    ("GET", "/api/v1/subsidies/batches/{batch_id}/bank-file"): AUTH,
    ("POST", "/api/v1/subsidies/batches/{batch_id}/claims/{claim_id}/paid"): AUTH,
    ("POST", "/api/v1/subsidies/batches/{batch_id}/claims/{claim_id}/failed"): AUTH,
    ("POST", "/api/v1/subsidies/batches/{batch_id}/bank-return"): AUTH,
    ("GET", "/api/v1/subsidies/budgets"): AUTH,
    ("POST", "/api/v1/subsidies/intake/claims"): AUTH,
    ("GET", "/api/v1/subsidies/intake/notices"): AUTH,
    ("POST", "/api/v1/subsidies/budgets"): AUTH,
    ("POST", "/api/v1/subsidies/budgets/{budget_id}/supplements"): AUTH,
    ("GET", "/api/v1/subsidies/statistics"): AUTH,
    ("GET", "/api/v1/subsidies/statistics/cities"): AUTH,
}

# GET operations that check the caller's role before looking the object up, so a worker gets 403 (which
# reveals nothing about whether the id exists) instead of 404. Keep this list short and deliberate.
ROLE_GATED_BEFORE_LOOKUP = {
    ("GET", "/api/v1/subsidies/batches/{batch_id}"),
    ("GET", "/api/v1/subsidies/batches/{batch_id}/bank-file"),
    ("GET", "/api/v1/accounts/identity-conflicts/{conflict_id}"),  # bureau work: identity cases are not for others
}

PATH_VALUES = {"purpose": "revocation", "kind": "skills"}
REQUIRED_QUERY_VALUES = {"number": "x", "name": "x", "id_number": "x", "certificate_id": "999999"}
ERROR_KEYS = {"code", "message", "details"}
MD5 = "django.contrib.auth.hashers.MD5PasswordHasher"


SCHEMA = api.get_openapi_schema()


def _schema_operations() -> dict[tuple[str, str], dict]:
    schema = SCHEMA
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
    token_paths = ("/api/v1/verify/", "/api/v1/shared-copies/verify/")
    if path.startswith((*token_paths, "/api/v1/credentials/status/")):
        assert response.status_code in (200, 404), (path, response.status_code)
        if response.status_code == 200 and path.startswith(token_paths):
            assert response.json()["status"] in ("forged", "unknown"), response.json()
        return
    assert response.status_code == 404, (path, response.status_code, response.content[:300])
    _assert_error_shape(response)


# --- page matrix ------------------------------------------------------------------------------------------
#
# Every URL pattern outside the API is listed in PAGES with the status each role gets for a GET, on objects of
# the demo world (`seed_demo`): the owning organisation is 长春华信 (employer) unless the entry says otherwise,
# the region bureau is 长春市人社局 and the other region's is 吉林市人社局. A pattern without an entry fails
# `test_every_page_pattern_has_an_entry`; a pattern removed from the URL conf fails the stale-entry test.

LOGIN = "login"  # a redirect to /login/?next=...
ADMIN_LOGIN = "admin_login"  # the admin site's own login page

ROLES = (
    "anonymous",
    "worker",
    "assessor",
    "supervisor",
    "trainer",
    "org_admin",  # admin of the organisation owning the page's object
    "other_org_admin",  # admin of 吉林市职业技能评价中心, another tenant in another city
    "bureau",  # 长春市人社局 staff: the region of the owning organisation
    "other_bureau",  # 吉林市人社局 staff
    "operator",  # platform operator (superuser)
)

# Patterns the page matrix does not cover, each with the reason.
EXCLUDED_PREFIXES = {
    "api/v1/": "the API is covered by AUDIENCE and API_GETS",
    "^api/v1/": "the plain scan view mounted before the API answers GET /api/v1/verify/{token}, in AUDIENCE",
    "admin/": "Django admin's own pages beyond its index belong to Django; the index is in PAGES",
    "i18n/": "set_language is Django's POST-only language switch, open to everyone by design",
    "media/": "no URL serves the media folder (tests/config/test_media.py); uploads go through checked views",
    "static/": "static files are served by whitenoise/the web server, not by a URL pattern",
}
INCLUDED_DESPITE_PREFIX = {"admin/"}

# The demo usernames behind each role. org_admin depends on the page's owner (OWNERS below).
ROLE_USERS = {
    "worker": "worker1",
    "assessor": "assessor1",
    "supervisor": "supervisor1",
    "trainer": "trainer1",
    "other_org_admin": "jlc_org_admin",
    "bureau": "cc_officer",
    "other_bureau": "jlc_officer",
    "operator": "admin",
}
OWNERS = {"employer": "employer_admin", "association": "assoc_admin", "school": "school_admin"}
MISSING = 999999  # for kinds of object the demo does not create: the page must still answer 404, not 500


def _walk(patterns, prefix: str = "") -> list[str]:
    routes = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            routes += _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            routes.append(prefix + str(pattern.pattern))
    return routes


def page_patterns() -> list[str]:
    routes = []
    for route in _walk(get_resolver().url_patterns):
        excluded = any(route.startswith(p) for p in EXCLUDED_PREFIXES)
        if not excluded or route in INCLUDED_DESPITE_PREFIX:
            routes.append(route)
    return sorted(set(routes))


@dataclass(frozen=True)
class Page:
    """Expected status per role for GET of one URL pattern; `default` for every role not named."""

    default: int | str
    overrides: dict
    owner: str = "employer"
    args: dict = field(default_factory=dict)  # path values for this pattern (else from the world by name)

    def expected(self, role: str) -> int | str:
        return self.overrides.get(role, self.default)


def page(default, owner: str = "employer", args: dict | None = None, **overrides) -> Page:
    unknown = set(overrides) - set(ROLES)
    assert not unknown, unknown
    return Page(default, overrides, owner, args or {})


PUBLIC_PAGE = page(200)
POST_ONLY = page(405, anonymous=LOGIN)  # @login_required @require_POST views


@dataclass
class World:
    users: dict
    values: dict
    clients: dict = field(default_factory=dict)

    def client(self, role: str, spec: "Page") -> Client:
        user = _user_for(role, spec, self)
        return self.clients[user.username if user is not None else ""]


def _build_world() -> World:
    from django.core.files.base import ContentFile
    from django.db.models import Count

    from accounts.models import User
    from accounts.services import api_token_create
    from accreditation.models import Appointment, Filing, Organisation
    from assessments.models import ComponentResult, GraduatingClass, Objection, Plan, Registration
    from certificates.models import Certificate, IssueBatch, StatusList
    from certificates.national.models import ReportRecord
    from certificates.sharing.services import copy_create
    from certificates.webhooks.models import Delivery, Subscription
    from occupations.changes import change_create
    from occupations.models import Qualification
    from oversight.models import (
        CertificateReliance,
        ComebackFinding,
        Complaint,
        ComplaintAttachment,
        Exposure,
        GuazhengFlag,
        Inspection,
        Rectification,
    )
    from subsidies.models import Claim, DeclaredCertificate, FundBudget, PaymentBatch
    from subsidies.models import Objection as ClaimObjection

    users = {u.username: u for u in User.objects.filter(username__in=[*ROLE_USERS.values(), *OWNERS.values()])}
    employer = Organisation.objects.get(name="长春华信汽车零部件有限公司")
    plan = Plan.objects.filter(organisation=employer, status=Plan.Status.FINALISED).order_by("id").first()
    registration = Registration.objects.filter(plan=plan).order_by("id").first()
    certificate = Certificate.objects.filter(organisation=employer, registration__plan=plan).order_by("id").first()
    association = Organisation.objects.get(name="吉林省餐饮与家政服务行业协会")
    subscription = Subscription.objects.create(
        organisation=employer, url="https://hr.example.com/hook", events=["certificate.issued"], secret="whsec_matrix"
    )
    inspection = Inspection.objects.filter(organisation=association).get()
    batch = PaymentBatch.objects.order_by("id").first()
    token, _ = api_token_create(
        actor=Actor.for_user(users["employer_admin"]), organisation_id=employer.id, name="权限矩阵"
    )
    values = {
        "org_id": employer.id,
        "organisation_id": employer.id,
        "exception_id": 999999,  # none in the demo: a write on it is refused like any other
        "filing_id": Filing.objects.filter(organisation=employer).get().id,
        "appointment_id": Appointment.objects.filter(organisation=employer, person=users["assessor1"].person).get().id,
        "plan_id": plan.id,
        "registration_id": registration.id,
        "failed_registration_id": Registration.objects.filter(plan=plan, outcome__in=["failed", "absent"])
        .order_by("id")
        .first()
        .id,
        "result_id": ComponentResult.objects.filter(registration=registration).order_by("id").first().id,
        "certificate_id": certificate.id,
        "record_id": ReportRecord.objects.filter(certificate=certificate).order_by("id").first().id,
        "subscription_id": subscription.id,
        "delivery_id": Delivery.objects.create(
            subscription=subscription, event="certificate.issued", payload={"type": "certificate.issued"}
        ).id,
        "token": certificate.token,
        "token_id": token.id,
        "assessor_user_id": users["assessor1"].id,
        "claim_id": Claim.objects.filter(person=users["worker1"].person).order_by("id").first().id,
        "claim_objection_id": ClaimObjection.objects.order_by("id").first().id,
        "objection_id": Objection.objects.filter(publication__plan=plan).get().id,
        "batch_id": batch.id,
        "budget_id": FundBudget.objects.get(region__code="220100").id,
        # worker1's certificate from 广东, declared to 长春 (the demo)
        "declared_id": DeclaredCertificate.objects.get(person=users["worker1"].person).id,
        "paid_claim_id": batch.lines.get().claim_id,
        "class_id": GraduatingClass.objects.get().id,
        "complaint_id": Complaint.objects.filter(organisation=employer).order_by("id").first().id,
        "exposure_id": Exposure.objects.order_by("id").first().id,
        "flag_id": GuazhengFlag.objects.filter(employer=employer).order_by("id").first().id,
        "finding_id": ComebackFinding.objects.filter(organisation=association).order_by("id").first().id,
        "inspection_id": inspection.id,
        "rectification_id": Rectification.objects.filter(inspection=inspection).get().id,
        "other_filing_id": Filing.objects.exclude(organisation__region__code__startswith="2201")
        .filter(status=Filing.Status.SUBMITTED)
        .get()
        .id,
        "reviewed_claim_id": Claim.objects.filter(status=Claim.Status.REVIEWED).order_by("id").first().id,
        "open_complaint_id": Complaint.objects.filter(status=Complaint.Status.INVESTIGATING).order_by("id").first().id,
        "reliance_id": CertificateReliance.objects.order_by("id").first().id,
        "change_id": change_create(
            actor=Actor.for_user(users["admin"]),
            qualification_id=Qualification.objects.order_by("id").first().id,
            kind="cancel",
            effective_on=timezone.localdate() + datetime.timedelta(days=30),
            basis="权限矩阵",
        ).id,
        "worker_certificate_id": Certificate.objects.filter(person=users["worker1"].person).order_by("id").first().id,
        "issue_batch_id": IssueBatch.objects.filter(plan=plan).get().id,
        "code": plan.occupation.code,
        # Batch printing renders every certificate of the plan: the employer's plan with the fewest keeps it quick.
        "print_plan_id": Plan.objects.filter(organisation=employer, registrations__certificate__isnull=False)
        .annotate(issued=Count("registrations__certificate"))
        .order_by("issued", "id")
        .first()
        .id,
        "purpose": "revocation",
        "copy_id": copy_create(
            actor=Actor.for_user(users["worker1"]),
            certificate_id=Certificate.objects.filter(person=users["worker1"].person).order_by("id").first().id,
            purpose="用于权限矩阵",
            valid_until=timezone.localdate() + datetime.timedelta(days=7),
        ).id,
        "status_issuer": f"o{employer.id}",  # the employer's own status lists
        # A second list, as issuance opens one when the first fills up (certificates/status_index.py).
        "status_list_number": StatusList.objects.get_or_create(number=1, defaults={"capacity": 2**22})[0].number,
        "choice_id": MISSING,
        "review_id": MISSING,
        "evidence_id": MISSING,
        "correction_id": MISSING,
        "kind": "skills",
        "panel": "organisations",
    }
    # Files behind the download pages: evidence on the owner's complaint, and the inspected organisation's
    # rectification evidence.
    complaint = Complaint.objects.get(pk=values["complaint_id"])
    pdf = b"%PDF-1.4\n%%EOF\n"
    values["attachment_id"] = ComplaintAttachment.objects.create(
        complaint=complaint,
        title="evidence.pdf",
        file=ContentFile(pdf, name="evidence.pdf"),
        content_type="application/pdf",
        size=len(pdf),
        from_reporter=False,
    ).id
    rectification = Rectification.objects.get(pk=values["rectification_id"])
    rectification.evidence_file = ContentFile(pdf, name="rectification.pdf")
    rectification.evidence_content_type = "application/pdf"
    rectification.save(update_fields=["evidence_file", "evidence_content_type"])
    # A filing's material, an assessor's qualification evidence and a registration photo (core/files.py).
    from accreditation.models import FilingAttachment

    values["filing_attachment_id"] = FilingAttachment.objects.create(
        filing_id=values["filing_id"],
        title="申请表.pdf",
        file=ContentFile(pdf, name="filing.pdf"),
        content_type="application/pdf",
        size=len(pdf),
    ).id
    appointment = Appointment.objects.get(pk=values["appointment_id"])
    appointment.evidence = ContentFile(pdf, name="evidence.pdf")
    appointment.save(update_fields=["evidence"])
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 16
    registration_row = Registration.objects.get(pk=values["registration_id"])
    registration_row.photo = ContentFile(jpeg, name="photo.jpg")
    registration_row.save(update_fields=["photo"])
    # An identity case in 长春 (the employer imported a name that differs from the record), with its evidence.
    from accounts.conflicts import identity_conflict_open

    conflict = identity_conflict_open(
        actor=Actor.for_user(users["employer_admin"]),
        person=registration_row.person,
        claimed_name="权限矩阵",
        source="import",
        organisation=employer,
    )
    conflict.evidence = ContentFile(pdf, name="conflict.pdf")
    conflict.save(update_fields=["evidence"])
    values["conflict_id"] = conflict.id
    # An open invitation from 长春's bureau to a new officer.
    from accounts.invitations import invitation_create

    from .factories import make_ric

    invitation, raw = invitation_create(
        actor=Actor.for_user(users["cc_officer"]),
        role="bureau_staff",
        name="权限矩阵",
        id_type="ric",
        id_number=make_ric(region="220104", birth=datetime.date(1990, 3, 3), seq=321),
        bureau_id=users["cc_officer"].memberships.get().bureau_id,
    )
    values["invitation_id"] = invitation.id
    values["invitation_token"] = raw
    from core.models import Export

    # A queued export of the 长春 officer's: theirs alone (no file yet, so its download is a 404 even for them).
    values["export_id"] = Export.objects.create(
        owner=users["cc_officer"], kind="certificates.report", title="权限矩阵", file_format="csv", filename="x.csv"
    ).id

    # One signed-in client per user for the whole module, signed in here so that the sessions outlive each
    # test's savepoint: signing ten users in again for each of hundreds of patterns was most of the time.
    clients = {"": client_for(None)} | {name: client_for(user) for name, user in users.items()}
    return World(users=users, values=values, clients=clients)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo world, built once for the module inside a transaction rolled back at the end; each test runs in
    a savepoint inside it, so GETs with side effects cannot leak from one test into the next."""
    media = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=[MD5], MEDIA_ROOT=media):
        with transaction.atomic():
            call_command("seed_demo", stdout=io.StringIO())
            built = _build_world()
            yield built
            transaction.set_rollback(True)
        cache.clear()


def _url(route: str, spec: Page, world: World) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        key = spec.args.get(name, name)
        return str(world.values.get(key, key))

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", value, route)


def _user_for(role: str, spec: Page, world: World):
    if role == "anonymous":
        return None
    if role == "org_admin":
        return world.users[OWNERS[spec.owner]]
    return world.users[ROLE_USERS[role]]


def _outcome(response) -> int | str:
    if response.status_code == 302 and response["Location"].startswith("/login/"):
        return LOGIN
    if response.status_code == 302 and response["Location"].startswith("/admin/login/"):
        return ADMIN_LOGIN
    return response.status_code


PAGES: dict[str, Page] = {
    # URL pattern (as Django spells it, without the leading slash): expected GET status per role.
    "": PUBLIC_PAGE,
    ".well-known/jwks.json": PUBLIC_PAGE,
    ".well-known/document-signing-chain.pem": PUBLIC_PAGE,
    ".well-known/document-signing-chain-sm2.pem": PUBLIC_PAGE,
    ".well-known/sm2-keys.json": PUBLIC_PAGE,
    "accounts/me/": page(200, anonymous=LOGIN),
    "accounts/bind/code/": page(200, anonymous=LOGIN),
    # Issuing: an organisation's admin (or supervisor) and a bureau's window; nobody else has a desk.
    "accounts/binding-codes/": page(
        404, anonymous=LOGIN, org_admin=200, other_org_admin=200, bureau=200, other_bureau=200
    ),
    "accounts/invitations/": page(
        404, anonymous=LOGIN, org_admin=200, other_org_admin=200, bureau=200, other_bureau=200, operator=200
    ),
    "accounts/invitations/<int:invitation_id>/revoke/": POST_ONLY,
    # An invitation link: anyone may open it (it says what to do next); an unknown token is a 404.
    "accounts/invite/<str:token>/": page(200, args={"token": "invitation_token"}),
    "accounts/identity-conflicts/": page(403, anonymous=LOGIN, bureau=200, other_bureau=200, operator=200),
    "accounts/identity-conflicts/<int:conflict_id>/": page(
        403, anonymous=LOGIN, bureau=200, other_bureau=404, operator=200
    ),
    "accounts/identity-conflicts/<int:conflict_id>/evidence/": page(
        403, anonymous=LOGIN, bureau=200, other_bureau=404, operator=200
    ),
    "accounts/oidc/callback/": page(400),  # no sign-in pending under that state: refused before any network call
    "accounts/oidc/link/": POST_ONLY,
    "accounts/oidc/login/": page(405),  # a POST with the CSRF token starts a sign-in; a GET starts nothing
    "accounts/signup/": page(302, anonymous=200),  # signed-in users are sent to their account page
    "accounts/password/": page(200, anonymous=LOGIN),
    "accounts/password/reset/": PUBLIC_PAGE,
    "accounts/password/reset/<uidb64>/<token>/": page(200, args={"uidb64": "MQ", "token": "not-a-token"}),
    "accounts/password/reset/done/": PUBLIC_PAGE,
    "accounts/password/reset/sent/": PUBLIC_PAGE,
    # Second factor: every client here has passed it (tests/conftest.py::client_for); workers and trainers have
    # nothing to enrol, verify sends a verified session on to `next`.
    "accounts/second-factor/enrol/": page(200, anonymous=LOGIN, worker=403, trainer=403),
    "accounts/second-factor/recovery-codes/": page(200, anonymous=LOGIN, worker=403, trainer=403),
    "accounts/second-factor/staff/": page(
        403, anonymous=LOGIN, org_admin=200, other_org_admin=200, bureau=200, other_bureau=200, operator=200
    ),
    "accounts/second-factor/staff/<int:user_id>/reset/": page(
        405, args={"user_id": "assessor_user_id"}, anonymous=LOGIN
    ),
    "accounts/second-factor/verify/": page(302, anonymous=LOGIN),
    "accounts/security/": page(200, anonymous=LOGIN),
    "accounts/tokens/": page(403, anonymous=LOGIN, org_admin=200, other_org_admin=200),
    "accounts/tokens/<int:token_id>/revoke/": POST_ONLY,
    "accounts/tokens/new/": POST_ONLY,
    "accreditation/appointments/<int:appointment_id>/evidence/": page(
        404, anonymous=LOGIN, org_admin=200, bureau=200, operator=200
    ),
    "accreditation/appointments/<int:appointment_id>/withdraw/": POST_ONLY,
    "accreditation/filings/<int:filing_id>/": page(
        200, anonymous=LOGIN, worker=404, supervisor=404, other_org_admin=404, other_bureau=404
    ),
    "accreditation/filings/<int:filing_id>/submit/": POST_ONLY,
    "accreditation/filings/<int:filing_id>/start-review/": POST_ONLY,
    "accreditation/filings/<int:filing_id>/approve/": POST_ONLY,
    "accreditation/filings/<int:filing_id>/return/": POST_ONLY,
    "accreditation/filings/<int:filing_id>/reject/": POST_ONLY,
    "accreditation/filings/<int:filing_id>/suspend/": POST_ONLY,
    "accreditation/filings/<int:filing_id>/reinstate/": POST_ONLY,
    "accreditation/filings/<int:filing_id>/revoke/": POST_ONLY,
    "accreditation/filings/<int:filing_id>/attach/": POST_ONLY,
    "accreditation/filings/<int:filing_id>/attachments/<int:filing_attachment_id>/": page(
        200, anonymous=LOGIN, worker=404, supervisor=404, other_org_admin=404, other_bureau=404
    ),
    "accreditation/filings/<int:filing_id>/edit/": page(
        # the form is the admin's; the others who may read the organisation are refused, not shown a dead form
        403,
        anonymous=LOGIN,
        org_admin=200,
        worker=404,
        supervisor=404,
        other_org_admin=404,
        other_bureau=404,
    ),
    "accreditation/mine/": page(200, anonymous=LOGIN, assessor=302, trainer=302, org_admin=302, other_org_admin=302),
    "accreditation/organisations/<int:org_id>/": page(
        200, anonymous=LOGIN, worker=404, supervisor=404, other_org_admin=404, other_bureau=404
    ),
    "accreditation/organisations/<int:org_id>/filings/new/": page(
        # the form is the admin's; the others who may read the organisation are refused, not shown a dead form
        403,
        anonymous=LOGIN,
        org_admin=200,
        worker=404,
        supervisor=404,
        other_org_admin=404,
        other_bureau=404,
    ),
    "accreditation/organisations/<int:org_id>/seal/": POST_ONLY,
    # the demo employer's specimen seal: for whoever may read the organisation's page
    "accreditation/organisations/<int:org_id>/seal.png": page(
        200, anonymous=LOGIN, worker=404, supervisor=404, other_org_admin=404, other_bureau=404
    ),
    "accreditation/organisations/<int:org_id>/people/": page(
        200, anonymous=LOGIN, worker=404, supervisor=404, other_org_admin=404, other_bureau=404
    ),
    "accreditation/organisations/<int:org_id>/training/": page(
        200, anonymous=LOGIN, worker=404, supervisor=404, other_org_admin=404, other_bureau=404
    ),
    "accreditation/register/": PUBLIC_PAGE,
    "accreditation/review/": page(403, anonymous=LOGIN, bureau=200, other_bureau=200, operator=200),
    "accreditation/supervisors/": page(403, anonymous=LOGIN, bureau=200, other_bureau=200),
    "accreditation/training-template.xlsx": PUBLIC_PAGE,
    "admin/": page(ADMIN_LOGIN, operator=200),
    "assessments/classes-template.xlsx": PUBLIC_PAGE,
    "assessments/classes/": page(200, anonymous=LOGIN, worker=403, assessor=403, supervisor=403, trainer=403),
    "assessments/classes/<int:class_id>/": page(
        404, owner="school", anonymous=LOGIN, org_admin=200, bureau=200, operator=200
    ),
    "assessments/employers/<int:organisation_id>/employment-proofs/": page(
        405, args={"organisation_id": "1"}, anonymous=LOGIN
    ),
    "assessments/integrity/exceptions/<int:exception_id>/revoke/": page(
        405, args={"exception_id": "1"}, anonymous=LOGIN
    ),
    "assessments/manage/": page(200, anonymous=LOGIN, worker=403, assessor=403, supervisor=403, trainer=403),
    "assessments/manage/<int:plan_id>/": page(
        200, anonymous=LOGIN, worker=404, supervisor=404, other_org_admin=404, other_bureau=404
    ),
    "assessments/manage/<int:plan_id>/cancellation/": page(
        200, anonymous=LOGIN, worker=404, supervisor=404, other_org_admin=404, other_bureau=404
    ),
    "assessments/manage/new/<int:org_id>/": page(404, anonymous=LOGIN, assessor=403, trainer=403, org_admin=200),
    "assessments/my/": page(200, anonymous=LOGIN),
    "assessments/result-reviews/": page(403, anonymous=LOGIN, bureau=200, other_bureau=200, operator=200),
    "assessments/result-reviews/<int:review_id>/decide/": POST_ONLY,
    "assessments/plans/<int:plan_id>/result-review/": page(
        200, anonymous=LOGIN, worker=404, supervisor=404, other_org_admin=404, other_bureau=404
    ),
    "assessments/plans/<int:plan_id>/evidence/<str:kind>/": page(
        200, anonymous=LOGIN, worker=404, trainer=403, other_org_admin=404, other_bureau=404
    ),
    "assessments/plans/<int:plan_id>/evidence/<str:kind>/add/": POST_ONLY,
    "assessments/evidence/<int:evidence_id>/download/": page(404, anonymous=LOGIN),
    "assessments/evidence/missing/": page(403, anonymous=LOGIN, bureau=200, other_bureau=200, operator=200),
    "assessments/checkin/": page(200, anonymous=LOGIN),
    "assessments/plans/<int:plan_id>/checkin/<str:kind>/": page(
        404, anonymous=LOGIN, assessor=200, supervisor=200, trainer=403, org_admin=200, bureau=403, operator=403
    ),
    "assessments/plans/<int:plan_id>/tickets/": page(
        404, anonymous=LOGIN, assessor=403, trainer=403, org_admin=200, bureau=403, operator=403
    ),
    "assessments/plans/<int:plan_id>/tickets/<int:registration_id>/reissue/": POST_ONLY,
    "assessments/registrations/<int:registration_id>/ticket/": page(
        200, anonymous=LOGIN, worker=404, supervisor=404, other_org_admin=404, other_bureau=404
    ),
    "assessments/registrations/<int:registration_id>/ticket.pdf": page(
        200, anonymous=LOGIN, worker=404, supervisor=404, other_org_admin=404, other_bureau=404
    ),
    "assessments/my/choices/<int:choice_id>/": POST_ONLY,
    "assessments/plans/": PUBLIC_PAGE,
    "assessments/plans/<int:plan_id>/": PUBLIC_PAGE,
    "assessments/plans/<int:plan_id>/integrity/exceptions/": POST_ONLY,
    "assessments/plans/<int:plan_id>/panel/": page(
        200, anonymous=LOGIN, worker=404, supervisor=404, other_org_admin=404, other_bureau=404
    ),
    "assessments/plans/<int:plan_id>/panel/<str:kind>/<int:appointment_id>/remove/": page(405, anonymous=LOGIN),
    "assessments/plans/<int:plan_id>/panel/<str:kind>/assign/": POST_ONLY,
    "assessments/plans/<int:plan_id>/register/": page(200, anonymous=LOGIN),
    "assessments/plans/<int:plan_id>/results/": page(
        404, anonymous=LOGIN, assessor=403, trainer=403, org_admin=200, bureau=403, operator=403
    ),
    "assessments/plans/<int:plan_id>/results/finalise/": POST_ONLY,
    "assessments/plans/<int:plan_id>/results/open/": POST_ONLY,
    "assessments/plans/<int:plan_id>/scores/": page(
        404, anonymous=LOGIN, assessor=403, trainer=403, org_admin=200, bureau=200, operator=200
    ),
    "assessments/plans/<int:plan_id>/scores/<str:kind>/": page(
        404, anonymous=LOGIN, assessor=200, trainer=403, org_admin=403, bureau=403, operator=403
    ),
    "assessments/plans/<int:plan_id>/scores/<str:kind>/import/": POST_ONLY,
    "assessments/plans/<int:plan_id>/scores/<str:kind>/lock/": POST_ONLY,
    "assessments/plans/<int:plan_id>/scores/<str:kind>/sheet.xlsx": page(
        404, anonymous=LOGIN, assessor=200, trainer=403, org_admin=403, bureau=403, operator=403
    ),
    "assessments/plans/<int:plan_id>/scores/results/": page(
        404, anonymous=LOGIN, assessor=403, trainer=403, org_admin=200, bureau=200, operator=200
    ),
    "assessments/plans/<int:plan_id>/supervisor/": page(
        404, anonymous=LOGIN, assessor=403, trainer=403, org_admin=403, bureau=200, operator=200
    ),
    "assessments/publicity/<int:plan_id>/": PUBLIC_PAGE,
    "assessments/publicity/<int:plan_id>/objection/": page(405),
    "assessments/publicity/objections/<int:objection_id>/answer/": POST_ONLY,
    "assessments/registrations-template.xlsx": PUBLIC_PAGE,
    "assessments/registrations/<int:registration_id>/": page(
        200, anonymous=LOGIN, worker=404, supervisor=404, other_org_admin=404, other_bureau=404
    ),
    "assessments/registrations/<int:registration_id>/photo/": page(
        200, anonymous=LOGIN, worker=404, supervisor=404, other_org_admin=404, other_bureau=404
    ),
    "assessments/registrations/<int:registration_id>/employment-review/": POST_ONLY,
    "assessments/registrations/<int:registration_id>/resit/": page(
        404, anonymous=LOGIN, org_admin=200, args={"registration_id": "failed_registration_id"}
    ),
    "assessments/registrations/<int:registration_id>/review/": POST_ONLY,
    "assessments/scoring/corrections/<int:correction_id>/decide/": POST_ONLY,
    "assessments/scoring/mine/": page(200, anonymous=LOGIN),
    "assessments/scoring/results/<int:result_id>/correction/": POST_ONLY,
    "assessments/supervision/": page(200, anonymous=LOGIN),
    "assessments/supervision/plans/<int:plan_id>/report/": page(404, anonymous=LOGIN, supervisor=200),
    "assessments/supervision/relationships/": page(200, anonymous=LOGIN),
    "certificates/": page(200, anonymous=LOGIN),
    "certificates/<int:certificate_id>/": page(404, anonymous=LOGIN, org_admin=200, bureau=200, operator=200),
    "certificates/<int:certificate_id>/pdf/": page(404, anonymous=LOGIN, org_admin=200, bureau=200, operator=200),
    "certificates/careers/": page(200, anonymous=LOGIN),
    "certificates/mine/": page(200, anonymous=LOGIN),
    # 数据上报: organisation admins and bureau staff (each sees their own records), not workers or assessors
    "certificates/national/": page(
        403, anonymous=LOGIN, org_admin=200, other_org_admin=200, bureau=200, other_bureau=200, operator=200
    ),
    "certificates/national/<int:record_id>/resend/": POST_ONLY,
    # 加注件: the holder's own (worker1's copy); everyone else's view of a copy is its public scan page
    "certificates/shared/": page(200, anonymous=LOGIN),
    "certificates/shared/<int:copy_id>/pdf/": page(404, anonymous=LOGIN, worker=200),
    "certificates/shared/<int:copy_id>/withdraw/": POST_ONLY,
    "s/<str:token>": PUBLIC_PAGE,
    # Webhooks: an organisation's admin manages its own; other roles have no such page, another tenant's is a 404
    "certificates/webhooks/": page(403, anonymous=LOGIN, org_admin=200, other_org_admin=200, operator=200),
    "certificates/webhooks/<int:subscription_id>/": page(
        403, anonymous=LOGIN, org_admin=200, other_org_admin=404, operator=200
    ),
    "certificates/webhooks/<int:subscription_id>/<str:name>/": page(405, args={"name": "rotate"}, anonymous=LOGIN),
    "certificates/webhooks/deliveries/<int:delivery_id>/replay/": POST_ONLY,
    "certificates/plans/<int:plan_id>/issue/": page(
        200, anonymous=LOGIN, worker=404, supervisor=404, other_org_admin=404, other_bureau=404
    ),
    "certificates/plans/<int:plan_id>/issue/start/": POST_ONLY,
    # the preview of a bulk revocation: those who may read the plan; it lists only what they may revoke
    "certificates/plans/<int:plan_id>/revoke/": page(
        200, anonymous=LOGIN, worker=404, supervisor=404, other_org_admin=404, other_bureau=404
    ),
    # The local identity provider (development and tests only; not installed in production): its own audience is
    # the platform's server (token) and anyone's browser (authorize), never the platform's roles.
    "dev-idp/.well-known/openid-configuration": PUBLIC_PAGE,
    "dev-idp/authorize": page(400),  # without a registered client and redirect URI: shown, never redirected
    "dev-idp/jwks": PUBLIC_PAGE,
    "dev-idp/token": page(405),
    "dev-idp/userinfo": page(401),  # a bearer token of the provider's own, never a platform session
    "directory/": PUBLIC_PAGE,
    "directory/<int:org_id>/": PUBLIC_PAGE,
    "favicon.ico": page(301),  # a permanent redirect to the static icon, for everyone
    "healthz": PUBLIC_PAGE,
    "login/": PUBLIC_PAGE,
    "logout/": page(405),
    "oversight/audit/": page(403, anonymous=LOGIN, bureau=200, other_bureau=200, operator=200),
    "oversight/comebacks/": page(403, anonymous=LOGIN, bureau=200, other_bureau=200, operator=200),
    "oversight/comebacks/<int:finding_id>/": page(405, owner="association", anonymous=LOGIN),
    "oversight/comebacks/scan/": POST_ONLY,
    "oversight/complaints/": page(403, anonymous=LOGIN, bureau=200, other_bureau=200, operator=200),
    "oversight/complaints/<int:complaint_id>/": page(404, anonymous=LOGIN, bureau=200, operator=200),
    "oversight/complaints/<int:complaint_id>/accept/": page(405, anonymous=LOGIN),
    "oversight/complaints/<int:complaint_id>/assign/": page(405, anonymous=LOGIN),
    "oversight/complaints/<int:complaint_id>/attach/": page(405, anonymous=LOGIN),
    "oversight/complaints/<int:complaint_id>/close/": page(405, anonymous=LOGIN),
    "oversight/complaints/<int:complaint_id>/note/": page(405, anonymous=LOGIN),
    "oversight/complaints/<int:complaint_id>/reject/": page(405, anonymous=LOGIN),
    "oversight/complaints/<int:complaint_id>/sanction/": page(405, anonymous=LOGIN),
    "oversight/complaints/<int:complaint_id>/attachments/<int:attachment_id>/": page(
        404, anonymous=LOGIN, bureau=200, operator=200
    ),
    "oversight/dashboard/": page(403, anonymous=LOGIN, bureau=200, other_bureau=200, operator=200),
    "oversight/dashboard/<str:panel>.xlsx": page(403, anonymous=LOGIN, bureau=200, other_bureau=200, operator=200),
    "oversight/exposures/": PUBLIC_PAGE,
    "oversight/exposures/<int:exposure_id>/": PUBLIC_PAGE,
    "oversight/exposures/<int:exposure_id>/withdraw/": POST_ONLY,
    "oversight/guazheng/": page(403, anonymous=LOGIN, bureau=200, other_bureau=200, operator=200),
    "oversight/guazheng/flags/<int:flag_id>/": page(404, anonymous=LOGIN, bureau=200, operator=200),
    "oversight/guazheng/flags/<int:flag_id>/dismiss/": page(405, anonymous=LOGIN),
    "oversight/guazheng/flags/<int:flag_id>/investigate/": page(405, anonymous=LOGIN),
    "oversight/guazheng/scan/": POST_ONLY,
    "oversight/guazheng/template.xlsx": PUBLIC_PAGE,
    "oversight/inspections/": page(200, anonymous=LOGIN, worker=403, assessor=403, supervisor=403, trainer=403),
    "oversight/inspections/draw/": POST_ONLY,
    "oversight/inspections/<int:inspection_id>/": page(
        404, owner="association", anonymous=LOGIN, org_admin=200, bureau=200, operator=200
    ),
    "oversight/inspections/<int:inspection_id>/close/": page(405, owner="association", anonymous=LOGIN),
    "oversight/inspections/<int:inspection_id>/escalate/": page(405, owner="association", anonymous=LOGIN),
    "oversight/inspections/<int:inspection_id>/findings/": page(405, owner="association", anonymous=LOGIN),
    "oversight/inspections/<int:inspection_id>/rectify/": page(405, owner="association", anonymous=LOGIN),
    "oversight/rectifications/<int:rectification_id>/review/": page(405, owner="association", anonymous=LOGIN),
    "oversight/rectifications/<int:rectification_id>/submit/": page(405, owner="association", anonymous=LOGIN),
    "oversight/rectifications/<int:rectification_id>/evidence/": page(
        404, owner="association", anonymous=LOGIN, org_admin=200, bureau=200, operator=200
    ),
    "oversight/reliances/": page(200, anonymous=LOGIN, worker=403, assessor=403, supervisor=403, trainer=403),
    "oversight/reliances/<int:reliance_id>/end/": page(405, anonymous=LOGIN),
    "oversight/report/": PUBLIC_PAGE,
    "exports/": page(200, anonymous=LOGIN),  # each signed-in user sees their own exports (none: an empty list)
    "exports/<int:export_id>/": page(404, anonymous=LOGIN, bureau=200),  # only its owner sees an export
    "exports/<int:export_id>/download/": page(404, anonymous=LOGIN),
    "oversight/report/done/": page(302),
    "oversight/track/": PUBLIC_PAGE,
    "ping": PUBLIC_PAGE,
    "reference/catalogue/": PUBLIC_PAGE,
    "reference/changes/": page(403, anonymous=LOGIN, operator=200),
    "reference/changes/<int:change_id>/": page(404, anonymous=LOGIN, operator=200),
    "reference/occupations/": PUBLIC_PAGE,
    "reference/occupations/<str:code>/": page(200, args={"code": "6-31-01-03"}),
    "subsidies/": page(302, anonymous=LOGIN, worker=200, assessor=200, supervisor=200, trainer=200),
    "subsidies/batches/": page(403, anonymous=LOGIN, bureau=200, other_bureau=200, operator=200),
    "subsidies/batches/<int:batch_id>/": page(403, anonymous=LOGIN, bureau=200, other_bureau=404, operator=200),
    "subsidies/batches/<int:batch_id>/bank.xlsx": page(
        403, anonymous=LOGIN, bureau=200, other_bureau=404, operator=200
    ),
    "subsidies/batches/<int:batch_id>/claims/<int:claim_id>/<str:result>/": page(
        405, args={"claim_id": "paid_claim_id", "result": "paid"}, anonymous=LOGIN
    ),
    "subsidies/bulk-template.xlsx": PUBLIC_PAGE,
    "subsidies/bank-return-template.xlsx": PUBLIC_PAGE,
    "subsidies/batches/<int:batch_id>/bank-return/": page(405, anonymous=LOGIN),
    "subsidies/certificates/<int:certificate_id>/claim/": page(
        403,
        args={"certificate_id": "worker_certificate_id"},
        anonymous=LOGIN,
        worker=200,
        assessor=404,
        supervisor=404,
        trainer=404,
    ),
    "subsidies/claims/<int:claim_id>/": page(404, anonymous=LOGIN, worker=200, bureau=200, operator=200),
    "subsidies/claims/<int:claim_id>/review/": POST_ONLY,
    "subsidies/claims/<int:claim_id>/second-review/": POST_ONLY,
    "subsidies/claims/<int:claim_id>/approve/": POST_ONLY,
    "subsidies/claims/<int:claim_id>/reject/": POST_ONLY,
    "subsidies/claims/<int:claim_id>/withdraw/": POST_ONLY,
    "subsidies/claims/<int:claim_id>/account/": POST_ONLY,
    # Certificates held outside the platform: a person declares their own; the region's officers verify them.
    "subsidies/declared/": page(403, anonymous=LOGIN, worker=200, assessor=200, supervisor=200, trainer=200),
    "subsidies/declared/review/": page(403, anonymous=LOGIN, bureau=200, other_bureau=200, operator=200),
    "subsidies/declared/<int:declared_id>/": page(404, anonymous=LOGIN, worker=200, bureau=200, operator=200),
    "subsidies/declared/<int:declared_id>/withdraw/": POST_ONLY,
    # The fund's budget: bureau staff, each their own region's; another region's budget is a 404.
    "subsidies/budgets/": page(403, anonymous=LOGIN, bureau=200, other_bureau=200, operator=200),
    "subsidies/budgets/<int:budget_id>/": page(403, anonymous=LOGIN, bureau=200, other_bureau=404, operator=200),
    "subsidies/employer/": page(403, anonymous=LOGIN, org_admin=200),
    "subsidies/employer/<int:org_id>/": page(404, anonymous=LOGIN, org_admin=200),
    "subsidies/objections/<int:objection_id>/resolve/": page(
        405, args={"objection_id": "claim_objection_id"}, anonymous=LOGIN
    ),
    "subsidies/policies/": PUBLIC_PAGE,
    "subsidies/publicity/": PUBLIC_PAGE,
    "subsidies/publicity/<int:claim_id>/object/": page(405),
    "subsidies/queue/": page(403, anonymous=LOGIN, bureau=200, other_bureau=200, operator=200),
    "subsidies/records/": page(403, anonymous=LOGIN, bureau=200, other_bureau=200, operator=200),
    "subsidies/records/insurance-template.xlsx": PUBLIC_PAGE,
    "subsidies/records/training-template.xlsx": PUBLIC_PAGE,
    "subsidies/records/military-template.xlsx": PUBLIC_PAGE,
    "subsidies/records/other-region-template.xlsx": PUBLIC_PAGE,
    "subsidies/statistics/": page(403, anonymous=LOGIN, bureau=200, other_bureau=200, operator=200),
    "subsidies/statistics/cities.xlsx": page(403, anonymous=LOGIN, bureau=200, other_bureau=200, operator=200),
    "v/<str:token>": PUBLIC_PAGE,
    "v/<str:token>/photo": page(404),
    "verify/": PUBLIC_PAGE,
}


def test_every_page_pattern_has_an_entry():
    missing = sorted(set(page_patterns()) - set(PAGES))
    assert not missing, (
        f"URL patterns without an entry in PAGES (tests/test_permission_matrix.py): {missing}. Add one per pattern "
        "with the status each role should get, or add its prefix to EXCLUDED_PREFIXES with the reason."
    )


def test_every_page_entry_still_exists():
    stale = sorted(set(PAGES) - set(page_patterns()))
    assert not stale, f"PAGES entries no longer in the URL configuration (remove them): {stale}"


@pytest.mark.parametrize("route", [pytest.param(route, id=f"/{route}") for route in sorted(PAGES)])
def test_page_matrix(route, world):
    """One request per role; every mismatch is reported at once, so a table fix is one edit."""
    spec = PAGES[route]
    cache.clear()  # ten callers from one address: earlier tests must not have used up a rate limit
    url = _url(route, spec, world)
    wrong = {}
    for role in ROLES:
        got = _outcome(world.client(role, spec).get(url))
        if got != spec.expected(role):
            wrong[role] = f"expected {spec.expected(role)}, got {got}"
    assert not wrong, (url, wrong)


# POST by a role that must not act: one representative per kind of action. The answer is a 404 where the view
# looks the object up in the actor's scope first, a flashed refusal (302) where the service refuses; either
# way nothing changes. (route, path values, role, expected status, (model, lookup, world key, watched field))
REFUSED_POSTS = [
    (
        "accreditation/filings/<int:filing_id>/start-review/",
        {"filing_id": "other_filing_id"},
        "bureau",
        404,
        ("accreditation.Filing", "pk", "other_filing_id", "status"),
    ),
    (
        "subsidies/claims/<int:claim_id>/approve/",
        {"claim_id": "reviewed_claim_id"},
        "other_bureau",
        404,
        ("subsidies.Claim", "pk", "reviewed_claim_id", "status"),
    ),
    (
        "subsidies/claims/<int:claim_id>/approve/",
        {},
        "worker",
        302,
        ("subsidies.Claim", "pk", "claim_id", "status"),
    ),
    (
        "subsidies/declared/<int:declared_id>/",
        {},
        "other_bureau",
        404,
        ("subsidies.DeclaredCertificate", "pk", "declared_id", "status"),
    ),
    (
        "subsidies/declared/<int:declared_id>/withdraw/",
        {},
        "assessor",
        302,  # flashed "未找到": only the declarant may withdraw
        ("subsidies.DeclaredCertificate", "pk", "declared_id", "status"),
    ),
    (
        "certificates/plans/<int:plan_id>/issue/start/",
        {},
        "other_org_admin",
        404,
        ("certificates.IssueBatch", "plan_id", "plan_id", "status"),
    ),
    (
        "oversight/complaints/<int:complaint_id>/close/",
        {"complaint_id": "open_complaint_id"},
        "other_bureau",
        404,
        ("oversight.Complaint", "pk", "open_complaint_id", "status"),
    ),
    (
        "oversight/rectifications/<int:rectification_id>/submit/",
        {},
        "other_org_admin",
        404,
        ("oversight.Rectification", "pk", "rectification_id", "status"),
    ),
    (
        "subsidies/batches/<int:batch_id>/claims/<int:claim_id>/<str:result>/",
        {"claim_id": "paid_claim_id", "result": "failed"},
        "other_bureau",
        404,
        ("subsidies.PaymentLine", "batch_id", "batch_id", "status"),
    ),
    (
        "assessments/registrations/<int:registration_id>/review/",
        {},
        "other_org_admin",
        404,
        ("assessments.Registration", "pk", "registration_id", "status"),
    ),
    (
        "accounts/tokens/<int:token_id>/revoke/",
        {},
        "other_org_admin",
        302,
        ("accounts.ApiToken", "pk", "token_id", "revoked_at"),
    ),
    (
        "accounts/second-factor/staff/<int:user_id>/reset/",
        {"user_id": "assessor_user_id"},
        "other_org_admin",
        404,
        ("otp_totp.TOTPDevice", "user_id", "assessor_user_id", "key"),
    ),
    (
        "accounts/second-factor/staff/<int:user_id>/reset/",
        {"user_id": "assessor_user_id"},
        "bureau",
        404,
        ("otp_totp.TOTPDevice", "user_id", "assessor_user_id", "key"),
    ),
    (
        "accreditation/appointments/<int:appointment_id>/withdraw/",
        {},
        "other_org_admin",
        302,
        ("accreditation.Appointment", "pk", "appointment_id", "status"),
    ),
    (
        "oversight/guazheng/flags/<int:flag_id>/dismiss/",
        {},
        "other_bureau",
        404,
        ("oversight.GuazhengFlag", "pk", "flag_id", "status"),
    ),
    (
        "oversight/reliances/<int:reliance_id>/end/",
        {},
        "other_org_admin",
        302,
        ("oversight.CertificateReliance", "pk", "reliance_id", "end"),
    ),
    (
        "oversight/exposures/<int:exposure_id>/withdraw/",
        {},
        "org_admin",
        302,
        ("oversight.Exposure", "pk", "exposure_id", "withdrawn_at"),
    ),
    (
        "accounts/invitations/<int:invitation_id>/revoke/",
        {},
        "other_bureau",
        302,  # flashed "未找到" and sent back to its own list
        ("accounts.Invitation", "pk", "invitation_id", "revoked_at"),
    ),
    (
        "accounts/identity-conflicts/<int:conflict_id>/",
        {},
        "other_bureau",
        404,
        ("accounts.IdentityConflict", "pk", "conflict_id", "status"),
    ),
    (
        "accounts/identity-conflicts/<int:conflict_id>/",
        {},
        "org_admin",
        403,
        ("accounts.IdentityConflict", "pk", "conflict_id", "status"),
    ),
    (
        "assessments/plans/<int:plan_id>/tickets/<int:registration_id>/reissue/",
        {},
        "other_org_admin",
        302,
        ("assessments.AdmissionTicket", "registration_id", "registration_id", "secret"),
    ),
    (
        "assessments/plans/<int:plan_id>/checkin/<str:kind>/",
        {},
        "bureau",
        403,
        ("assessments.CheckIn", "registration_id", "registration_id", "status"),
    ),
]


def _watched(world: World, watch: tuple) -> list:
    from django.apps import apps

    label, lookup, key, field_name = watch
    model = apps.get_model(label)
    return list(model.objects.filter(**{lookup: world.values[key]}).order_by("pk").values_list("pk", field_name))


@pytest.mark.parametrize(
    ("route", "args", "role", "expected", "watch"),
    [pytest.param(*case, id=f"POST {case[0]} as {case[2]}") for case in REFUSED_POSTS],
)
def test_post_by_wrong_role_is_refused_and_changes_nothing(route, args, role, expected, watch, world):
    assert route in PAGES
    spec = page(405, args=args)
    before = _watched(world, watch)
    assert before, watch  # the watched object exists, or the test would prove nothing
    response = world.client(role, spec).post(_url(route, spec, world), {"reason": "权限矩阵", "action": "investigate"})
    assert response.status_code == expected, (route, role, response.status_code)
    assert _watched(world, watch) == before


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


API_ARGS = {
    "/api/v1/assessments/registrations/{registration_id}/resit": {"registration_id": "failed_registration_id"},
    "/api/v1/certificates/batches/{batch_id}": {"batch_id": "issue_batch_id"},
    "/api/v1/certificates/plans/{plan_id}/print.pdf": {"plan_id": "print_plan_id"},
    "/api/v1/credentials/status/{issuer}/{purpose}": {"issuer": "status_issuer"},
    "/api/v1/credentials/status/{issuer}/{number}/{purpose}": {
        "issuer": "status_issuer",
        "number": "status_list_number",
    },
}


def _api_url(path: str, world: World) -> str:
    args = API_ARGS.get(path, {})

    def value(match: re.Match) -> str:
        key = args.get(match.group(1), match.group(1))
        return str(world.values.get(key, key))

    return re.sub(r"{(\w+)}", value, path)


def _api_query(op: dict, world: World) -> dict:
    values = {**REQUIRED_QUERY_VALUES, "certificate_id": world.values["worker_certificate_id"]}
    return {
        p["name"]: values.get(p["name"], "x")
        for p in op.get("parameters", [])
        if p["in"] == "query" and p.get("required")
    }


SIGNED_IN = page(200, anonymous=401)  # lists scoped to the caller: everyone signed in gets their own rows

# GET operations x roles, on the same world as the pages (path values by parameter name, API_ARGS to override).
API_GETS: dict[str, Page] = {
    "/api/v1/accounts/me": SIGNED_IN,
    "/api/v1/accounts/tokens": SIGNED_IN,
    "/api/v1/accounts/invitations": SIGNED_IN,
    "/api/v1/accounts/identity-conflicts": page(403, anonymous=401, bureau=200, other_bureau=200, operator=200),
    "/api/v1/accounts/identity-conflicts/{conflict_id}": page(
        403, anonymous=401, bureau=200, other_bureau=404, operator=200
    ),
    "/api/v1/accreditation/appointments": SIGNED_IN,
    "/api/v1/accreditation/filings": SIGNED_IN,
    "/api/v1/accreditation/filings/review-queue": page(403, anonymous=401, bureau=200, other_bureau=200, operator=200),
    "/api/v1/accreditation/filings/{filing_id}": page(
        200, anonymous=401, worker=404, supervisor=404, other_org_admin=404, other_bureau=404
    ),
    "/api/v1/accreditation/organisations": SIGNED_IN,
    "/api/v1/accreditation/organisations/{org_id}": page(
        200, anonymous=401, worker=404, supervisor=404, other_org_admin=404, other_bureau=404
    ),
    "/api/v1/accreditation/training-records": SIGNED_IN,
    "/api/v1/assessments/classes": SIGNED_IN,
    "/api/v1/assessments/classes/{class_id}": page(
        404, owner="school", anonymous=401, org_admin=200, bureau=200, operator=200
    ),
    "/api/v1/assessments/my/assessor-plans": SIGNED_IN,
    "/api/v1/assessments/my/cancellation-choices": SIGNED_IN,
    "/api/v1/assessments/plans": SIGNED_IN,
    "/api/v1/assessments/plans/public": PUBLIC_PAGE,
    "/api/v1/assessments/plans/public/{plan_id}": PUBLIC_PAGE,
    "/api/v1/assessments/employers/{organisation_id}/employment-proofs": page(
        200, anonymous=401, worker=404, assessor=403, supervisor=404, trainer=403, other_org_admin=404, other_bureau=404
    ),
    "/api/v1/assessments/plans/{plan_id}": page(
        200, anonymous=401, worker=404, supervisor=404, other_org_admin=404, other_bureau=404
    ),
    "/api/v1/assessments/plans/{plan_id}/cancellation-choices": page(
        200, anonymous=401, worker=404, supervisor=404, other_org_admin=404, other_bureau=404
    ),
    "/api/v1/assessments/plans/{plan_id}/objections": page(
        404, anonymous=401, assessor=403, trainer=403, org_admin=200, bureau=403, operator=403
    ),
    "/api/v1/assessments/plans/{plan_id}/integrity": page(
        200, anonymous=401, worker=404, supervisor=404, other_org_admin=404, other_bureau=404
    ),
    "/api/v1/assessments/plans/{plan_id}/checkin/{kind}": page(
        404, anonymous=401, assessor=200, supervisor=200, trainer=403, org_admin=200, bureau=403, operator=403
    ),
    "/api/v1/assessments/plans/{plan_id}/tickets": page(
        404, anonymous=401, assessor=403, trainer=403, org_admin=200, bureau=403, operator=403
    ),
    "/api/v1/assessments/plans/{plan_id}/panel": page(
        200, anonymous=401, worker=404, supervisor=404, other_org_admin=404, other_bureau=404
    ),
    "/api/v1/assessments/plans/{plan_id}/panel/{kind}/candidates": page(
        200, anonymous=401, worker=404, supervisor=404, other_org_admin=404, other_bureau=404
    ),
    "/api/v1/assessments/plans/{plan_id}/results": page(
        404, anonymous=401, assessor=403, trainer=403, org_admin=200, bureau=200, operator=200
    ),
    "/api/v1/assessments/plans/{plan_id}/supervisor/candidates": page(
        404, anonymous=401, assessor=403, trainer=403, org_admin=403, bureau=200, operator=200
    ),
    "/api/v1/assessments/public/plans/{plan_id}/results": PUBLIC_PAGE,
    "/api/v1/assessments/registrations": SIGNED_IN,
    "/api/v1/assessments/registrations/{registration_id}": page(
        200, anonymous=401, worker=404, supervisor=404, other_org_admin=404, other_bureau=404
    ),
    "/api/v1/assessments/registrations/{registration_id}/ticket": page(
        200, anonymous=401, worker=404, supervisor=404, other_org_admin=404, other_bureau=404
    ),
    "/api/v1/assessments/registrations/{registration_id}/resit": page(404, anonymous=401, org_admin=200),
    "/api/v1/assessments/plans/{plan_id}/result-review": page(
        200, anonymous=401, worker=404, supervisor=404, other_org_admin=404, other_bureau=404
    ),
    "/api/v1/assessments/result-reviews": SIGNED_IN,
    "/api/v1/assessments/plans/{plan_id}/evidence/{kind}": page(
        200, anonymous=401, worker=404, trainer=403, other_org_admin=404, other_bureau=404
    ),
    "/api/v1/assessments/relationships": SIGNED_IN,
    "/api/v1/assessments/supervision/my-plans": SIGNED_IN,
    "/api/v1/careers/mine": page(403, anonymous=401, worker=200, assessor=200, supervisor=200, trainer=200),
    "/api/v1/certificates": SIGNED_IN,
    "/api/v1/certificates/batches/{batch_id}": page(
        200, anonymous=401, worker=404, supervisor=404, other_org_admin=404, other_bureau=404
    ),
    "/api/v1/certificates/history": page(403, anonymous=401, org_admin=200, other_org_admin=200),
    "/api/v1/certificates/import/template": page(403, anonymous=401, bureau=200, other_bureau=200, operator=200),
    "/api/v1/certificates/plans/{plan_id}/print.pdf": page(404, anonymous=401, org_admin=200, bureau=200, operator=200),
    "/api/v1/certificates/report": page(403, anonymous=401, bureau=200, other_bureau=200, operator=200),
    "/api/v1/exports": SIGNED_IN,
    "/api/v1/exports/{export_id}": page(404, anonymous=401, bureau=200),
    "/api/v1/exports/{export_id}/file": page(404, anonymous=401),
    "/api/v1/certificates/{certificate_id}": page(404, anonymous=401, org_admin=200, bureau=200, operator=200),
    "/api/v1/certificates/{certificate_id}/credential": page(
        404, anonymous=401, org_admin=200, bureau=200, operator=200
    ),
    "/api/v1/certificates/{certificate_id}/pdf": page(404, anonymous=401, org_admin=200, bureau=200, operator=200),
    "/api/v1/certificates/national/records": SIGNED_IN,  # each sees their own records (a worker: none)
    "/api/v1/certificates/national/summary": SIGNED_IN,
    "/api/v1/certificates/{certificate_id}/ecert": page(404, anonymous=401, org_admin=200, bureau=200, operator=200),
    "/api/v1/credentials/status/{purpose}": PUBLIC_PAGE,
    "/api/v1/credentials/status/{issuer}/{purpose}": PUBLIC_PAGE,
    "/api/v1/credentials/status/{issuer}/{number}/{purpose}": PUBLIC_PAGE,
    "/api/v1/directory/": PUBLIC_PAGE,
    "/api/v1/directory/{org_id}": PUBLIC_PAGE,
    "/api/v1/oversight/audit": SIGNED_IN,
    "/api/v1/oversight/audit/verify": page(403, anonymous=401, bureau=200, other_bureau=200, operator=200),
    "/api/v1/oversight/comebacks": page(403, anonymous=401, bureau=200, other_bureau=200, operator=200),
    "/api/v1/oversight/comebacks/{finding_id}": page(404, owner="association", anonymous=401, bureau=200, operator=200),
    "/api/v1/oversight/complaints": page(403, anonymous=401, bureau=200, other_bureau=200, operator=200),
    "/api/v1/oversight/complaints/{complaint_id}": page(404, anonymous=401, bureau=200, operator=200),
    "/api/v1/oversight/dashboard": page(403, anonymous=401, bureau=200, other_bureau=200, operator=200),
    "/api/v1/oversight/dashboard/{panel}.xlsx": page(403, anonymous=401, bureau=200, other_bureau=200, operator=200),
    "/api/v1/oversight/guazheng/flags": page(403, anonymous=401, bureau=200, other_bureau=200, operator=200),
    "/api/v1/oversight/guazheng/flags/{flag_id}": page(404, anonymous=401, bureau=200, operator=200),
    "/api/v1/oversight/inspections": SIGNED_IN,
    "/api/v1/oversight/inspections/{inspection_id}": page(
        404, owner="association", anonymous=401, org_admin=200, bureau=200, operator=200
    ),
    "/api/v1/oversight/public/challenge": PUBLIC_PAGE,
    "/api/v1/oversight/public/exposures": PUBLIC_PAGE,
    "/api/v1/oversight/public/exposures/{exposure_id}": PUBLIC_PAGE,
    "/api/v1/oversight/rectifications": SIGNED_IN,
    "/api/v1/oversight/reliances": SIGNED_IN,
    "/api/v1/reference/catalogue": PUBLIC_PAGE,
    "/api/v1/reference/changes": page(403, anonymous=401, operator=200),
    "/api/v1/reference/changes/{change_id}": page(404, anonymous=401, operator=200),
    "/api/v1/reference/levels": PUBLIC_PAGE,
    "/api/v1/reference/occupations": PUBLIC_PAGE,
    "/api/v1/reference/occupations/{code}/standard": PUBLIC_PAGE,
    "/api/v1/reference/occupation-categories": PUBLIC_PAGE,
    "/api/v1/reference/regions": PUBLIC_PAGE,
    "/api/v1/shared-copies": SIGNED_IN,  # the holder's own copies (others: an empty list)
    "/api/v1/shared-copies/verify/{token}": PUBLIC_PAGE,
    "/api/v1/subsidies/batches": page(403, anonymous=401, bureau=200, other_bureau=200, operator=200),
    "/api/v1/subsidies/batches/{batch_id}": page(403, anonymous=401, bureau=200, other_bureau=404, operator=200),
    "/api/v1/subsidies/batches/{batch_id}/bank-file": page(
        403, anonymous=401, bureau=200, other_bureau=404, operator=200
    ),
    "/api/v1/subsidies/budgets": page(403, anonymous=401, bureau=200, other_bureau=200, operator=200),
    "/api/v1/subsidies/declared-certificates": SIGNED_IN,
    # Only a registered channel's signed request gets in: every signed-in user is 401 like the anonymous.
    "/api/v1/subsidies/intake/notices": page(401),
    "/api/v1/subsidies/claims": SIGNED_IN,
    "/api/v1/subsidies/claims/bulk-template": SIGNED_IN,
    "/api/v1/subsidies/claims/preview": page(403, anonymous=401, worker=200, assessor=404, supervisor=404, trainer=404),
    "/api/v1/subsidies/claims/{claim_id}": page(404, anonymous=401, worker=200, bureau=200, operator=200),
    "/api/v1/subsidies/policies": PUBLIC_PAGE,
    "/api/v1/subsidies/publicity": PUBLIC_PAGE,
    "/api/v1/subsidies/queue": page(403, anonymous=401, bureau=200, other_bureau=200, operator=200),
    "/api/v1/subsidies/statistics": page(403, anonymous=401, bureau=200, other_bureau=200, operator=200),
    "/api/v1/subsidies/statistics/cities": page(403, anonymous=401, bureau=200, other_bureau=200, operator=200),
    "/api/v1/verify/lookup": PUBLIC_PAGE,
    "/api/v1/verify/{token}": PUBLIC_PAGE,
    "/api/v1/webhooks/deliveries": SIGNED_IN,  # an organisation admin's own (others: an empty list)
    "/api/v1/webhooks/subscriptions": SIGNED_IN,
    "/api/v1/webhooks/subscriptions/{subscription_id}": page(404, anonymous=401, org_admin=200, operator=200),
}


def test_every_api_get_has_a_role_entry():
    gets = {path for method, path in OPERATIONS if method == "GET"}
    missing = sorted(gets - set(API_GETS))
    assert not missing, f"GET operations without an entry in API_GETS (tests/test_permission_matrix.py): {missing}"
    assert not set(API_GETS) - gets, sorted(set(API_GETS) - gets)


@pytest.mark.parametrize("path", sorted(API_GETS))
def test_api_get_matrix(path, world):
    spec = API_GETS[path]
    cache.clear()  # ten callers from one address: earlier tests must not have used up a rate limit (verify/lookup)
    url = _api_url(path, world)
    query = _api_query(OPERATIONS[("GET", path)], world)
    wrong = {}
    for role in ROLES:
        response = world.client(role, spec).get(url, query)
        if response.status_code != spec.expected(role):
            wrong[role] = f"expected {spec.expected(role)}, got {response.status_code}"
        elif response.status_code >= 400:
            _assert_error_shape(response)
    assert not wrong, (url, wrong)


def test_batch_print_of_a_plan_without_certificates_is_not_found(world):
    """It was a 500 (an empty PDF cannot be rendered) for a plan with nothing issued and for assessors."""
    from assessments.models import Plan

    plan = Plan.objects.get(organisation__name="吉林省餐饮与家政服务行业协会", status=Plan.Status.PUBLISHED)
    response = client_for(world.users["assoc_admin"]).get(f"/api/v1/certificates/plans/{plan.id}/print.pdf")
    assert response.status_code == 404, response.content[:300]
    assert _assert_error_shape(response)["code"] == "not_found"


def _resolve(node: dict) -> dict:
    while "$ref" in node:
        node = SCHEMA["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    if "allOf" in node and len(node["allOf"]) == 1:
        return _resolve(node["allOf"][0])
    if "anyOf" in node:
        return _resolve(next(n for n in node["anyOf"] if n.get("type") != "null"))
    return node


def _sample(node: dict):
    node = _resolve(node)
    if "enum" in node:
        return node["enum"][0]
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        return {name: _sample(prop) for name, prop in node.get("properties", {}).items()}
    if kind == "array":
        return []
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return False
    if node.get("format") == "date":
        return "2026-12-01"
    if node.get("format") == "date-time":
        return "2026-12-01T00:00:00+08:00"
    return "权限矩阵"


def _body(op: dict):
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    return _sample(content["application/json"]["schema"])


# Writes that validate their body before looking the object up, so a wrong caller gets 422 with the generated body.
BODY_VALIDATED_FIRST = {
    # multipart uploads: the file is required by the signature
    ("POST", "/api/v1/assessments/employers/{organisation_id}/employment-proofs"),
    ("POST", "/api/v1/assessments/classes/{class_id}/students"),
    ("POST", "/api/v1/assessments/plans/{plan_id}/registrations/import"),
    ("POST", "/api/v1/assessments/plans/{plan_id}/scores/{kind}/import"),
    ("POST", "/api/v1/oversight/rectifications/{rectification_id}/submit"),
    ("POST", "/api/v1/accounts/identity-conflicts/{conflict_id}/resolve"),
    # the evidence form's fields are required by the signature
    ("POST", "/api/v1/assessments/plans/{plan_id}/evidence/{kind}"),
    ("POST", "/api/v1/subsidies/batches/{batch_id}/bank-return"),
    # the registration form's identity fields are checked by the schema
    ("POST", "/api/v1/assessments/plans/{plan_id}/registrations"),
    # the OpenAPI document shows another app's schema of the same name, so the generated body misses a field
    ("POST", "/api/v1/assessments/plans/{plan_id}/panel/{kind}"),
    ("POST", "/api/v1/assessments/plans/{plan_id}/supervisor"),
    ("POST", "/api/v1/oversight/rectifications/{rectification_id}/review"),
}


def _writes_with_path_ids() -> list:
    return [
        pytest.param(key, id=f"{key[0]} {key[1]}")
        for key in sorted(OPERATIONS)
        if key[0] != "GET" and AUDIENCE.get(key) == AUTH and "{" in key[1]
    ]


@pytest.mark.parametrize("key", _writes_with_path_ids())
def test_api_write_on_another_tenants_object_is_refused(key, world):
    """Every write on an object of 长春华信 (or of 长春) by the admin of the 吉林市 organisation and by 吉林市 bureau
    staff, with a body generated from the OpenAPI schema, is refused with 403/404 and leaves no audit entry,
    i.e. changes nothing."""
    from core.models import AuditEntry

    method, path = key
    url = _api_url(path, world)
    body = json.dumps(_body(OPERATIONS[key]) or {})
    allowed = (403, 404, 422) if key in BODY_VALIDATED_FIRST else (403, 404)
    for role in ("other_org_admin", "other_bureau"):
        before = AuditEntry.objects.count()
        response = world.client(role, Page(0, {})).generic(method, url, data=body, content_type="application/json")
        assert response.status_code in allowed, (role, url, response.status_code, response.content[:300])
        _assert_error_shape(response)
        assert AuditEntry.objects.count() == before, (role, url)
