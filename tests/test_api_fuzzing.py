"""Schemathesis fuzzes every operation of /api/v1/openapi.json in-process (WSGI), as several roles: no response
may be a 5xx, and every response must match the status codes, content type and schema the document declares.

Bounded so that the whole suite stays well inside CI's budget: a fixed number of examples per operation and role,
derandomised (the same cases every run), no shrinking of failures beyond Hypothesis's default phases."""

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.actors import Actor
from accounts.models import Role
from accounts.services import api_token_create
from config.wsgi import application
from tests.factories import BureauFactory, OrganisationFactory, member, region

MAX_EXAMPLES = 4
ROLES = ["anonymous", "worker", "org_admin", "bureau_staff", "operator"]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CSRF = "fuzzcsrf" * 4  # a 32-character secret, sent both as the cookie and as the header


schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
# The coverage phase (every boundary value of every field, ~30 requests an operation) would make this the slowest
# file of the suite; the fuzzing phase with a fixed number of derandomised examples keeps it to a few minutes.
schema.config.phases.coverage.enabled = False


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI calls fire request_started/finished, whose close_old_connections would close the test's
    connection inside its transaction on PostgreSQL; Django's own test Client disconnects it the same way."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _session_headers(user) -> dict:
    client = Client()
    client.force_login(user)
    session = client.cookies["sessionid"].value
    return {"Cookie": f"sessionid={session}; csrftoken={CSRF}", "X-CSRFToken": CSRF}


@pytest.fixture
def role_headers(request, db) -> dict:
    """Request headers that authenticate as the role: a session (with CSRF) for people, a bearer token for an
    organisation's system, nothing for the public."""
    role = request.param
    org = OrganisationFactory(name="模糊测试评价机构", region=region("220102"))
    admin = member(Role.ORG_ADMIN, organisation=org)
    if role == "anonymous":
        return {}
    if role == "org_admin":  # an organisation's own system, with the token its admin created
        _token, secret = api_token_create(actor=Actor.for_user(admin), organisation_id=org.id, name="fuzz")
        return {"Authorization": f"Bearer {secret}"}
    if role == "worker":
        return _session_headers(member(Role.WORKER))
    if role == "bureau_staff":
        return _session_headers(member(Role.BUREAU_STAFF, bureau=BureauFactory(region=region("220100"))))
    assert role == "operator"
    from django.contrib.auth import get_user_model

    return _session_headers(get_user_model().objects.create_superuser("fuzz_operator", password="x-fuzz-op-1"))


@pytest.mark.parametrize("role_headers", ROLES, indirect=True)
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_api_conforms_to_its_schema(case, role_headers):
    case.call_and_validate(headers=role_headers, checks=CHECKS)
