"""Inspections (督查): random and targeted selection, findings, rectification with working-day deadlines (限期整改),
follow-up, escalation to the filing and the public directory."""

import datetime
import random

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.actors import Actor
from accounts.models import Role
from accreditation.models import Appointment
from assessments.models import SupervisionReport
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.models import Notification
from oversight import inspections, reports
from oversight.deadlines import overdue_notify
from oversight.models import Exposure, Rectification
from tests.assessments.conftest import file_organisation, make_plan
from tests.conftest import client_for
from tests.factories import OrganisationFactory, PersonFactory, member, region

pytestmark = pytest.mark.django_db

D = datetime.date
ALL_OK = {key: {"result": "ok", "note": ""} for key in inspections.CHECKLIST}


@pytest.fixture
def filed(org, org_admin, cc_officer):
    return file_organisation(org, org_admin, cc_officer)


@pytest.fixture
def second_filed(cc_officer):
    other = OrganisationFactory(name="长春第二评价机构", region=region("220104"))
    return file_organisation(other, member(Role.ORG_ADMIN, organisation=other), cc_officer)


def plan_targeted(officer, org, scheduled_on=D(2025, 9, 20)):
    return inspections.inspection_plan(
        actor=Actor.for_user(officer), organisation_id=org.id, scheduled_on=scheduled_on, reason="群众举报线索核查"
    )


def inspected(officer, org, *, conducted_on=D(2025, 9, 25), issue="archives"):
    inspection = plan_targeted(officer, org)
    results = {**ALL_OK, issue: {"result": "issue", "note": "评分记录缺失"}}
    return inspections.inspection_record_findings(
        actor=Actor.for_user(officer), inspection_id=inspection.id, conducted_on=conducted_on, results=results
    )


def order(officer, inspection, *, on, days, item="archives"):
    return inspections.rectification_order(
        actor=Actor.for_user(officer),
        inspection_id=inspection.id,
        item=item,
        requirement="补齐评分记录并报送档案清单",
        working_days=days,
        ordered_on=on,
    )


# --- Selection ----------------------------------------------------------------------------------------------------


def test_a_random_draw_is_reproducible_and_only_draws_filed_organisations_of_the_region(
    cc_officer, jlc_officer, filed, second_filed, other_org, other_org_admin
):
    OrganisationFactory(name="长春未备案机构", region=region("220103"))
    file_organisation(other_org, other_org_admin, jlc_officer)  # filed, but in 吉林市
    draw = inspections.inspection_draw(
        actor=Actor.for_user(cc_officer), count=1, scheduled_on=D(2026, 12, 1), region_code="220100", seed=20261201
    )
    assert draw.pool == sorted([filed.id, second_filed.id])
    assert draw.chosen == random.Random(20261201).sample(draw.pool, 1)
    (inspection,) = draw.inspections.all()
    assert inspection.kind == "random" and inspection.organisation_id == draw.chosen[0]
    assert inspection.number.startswith("DC")
    # An organisation already under inspection is not drawn again until that inspection closes.
    second = inspections.inspection_draw(actor=Actor.for_user(cc_officer), count=5, scheduled_on=D(2026, 12, 1))
    assert second.pool == [i for i in draw.pool if i not in draw.chosen] == second.chosen
    with pytest.raises(Conflict):
        inspections.inspection_draw(actor=Actor.for_user(cc_officer), count=1, scheduled_on=D(2026, 12, 1))
    with pytest.raises(NotFound):
        inspections.inspection_draw(
            actor=Actor.for_user(cc_officer), count=1, scheduled_on=D(2026, 12, 1), region_code="220200"
        )


def test_the_draw_api_records_the_seed(cc_officer, filed):
    r = client_for(cc_officer).post(
        "/api/v1/oversight/inspections/draw",
        {"count": 1, "scheduled_on": "2026-12-01", "seed": 7},
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["seed"] == 7 and r.json()["chosen"] == [filed.id]


def test_targeted_inspections_are_for_organisations_in_the_region(cc_officer, jlc_officer, filed):
    with pytest.raises(NotFound):
        plan_targeted(jlc_officer, filed)
    with pytest.raises(ValidationFailed, match="事由"):
        inspections.inspection_plan(
            actor=Actor.for_user(cc_officer), organisation_id=filed.id, scheduled_on=D(2026, 1, 5), reason=" "
        )


# --- Findings and rectification -------------------------------------------------------------------------------------


def test_findings_answer_every_item_and_explain_each_issue(cc_officer, filed):
    inspection = plan_targeted(cc_officer, filed)
    act = Actor.for_user(cc_officer)
    with pytest.raises(ValidationFailed, match="每个检查项"):
        inspections.inspection_record_findings(
            actor=act, inspection_id=inspection.id, conducted_on=D(2025, 9, 25), results={"scope": ALL_OK["scope"]}
        )
    with pytest.raises(ValidationFailed, match="写明发现的问题"):
        inspections.inspection_record_findings(
            actor=act,
            inspection_id=inspection.id,
            conducted_on=D(2025, 9, 25),
            results={**ALL_OK, "separation": {"result": "issue", "note": ""}},
        )
    with pytest.raises(Conflict, match="请先记录检查结果"):
        order(cc_officer, inspection, on=D(2025, 9, 26), days=5)
    done = inspected(cc_officer, filed)
    assert done.status == "recorded" and done.results["archives"]["result"] == "issue"


@pytest.mark.parametrize(
    ("ordered_on", "days", "due", "provisional"),
    [
        # Friday before National Day 2025: 28 Sep (Sunday) and 11 Oct (Saturday) are 调休 working days, 1–8 Oct off.
        (D(2025, 9, 26), 5, D(2025, 10, 10), False),
        # Friday before the 2026 Spring Festival: 14 Feb (Saturday) is worked, 15–23 Feb are off.
        (D(2026, 2, 13), 3, D(2026, 2, 25), False),
        # Into 2027, whose holidays are not yet published: a provisional deadline, and the page says so.
        (D(2026, 12, 24), 15, D(2027, 1, 15), True),
    ],
)
def test_rectification_deadlines_follow_the_official_calendar(cc_officer, filed, ordered_on, days, due, provisional):
    inspection = inspected(cc_officer, filed, conducted_on=D(2025, 9, 25))
    rect = order(cc_officer, inspection, on=ordered_on, days=days)
    assert (rect.due_on, rect.due_provisional) == (due, provisional)
    assert ("暂定" in rect.due_note) is provisional
    html = client_for(cc_officer).get(f"/oversight/inspections/{inspection.id}/").content.decode()
    assert str(due) in html


def test_overdue_items_are_listed_until_the_organisation_reports_back(cc_officer, filed, org_admin):
    inspection = inspected(cc_officer, filed)
    rect = order(cc_officer, inspection, on=D(2025, 9, 26), days=5)  # due 2025-10-10, long past
    officer = client_for(cc_officer)
    assert [r["id"] for r in officer.get("/api/v1/oversight/rectifications?overdue=true").json()["items"]] == [rect.id]
    assert 'id="overdue"' in officer.get("/oversight/inspections/").content.decode()
    admin = client_for(org_admin)
    r = admin.post(
        f"/oversight/rectifications/{rect.id}/submit/",
        {"evidence_text": "已补齐评分记录,建立档案清单。", "file": SimpleUploadedFile("清单.pdf", b"%PDF-1.4 list")},
    )
    assert r.status_code == 302
    rect.refresh_from_db()
    assert rect.status == "submitted" and rect.evidence_content_type == "application/pdf"
    assert officer.get("/api/v1/oversight/rectifications?overdue=true").json()["count"] == 0
    assert officer.get(f"/oversight/rectifications/{rect.id}/evidence/").status_code == 200
    # Returned: open again, and the original deadline stands, so it is overdue again.
    inspections.rectification_review(
        actor=Actor.for_user(cc_officer), rectification_id=rect.id, accept=False, note="清单不全"
    )
    assert officer.get("/api/v1/oversight/rectifications?overdue=true").json()["count"] == 1


def test_the_organisation_sees_an_inspection_once_it_took_place_and_cannot_verify_itself(cc_officer, filed, org_admin):
    inspection = plan_targeted(cc_officer, filed)
    admin = client_for(org_admin)
    assert admin.get(f"/oversight/inspections/{inspection.id}/").status_code == 404
    inspection = inspected(cc_officer, filed)
    rect = order(cc_officer, inspection, on=D(2026, 11, 2), days=20)
    page = admin.get(f"/oversight/inspections/{inspection.id}/").content.decode()
    assert "补齐评分记录" in page and "督导员报告" not in page
    assert admin.get("/api/v1/oversight/inspections").json()["count"] == 1
    inspections.rectification_submit(actor=Actor.for_user(org_admin), rectification_id=rect.id, evidence_text="已整改")
    with pytest.raises(PermissionDenied):
        inspections.rectification_review(actor=Actor.for_user(org_admin), rectification_id=rect.id, accept=True)
    with pytest.raises(PermissionDenied):
        inspections.inspection_close(
            actor=Actor.for_user(org_admin), inspection_id=inspection.id, conclusion="自行结案"
        )


def test_an_inspection_closes_only_when_every_item_is_verified(cc_officer, filed, org_admin):
    inspection = inspected(cc_officer, filed)
    rect = order(cc_officer, inspection, on=D(2026, 11, 2), days=20)
    act = Actor.for_user(cc_officer)
    with pytest.raises(Conflict, match="未验收"):
        inspections.inspection_close(actor=act, inspection_id=inspection.id, conclusion="整改到位")
    inspections.rectification_submit(actor=Actor.for_user(org_admin), rectification_id=rect.id, evidence_text="已整改")
    inspections.rectification_review(actor=act, rectification_id=rect.id, accept=True)
    closed = inspections.inspection_close(actor=act, inspection_id=inspection.id, conclusion="整改到位")
    assert closed.status == "closed"
    assert Rectification.objects.get(pk=rect.id).verified_by == cc_officer


# --- Escalation ---------------------------------------------------------------------------------------------------------


def test_escalation_suspends_then_revokes_the_filing_and_the_directory_shows_it(client, cc_officer, filed):
    inspection = inspected(cc_officer, filed)
    order(cc_officer, inspection, on=D(2025, 9, 26), days=5)
    officer = client_for(cc_officer)
    r = officer.post(
        f"/oversight/inspections/{inspection.id}/escalate/",
        {"action": "suspend", "reason": "逾期未整改", "publish": "1"},
    )
    assert r.status_code == 302
    entry = client.get(f"/api/v1/directory/{filed.id}").json()
    assert entry["status"] == "suspended" and inspection.number in entry["status_reason"]
    assert "逾期未整改" in client.get(f"/directory/{filed.id}/").content.decode()
    exposure = Exposure.objects.get(inspection=inspection)
    assert exposure.subject == filed.name and "评分记录缺失" in exposure.finding
    r = officer.post(
        f"/api/v1/oversight/inspections/{inspection.id}/escalate",
        {"action": "revoke", "reason": "整改期满仍未整改"},
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["kind"] == "filing_revoked"
    assert client.get(f"/api/v1/directory/{filed.id}").json()["status"] == "revoked"
    # Revocation ends the matter even with the rectification never done.
    closed = inspections.inspection_close(
        actor=Actor.for_user(cc_officer), inspection_id=inspection.id, conclusion="撤销备案"
    )
    assert closed.status == "closed"


def test_another_citys_officer_cannot_see_or_escalate(cc_officer, jlc_officer, filed):
    inspection = inspected(cc_officer, filed)
    assert client_for(jlc_officer).get(f"/oversight/inspections/{inspection.id}/").status_code == 404
    assert client_for(jlc_officer).get(f"/api/v1/oversight/inspections/{inspection.id}").status_code == 404
    with pytest.raises(NotFound):
        inspections.inspection_escalate(
            actor=Actor.for_user(jlc_officer), inspection_id=inspection.id, action="suspend", reason="x"
        )


def test_supervisors_reports_with_issues_appear_on_the_inspection_page(cc_officer, changchun_bureau, filed, org_admin):
    plan = make_plan(filed, org_admin)
    supervisor = Appointment.objects.create(
        person=PersonFactory(name="周督导"),
        role=Appointment.Role.EXTERNAL_SUPERVISOR,
        bureau=changchun_bureau,
        valid_from=D(2025, 1, 1),
    )
    checklist = {k: "ok" for k in ("scope", "separation", "panels", "venue", "identity_check", "archives")}
    SupervisionReport.objects.create(
        plan=plan,
        supervisor=supervisor,
        checklist={**checklist, "separation": "issue"},
        findings="考评员王某为考生授课",
    )
    SupervisionReport.objects.create(plan=plan, supervisor=supervisor, checklist=checklist, findings="")
    inspection = plan_targeted(cc_officer, filed)
    html = client_for(cc_officer).get(f"/oversight/inspections/{inspection.id}/").content.decode()
    assert "考评员王某为考生授课" in html and "考培分离" in html
    issues = client_for(cc_officer).get(f"/api/v1/oversight/inspections/{inspection.id}").json()["supervision_issues"]
    assert len(issues) == 1 and issues[0]["supervisor"] == "周督导"


def test_overdue_items_are_notified_once(cc_officer, filed, org_admin):
    inspection = inspected(cc_officer, filed)
    order(cc_officer, inspection, on=D(2025, 9, 26), days=5)
    assert overdue_notify()["rectifications"] == 1
    assert Notification.objects.filter(user=org_admin, title__contains="整改已逾期").count() == 1
    assert overdue_notify()["rectifications"] == 0


def test_a_case_about_an_organisation_leads_to_a_targeted_inspection(cc_officer, filed):
    complaint, _code = reports.complaint_submit(
        actor=Actor.anonymous(),
        kind="trained_examiner",
        organisation_id=filed.id,
        description="考评员给我们上过培训课。",
    )
    reports.complaint_accept(actor=Actor.for_user(cc_officer), complaint_id=complaint.id, assignee_id=cc_officer.id)
    officer = client_for(cc_officer)
    assert "计划专项督查" in officer.get(f"/oversight/complaints/{complaint.id}/").content.decode()
    r = officer.post(
        "/oversight/inspections/",
        {
            "organisation_id": filed.id,
            "scheduled_on": "2026-12-02",
            "reason": f"举报案件{complaint.number}线索核查",
        },
    )
    inspection = filed.inspections.get()
    assert r.status_code == 302 and r["Location"] == f"/oversight/inspections/{inspection.id}/"
    assert inspection.kind == "targeted" and complaint.number in inspection.reason
