"""Filing the eight-level system's new levels: only employers (Y), only where the occupation's standard defines
them, and scope checks downstream refuse them for anyone else even if the data says otherwise."""

import pytest
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import Role
from accreditation import services
from accreditation.models import Filing, ScopeLine
from accreditation.selectors import scope_allows
from core.errors import Conflict, ValidationFailed
from occupations.models import Level, Occupation
from tests.accreditation.conftest import pdf_upload
from tests.assessments.conftest import file_organisation, make_plan
from tests.conftest import client_for
from tests.factories import OrganisationFactory, member, region

pytestmark = pytest.mark.django_db
A = Actor.for_user
ELECTRICIAN_EIGHT = [{"occupation_code": "6-31-01-03", "levels": ["XT", "5", "1", "TJ", "SX"]}]


@pytest.fixture
def employer():
    org = OrganisationFactory(name="长春客车厂", kind="Y", region=region("220104"))
    org.admin = member(Role.ORG_ADMIN, organisation=org)
    return org


def test_an_employer_files_apprentice_and_special_technician_levels(employer):
    filing = services.filing_create(actor=A(employer.admin), organisation_id=employer.id, scope=ELECTRICIAN_EIGHT)
    line = filing.scope_lines.get()
    assert [lv.code for lv in line.sorted_levels] == ["XT", "5", "1", "TJ", "SX"]


def test_a_social_organisation_may_not_file_them(org, org_admin):
    with pytest.raises(ValidationFailed) as exc:
        services.filing_create(actor=A(org_admin), organisation_id=org.id, scope=ELECTRICIAN_EIGHT)
    (problem,) = exc.value.details["scope"]
    (reason,) = problem["reasons"]
    assert "学徒工、特级技师、首席技师只能由用人单位备案评价" in reason
    assert not Filing.objects.filter(organisation=org).exists()


def test_the_api_refuses_a_social_organisation_with_the_reason(org, org_admin):
    r = client_for(org_admin).post(
        "/api/v1/accreditation/filings",
        {"organisation_id": org.id, "scope": [{"occupation_code": "6-31-01-03", "levels": ["TJ"]}]},
        content_type="application/json",
    )
    assert r.status_code == 422
    assert r.json()["code"] == "validation_failed" and "用人单位" in r.json()["message"]


def test_an_employer_may_not_file_a_new_level_the_standard_does_not_define(employer):
    # 茶艺师's standard lists the five levels only (occupations/data/standards.json).
    with pytest.raises(ValidationFailed) as exc:
        services.filing_create(
            actor=A(employer.admin),
            organisation_id=employer.id,
            scope=[{"occupation_code": "4-03-02-07", "levels": ["5", "TJ"]}],
        )
    assert "国家职业技能标准未设置等级:特级技师" in exc.value.message


def test_a_filing_drafted_before_the_level_data_changed_is_checked_again_on_submit(employer):
    filing = services.filing_create(actor=A(employer.admin), organisation_id=employer.id, scope=ELECTRICIAN_EIGHT)
    services.filing_attach(actor=A(employer.admin), filing_id=filing.id, title="表", upload=pdf_upload())
    Level.objects.filter(code="SX").update(organisation_kinds="S")  # an operator's (odd) edit in the admin
    with pytest.raises(ValidationFailed) as exc:
        services.filing_submit(actor=A(employer.admin), filing_id=filing.id)
    assert "首席技师只能由社会培训评价组织备案评价" in exc.value.message


def test_scope_checks_downstream_refuse_a_level_the_organisation_kind_may_not_assess(org, org_admin, cc_officer):
    # A social organisation's filing that somehow holds 特级技师 (written before the rule, or by hand).
    file_organisation(org, org_admin, cc_officer, scope=[{"occupation_code": "6-31-01-03", "levels": ["1"]}])
    line = ScopeLine.objects.get(filing__organisation=org)
    line.levels.add(Level.objects.get(code="TJ"))
    electrician = Occupation.objects.get(code="6-31-01-03")
    decision = scope_allows(org, electrician, Level.objects.get(code="TJ"), timezone.localdate())
    assert not decision.allowed and "特级技师只能由用人单位评价" in decision.reason
    with pytest.raises(Conflict) as exc:
        make_plan(org, org_admin, levels=("TJ",), kinds=("skills", "review"))
    assert exc.value.code == "outside_scope"


def test_the_scope_form_offers_the_new_levels_to_employers_only_where_the_standard_has_them(employer, org, org_admin):
    page = client_for(employer.admin).get(f"/accreditation/organisations/{employer.id}/filings/new/").content.decode()
    assert 'value="6-31-01-03:TJ"' in page and 'value="6-31-01-03:XT"' in page and "首席技师" in page
    assert 'value="4-03-02-07:TJ"' not in page and 'value="4-03-02-07:5"' in page
    social = client_for(org_admin).get(f"/accreditation/organisations/{org.id}/filings/new/").content.decode()
    assert 'value="6-31-01-03:5"' in social
    assert ":TJ" not in social and ":XT" not in social and ":SX" not in social


def test_the_plan_form_offers_the_levels_the_filing_covers(employer, cc_officer):
    file_organisation(employer, employer.admin, cc_officer, scope=ELECTRICIAN_EIGHT)
    page = client_for(employer.admin).get(f"/assessments/manage/new/{employer.id}/").content.decode()
    assert 'name="levels" value="TJ"' in page and 'name="levels" value="XT"' in page
    assert 'name="levels" value="3"' not in page  # not filed


def _under_review(employer, cc_officer):
    filing = services.filing_create(actor=A(employer.admin), organisation_id=employer.id, scope=ELECTRICIAN_EIGHT)
    services.filing_attach(actor=A(employer.admin), filing_id=filing.id, title="表", upload=pdf_upload())
    services.filing_submit(actor=A(employer.admin), filing_id=filing.id)
    services.filing_start_review(actor=A(cc_officer), filing_id=filing.id)
    return filing


def test_the_bureau_approves_an_employers_filing_with_the_new_levels(employer, cc_officer):
    # The approval re-check (catalogue changes) and the organisation-kind check (eight levels) met in the merge.
    filing = _under_review(employer, cc_officer)
    approved = services.filing_approve(actor=A(cc_officer), filing_id=filing.id)
    assert approved.status == Filing.Status.APPROVED
    assert [lv.code for lv in approved.scope_lines.get().sorted_levels] == ["XT", "5", "1", "TJ", "SX"]


def test_approval_checks_the_organisation_kind_again(employer, cc_officer):
    filing = _under_review(employer, cc_officer)
    Level.objects.filter(code="SX").update(organisation_kinds="S")  # edited in the admin during the review
    with pytest.raises(ValidationFailed) as exc:
        services.filing_approve(actor=A(cc_officer), filing_id=filing.id)
    assert "首席技师只能由社会培训评价组织备案评价" in exc.value.message
    assert Filing.objects.get(pk=filing.id).status == Filing.Status.UNDER_REVIEW
