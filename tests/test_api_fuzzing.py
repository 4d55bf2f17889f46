"""Schemathesis fuzzes every operation of /api/v1/openapi.json in-process (WSGI), as several roles: no response
may be a 5xx, and every response must match the status codes, content type and schema the document declares.

So that the requests meet real objects and not only ids that do not exist, the module builds one small world (a
filed organisation, a finalised plan, an issued certificate, its holder's subsidy claim) and most generated cases
have their path ids replaced by that world's ids; each role is a person of that world (the holder, the
organisation's API token, the officer of its city, an operator). Each test's writes are rolled back, so every
case meets the same world.

Bounded so that the whole suite stays well inside CI's budget: a fixed number of examples per operation and role,
derandomised (the same cases every run), and no coverage phase."""

import dataclasses
import datetime
import zlib

import pytest
import schemathesis
from django.core.management import call_command
from django.test import override_settings
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.actors import Actor
from accounts.conflicts import identity_conflict_open
from accounts.invitations import invitation_create
from accounts.models import Role, User
from accounts.services import api_token_create
from assessments.models import Plan
from certificates import issuance
from certificates.models import Certificate
from config.wsgi import application
from occupations.services import reference_load
from subsidies import services as subsidies
from tests import conftest as root
from tests.assessments.conftest import file_organisation, make_candidates, make_plan
from tests.certificates.conftest import finalise
from tests.conftest import client_for
from tests.factories import BureauFactory, OrganisationFactory, make_ric, member, region

MAX_EXAMPLES = 3
ROLES = ["anonymous", "worker", "org_admin", "bureau_staff", "operator"]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CSRF = "fuzzcsrf" * 4  # a 32-character secret, sent both as the cookie and as the header

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
# The coverage phase (every boundary value of every field, ~30 requests an operation) would make this the slowest
# file of the suite; the fuzzing phase with a fixed number of derandomised examples keeps it to a few minutes.
schema.config.phases.coverage.enabled = False


@dataclasses.dataclass
class World:
    ids: dict[str, int]
    headers: dict[str, dict]


def _session_headers(user) -> dict:
    client = client_for(user)
    session = client.cookies["sessionid"].value
    return {"Cookie": f"sessionid={session}; csrftoken={CSRF}", "X-CSRFToken": CSRF}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Committed for the whole module, then flushed (with the reference data put back), as transactional tests do."""
    keys = override_settings(SIGNING_KEYS_DIR=tmp_path_factory.mktemp("fuzz-keys"), SIGNING_KEYS_GENERATE=True)
    keys.enable()
    with django_db_blocker.unblock():
        try:
            call_command("load_subsidy_policies", "--demo", verbosity=0)
            officer = member(Role.BUREAU_STAFF, bureau=BureauFactory(name="模糊测试人社局", region=region("220100")))
            org = OrganisationFactory(name="模糊测试评价机构", region=region("220102"))
            admin = member(Role.ORG_ADMIN, organisation=org)
            file_organisation(org, admin, officer)
            plan = make_plan(org, admin, levels=("4",))
            reg = make_candidates(plan, admin, "4", 1)[0]
            finalise(Plan.objects.get(pk=plan.id))
            batch = issuance.issue_batch_start(actor=Actor.for_user(admin), plan_id=plan.id)
            issuance.issue_batch_run(batch.id)
            cert = Certificate.objects.get(registration=reg)
            worker = member(Role.WORKER, person=reg.person)
            claim = subsidies.claim_submit(
                actor=Actor.for_user(worker),
                certificate_id=cert.id,
                category="employee",
                insurance_months=24,
                account_kind="bank_card",
                account_number="6222020200001234567",
                bank_name="中国工商银行",
            )
            _token, secret = api_token_create(actor=Actor.for_user(admin), organisation_id=org.id, name="fuzz")
            operator = User.objects.create_superuser("fuzz_operator", password="x-fuzz-op-1")
            # Identity work for the new endpoints to meet: a case for the city's bureau, an open invitation.
            conflict = identity_conflict_open(
                actor=Actor.for_user(admin),
                person=reg.person,
                claimed_name="模糊测试",
                source="import",
                organisation=org,
            )
            invitation, _raw = invitation_create(
                actor=Actor.for_user(officer),
                role="bureau_staff",
                name="模糊测试科员",
                id_type="ric",
                id_number=make_ric(region="220104", birth=datetime.date(1990, 4, 4), seq=404),
                bureau_id=officer.memberships.get().bureau_id,
            )
            yield World(
                ids={
                    "org_id": org.id,
                    "organisation_id": org.id,
                    "filing_id": org.filings.first().id,
                    "plan_id": plan.id,
                    "registration_id": reg.id,
                    "certificate_id": cert.id,
                    "claim_id": claim.id,
                    "batch_id": batch.id,
                    "conflict_id": conflict.id,
                    "invitation_id": invitation.id,
                },
                headers={
                    "anonymous": {},
                    "worker": _session_headers(worker),
                    "org_admin": {"Authorization": f"Bearer {secret}"},
                    "bureau_staff": _session_headers(officer),
                    "operator": _session_headers(operator),
                },
            )
        finally:
            call_command("flush", interactive=False, verbosity=0)
            # The session's snapshot, as after a transactional test: re-reading the files costs several times more.
            if root._snapshot is not None:
                root._snapshot.restore()
            else:
                reference_load()
            keys.disable()


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


@pytest.fixture
def role_headers(request, world, db) -> dict:
    return world.headers[request.param]


def _meet_the_world(case, ids: dict[str, int]) -> None:
    """Three cases in four get the world's ids in their path (deterministically); the rest keep random ones."""
    params = case.path_parameters or {}
    if zlib.crc32(repr(sorted(params.items())).encode()) % 4 == 0:
        return
    for name in params:
        if name in ids:
            params[name] = ids[name]


@pytest.mark.parametrize("role_headers", ROLES, indirect=True)
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_api_conforms_to_its_schema(case, role_headers, world):
    _meet_the_world(case, world.ids)
    case.call_and_validate(headers=role_headers, checks=CHECKS)
