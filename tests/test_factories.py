"""Each state tests/factories.py writes directly, built both ways (by the workflow, by the factory) and compared in
what later code reads: statuses, dates, the fields of each row, counts of related rows, tokens that verify. A
factory that drifts from its workflow fails here instead of letting the tests built on it pass for a state the
platform never reaches."""

import json
import re

import pytest
from django.utils import timezone

from accounts.models import Role
from accreditation.models import Filing
from accreditation.services import _scope_snapshot
from assessments.models import Plan, Registration
from certificates.models import Certificate, IssueBatch, StatusList
from certificates.verification import VALID, verify_token
from core.models import AuditEntry
from subsidies.models import PolicyAmount, ShortageOccupation, SubsidyPolicy
from subsidies.policies import DEMO_FILE, policies_load
from tests import factories
from tests.assessments.conftest import SCOPE, file_organisation, make_candidates, make_plan
from tests.certificates import conftest as certificate_fixtures
from tests.factories import OrganisationFactory, member, region

pytestmark = pytest.mark.django_db

# The certificate tests' per-session signing keys and their issue step (the workflow side of the comparisons).
_keys = certificate_fixtures._keys
issue = certificate_fixtures.issue


@pytest.fixture
def twin(cc_officer):
    """A second organisation of 长春 and its admin: the factory's side of each comparison, `org` the workflow's."""
    other = OrganisationFactory(name="长春工厂对照评价机构", region=region("220102"))
    return other, member(Role.ORG_ADMIN, organisation=other)


def filing_facts(org) -> dict:
    filing = Filing.objects.get(organisation=org)
    return {
        "status": filing.status,
        "national_code": filing.national_code,
        "valid": (filing.valid_from, filing.valid_until),
        "decided": (filing.decided_at is not None, filing.submitted_at is not None),
        "scope": _scope_snapshot(filing),
        "prefix": re.sub(r"\d{6}$", "######", org.number_prefix),
    }


def registration_facts(plan: Plan) -> list[dict]:
    out = []
    for reg in plan.registrations.select_related("person", "level", "ticket").order_by("id"):
        eligibility = dict(reg.eligibility)
        out.append(
            {
                "person": (reg.person.name, reg.person.id_number, reg.person.birth_date),
                "level": reg.level.code,
                "status": reg.status,
                "source": reg.source,
                "evidence": (reg.work_years, reg.prior_certificates, reg.education, reg.titles, reg.credentials),
                "eligibility": (reg.eligibility_status, eligibility),
                "employment": (reg.employment_status, reg.employment_note),
                "reviewed": (reg.reviewed_by_id is not None, reg.reviewed_at is not None, reg.review_reason),
                "registered_by": reg.registered_by_id is not None and reg.registered_by_id == reg.reviewed_by_id,
                "ticket": (reg.ticket.seat, reg.ticket.number == f"{plan.id:06d}{reg.ticket.seat:04d}"),
                "result": (reg.outcome, reg.finalised_at is not None),
            }
        )
    return out


def certificate_facts(plan: Plan) -> list[dict]:
    certs = (
        Certificate.objects.filter(registration__plan=plan).select_related("level").order_by("level__rank", "number")
    )
    prefix = plan.organisation.number_prefix
    out = []
    for cert in certs:
        out.append(
            {
                "number": cert.number.removeprefix(prefix),
                "holder": (
                    cert.holder_name,
                    cert.id_type,
                    cert.id_number,
                    cert.person_id == cert.registration.person_id,
                ),
                "printed": (
                    cert.occupation_name,
                    cert.occupation_code,
                    cert.work_type,
                    cert.level.code,
                    cert.issued_on,
                ),
                "organisation": cert.organisation_name == plan.organisation.name,
                "region": cert.region_code == plan.organisation.region.code,
                "status": cert.status,
                "note": cert.note,
                "status_list": cert.status_list,
                "has_position_and_ecert": (cert.status_index is not None, bool(cert.ecert_id)),
                "verifies": verify_token(cert.token).status,
            }
        )
    return out


def batch_facts(plan: Plan) -> list[tuple]:
    return list(plan.issue_batches.values_list("status", "total", "done", "issued_on", "error"))


def test_a_filed_organisation(org, org_admin, cc_officer, twin):
    other, _admin = twin
    file_organisation(org, org_admin, cc_officer)
    factories.filed(other, cc_officer, SCOPE)
    assert filing_facts(org) == filing_facts(other)
    assert filing_facts(other)["status"] == "approved" and other.number_prefix.startswith("S000022")
    assert Filing.objects.get(organisation=other).decided_by == cc_officer
    # What the next step reads: a plan may be made in the filed scope.
    assert make_plan(other, twin[1]).status == Plan.Status.PUBLISHED


def test_approved_candidates(org, org_admin, cc_officer, twin):
    other, other_admin = twin
    file_organisation(org, org_admin, cc_officer)
    factories.filed(other, cc_officer, SCOPE)
    by_workflow, by_factory = make_plan(org, org_admin), make_plan(other, other_admin)
    make_candidates(by_workflow, org_admin, "4", 3)
    make_candidates(by_workflow, org_admin, "3", 2, start=10)
    factories.approved_candidates(by_factory, other_admin, "4", 3)
    factories.approved_candidates(by_factory, other_admin, "3", 2, start=10)
    workflow, factory = registration_facts(by_workflow), registration_facts(by_factory)
    assert len(factory) == 5 and factory == workflow
    assert {f["status"] for f in factory} == {"approved"}
    assert [f["ticket"] for f in factory] == [(seat, True) for seat in range(1, 6)]
    # Each approval's ticket is audited on its own, as automatic (tests/assessments/test_examday.py reads these).
    issued = AuditEntry.objects.filter(action="ticket.issue")
    assert sorted(e.after["issued"].__len__() for e in issued) == [1] * 10 and all(e.after["automatic"] for e in issued)


def test_a_finalised_plan(org, org_admin, cc_officer, twin):
    from tests.certificates.conftest import finalise

    other, other_admin = twin
    file_organisation(org, org_admin, cc_officer)
    by_workflow = make_plan(org, org_admin)
    make_candidates(by_workflow, org_admin, "4", 4)
    make_candidates(by_workflow, org_admin, "3", 3, start=10)
    finalise(by_workflow)
    by_factory = factories.finalised_plan(other, other_admin, cc_officer)
    assert (by_factory.status, by_factory.finalised_at is not None) == ("finalised", True)
    assert by_workflow.status == by_factory.status
    assert registration_facts(by_factory) == registration_facts(by_workflow)
    assert {f["result"] for f in registration_facts(by_factory)} == {(Registration.Outcome.PASSED, True)}


def test_issued_certificates(org, org_admin, cc_officer, twin, issue):
    other, other_admin = twin
    by_workflow = factories.finalised_plan(org, org_admin, cc_officer)
    by_factory = factories.finalised_plan(other, other_admin, cc_officer)
    issue(by_workflow, org_admin)
    returned = factories.issued_certificates(by_factory, other_admin)
    workflow, factory = certificate_facts(by_workflow), certificate_facts(by_factory)
    assert len(factory) == 7 and factory == workflow
    assert {f["verifies"] for f in factory} == {VALID}
    assert returned == list(Certificate.objects.filter(registration__plan=by_factory).order_by("level__rank", "number"))
    yy = f"{timezone.localdate().year % 100:02d}"
    assert [f["number"] for f in factory] == [f"{yy}4{i:06d}" for i in range(1, 5)] + [
        f"{yy}3{i:06d}" for i in range(1, 4)
    ]
    assert batch_facts(by_factory) == batch_facts(by_workflow) == [("done", 7, 7, timezone.localdate(), "")]
    # The status list counts both batches, as the after-commit count leaves it; no position is held twice.
    status_list = StatusList.objects.get(number=0)
    assert status_list.assigned == Certificate.objects.filter(status_list=0).count() == 14
    assert len(set(Certificate.objects.values_list("status_index", flat=True))) == 14
    assert IssueBatch.objects.filter(plan=by_factory, created_by=other_admin).exists()


def policy_rows() -> dict:
    def rows(queryset, fields):
        return sorted(tuple(str(v) for v in row) for row in queryset.values_list(*fields))

    policy_fields = [
        f.attname for f in SubsidyPolicy._meta.concrete_fields if f.attname not in ("id", "created_at", "updated_at")
    ]
    return {
        "policies": rows(SubsidyPolicy.objects.all(), policy_fields),
        "amounts": rows(PolicyAmount.objects.all(), ["policy__code", "level__code", "amount"]),
        "shortages": rows(ShortageOccupation.objects.all(), ["region__code", "year", "occupation__code", "source"]),
    }


def _clear_policies() -> None:
    ShortageOccupation.objects.all().delete()
    PolicyAmount.objects.all().delete()
    SubsidyPolicy.objects.all().delete()


@pytest.mark.parametrize("demo", [True, False], ids=["with-demo", "seed-only"])
def test_the_seed_subsidy_policies(demo):
    policies_load()
    if demo:
        policies_load(path=DEMO_FILE)
    loaded = policy_rows()
    assert loaded["policies"] and loaded["amounts"] and loaded["shortages"]
    assert any("demo" in row[0] for row in loaded["policies"]) is demo
    # Twice: the first call of a session may take its rows from a real load; the second writes them itself.
    for _round in range(2):
        _clear_policies()
        factories.subsidy_policies(demo=demo)
        assert policy_rows() == loaded
    # Into a database that has policies already, the loads run (and, idempotent, change nothing).
    factories.subsidy_policies(demo=demo)
    assert policy_rows() == loaded


def test_a_claim_from_a_factory_certificate_is_assessed_as_from_an_issued_one(org, org_admin, cc_officer, twin, issue):
    """The subsidy tests' starting point: a holder claims from a certificate made either way, and the claims agree.
    (Both plans register the same people, so one holder claims twice, withdrawing the first claim in between.)"""
    from accounts.actors import Actor
    from subsidies import services

    factories.subsidy_policies()
    other, other_admin = twin
    holder, claims = None, []
    for organisation, admin, via_workflow in ((org, org_admin, True), (other, other_admin, False)):
        plan = factories.finalised_plan(organisation, admin, cc_officer)
        if via_workflow:
            issue(plan, admin)
        else:
            factories.issued_certificates(plan, admin)
        cert = Certificate.objects.filter(registration__plan=plan, level__code="4").order_by("number").first()
        holder = holder or member(Role.WORKER, person=cert.person)
        claim = services.claim_submit(
            actor=Actor.for_user(holder),
            certificate_id=cert.id,
            category="employee",
            insurance_months=24,
            account_kind="bank_card",
            account_number="6222020200001234567",
            bank_name="中国工商银行",
        )
        # The assessment names the certificate by its number, whose prefix is its organisation's.
        assessment = json.loads(json.dumps(claim.assessment, ensure_ascii=False).replace(cert.number, "<number>"))
        claims.append((claim.status, claim.amount, claim.policy.code, assessment, claim.due_on, claim.region_id))
        services.claim_withdraw(actor=Actor.for_user(holder), claim_id=claim.id, reason="对照")
    assert claims[0] == claims[1] and claims[0][0] == "submitted" and claims[0][3]["eligible"] is True
