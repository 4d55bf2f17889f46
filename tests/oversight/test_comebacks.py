"""No disguised comebacks (notice section 一): the scan, its region scoping, and turning findings into cases."""

import pytest
from django.core.management import call_command

from accounts.actors import Actor
from accreditation.models import FilingAttachment
from assessments.models import Plan
from core.errors import NotFound, ValidationFailed
from occupations.models import Qualification
from oversight import comebacks, reports
from oversight.models import ComebackFinding, Complaint
from tests.assessments.conftest import file_organisation, make_plan
from tests.conftest import client_for
from tests.factories import OrganisationFactory, Role, member, region

pytestmark = pytest.mark.django_db


@pytest.fixture
def disguised(org, org_admin, cc_officer):
    """A 长春 organisation whose plan and filing material still offer 物流师 (cancelled in 2016)."""
    file_organisation(org, org_admin, cc_officer)
    filing = org.filings.get(status="approved")
    att = FilingAttachment.objects.create(
        filing=filing, title="物流师职业资格培训合格名单", file="filings/x.pdf", content_type="application/pdf", size=1
    )
    plan = make_plan(org, org_admin)
    Plan.objects.filter(pk=plan.id).update(description="考核合格者同时颁发物流师证书,可用于企业资质申报")
    return {"filing": filing, "attachment": att, "plan": plan}


@pytest.fixture
def jilin_city_org():
    return OrganisationFactory(name="吉林市物流师协会", region=region("220202"))


def test_the_scan_finds_plans_and_documents_and_each_bureau_sees_its_region(
    disguised, jilin_city_org, cc_officer, jlc_officer
):
    report = comebacks.comeback_scan(actor=Actor.for_user(cc_officer))
    assert report.raised == 2
    found = {(f.target, f.object_id, f.field) for f in ComebackFinding.objects.all()}
    assert found == {
        ("attachment", disguised["attachment"].id, "title"),
        ("plan", disguised["plan"].id, "description"),
    }
    plan_finding = ComebackFinding.objects.get(target="plan")
    assert plan_finding.qualification.name == "物流师" and "物流师证书" in plan_finding.excerpt
    assert comebacks.finding_link(plan_finding) == f"/assessments/plans/{disguised['plan'].id}/"

    # 吉林市 staff scan their own region: the organisation's name is the finding, 长春's stay out of sight.
    comebacks.comeback_scan(actor=Actor.for_user(jlc_officer))
    mine = client_for(jlc_officer).get("/api/v1/oversight/comebacks").json()["items"]
    assert [(f["target"], f["organisation"]) for f in mine] == [("organisation", "吉林市物流师协会")]
    theirs = client_for(cc_officer).get("/api/v1/oversight/comebacks").json()["items"]
    assert {f["target"] for f in theirs} == {"attachment", "plan"}
    assert client_for(cc_officer).get(f"/api/v1/oversight/comebacks/{mine[0]['id']}").status_code == 404


def test_aliases_and_cancelled_scope_lines_are_found(org, org_admin, cc_officer):
    file_organisation(org, org_admin, cc_officer)
    Qualification.objects.filter(name="物流师").update(aliases="物流管理师\n")
    Plan.objects.filter(pk=make_plan(org, org_admin).id).update(title="2026年物流管理师认定")
    comebacks.comeback_scan(actor=Actor.for_user(cc_officer))
    assert ComebackFinding.objects.get().term == "物流管理师"


def test_a_rescan_is_idempotent_and_clears_what_was_corrected(disguised, cc_officer):
    officer = Actor.for_user(cc_officer)
    comebacks.comeback_scan(actor=officer)
    again = comebacks.comeback_scan(actor=officer)
    assert again.raised == 0 and ComebackFinding.objects.count() == 2
    Plan.objects.filter(pk=disguised["plan"].id).update(description="")
    report = comebacks.comeback_scan(actor=officer)
    assert report.cleared == 1
    assert ComebackFinding.objects.get(target="plan").status == ComebackFinding.Status.CLEARED


def test_a_finding_becomes_a_case_and_takes_its_outcome(disguised, cc_officer):
    officer = Actor.for_user(cc_officer)
    comebacks.comeback_scan(actor=officer)
    plan_finding = ComebackFinding.objects.get(target="plan")
    r = client_for(cc_officer).post(f"/api/v1/oversight/comebacks/{plan_finding.id}/investigate")
    assert r.status_code == 201, r.content
    complaint = Complaint.objects.get(pk=r.json()["id"])
    assert complaint.kind == Complaint.Kind.CANCELLED_QUALIFICATION and complaint.status == "investigating"
    assert complaint.plan_id == disguised["plan"].id and complaint.qualification.name == "物流师"
    assert complaint.source == Complaint.Source.DETECTION

    other = ComebackFinding.objects.get(target="attachment")
    r = client_for(cc_officer).post(
        f"/api/v1/oversight/comebacks/{other.id}/link", {"complaint_id": complaint.id}, "application/json"
    )
    assert r.status_code == 200 and r.json()["complaint_number"] == complaint.number

    reports.complaint_close(
        actor=officer,
        complaint_id=complaint.id,
        outcome="substantiated",
        finding="计划说明以物流师证书招揽考生",
        reply="已责令整改",
    )
    assert set(ComebackFinding.objects.values_list("status", flat=True)) == {"confirmed"}


def test_dismissing_needs_a_reason_and_outsiders_cannot_act(disguised, cc_officer, jlc_officer, org_admin):
    comebacks.comeback_scan(actor=Actor.for_user(cc_officer))
    finding = ComebackFinding.objects.get(target="plan")
    with pytest.raises(ValidationFailed):
        comebacks.finding_dismiss(actor=Actor.for_user(cc_officer), finding_id=finding.id, reason=" ")
    with pytest.raises(NotFound):
        comebacks.finding_dismiss(actor=Actor.for_user(jlc_officer), finding_id=finding.id, reason="x")
    assert client_for(org_admin).get("/api/v1/oversight/comebacks").status_code == 403
    assert client_for(org_admin).post("/api/v1/oversight/comebacks/scan", {}, "application/json").status_code == 403
    comebacks.finding_dismiss(actor=Actor.for_user(cc_officer), finding_id=finding.id, reason="历史沿革介绍,非招揽")
    finding.refresh_from_db()
    assert finding.status == "dismissed" and finding.resolution == "历史沿革介绍,非招揽"


def test_a_plan_caught_by_its_own_cancellation_is_not_a_comeback(disguised, cc_officer):
    from assessments.models import CancellationChoice, Registration
    from occupations.models import CatalogueChange
    from tests.assessments.conftest import make_candidates

    plan = disguised["plan"]
    reg = make_candidates(plan, member(Role.ORG_ADMIN, organisation=plan.organisation), "4", 1)[0]
    q = Qualification.objects.get(name="物流师")
    change = CatalogueChange.objects.create(qualification=q, kind="cancel", effective_on=q.cancelled_on, basis="x")
    CancellationChoice.objects.create(change=change, registration=reg, plan=plan)
    assert Registration.objects.filter(pk=reg.pk).exists()
    comebacks.comeback_scan(actor=Actor.for_user(cc_officer))
    assert not ComebackFinding.objects.filter(target="plan").exists()


def test_the_management_command_scans_the_platform(disguised, jilin_city_org, capsys):
    call_command("comeback_scan")
    assert ComebackFinding.objects.count() == 3
    assert "新发现 3" in capsys.readouterr().out


def test_the_demo_shows_a_comeback_found_and_investigated_once(client):
    call_command("seed_demo")
    call_command("seed_demo")
    found = ComebackFinding.objects.filter(target="plan")
    assert {f.field for f in found} == {"title", "description"}
    assert {f.status for f in found} == {"investigating"}
    cases = Complaint.objects.filter(comeback_findings__isnull=False).distinct()
    assert cases.count() == 1 and cases.get().kind == "cancelled_qualification"


def test_the_nightly_task_scans_once_a_cancellation_is_in_force(org, org_admin, cc_officer, settings):
    import datetime

    from django.utils import timezone

    from oversight.tasks_comebacks import comeback_scan_task

    assert settings.CELERY_BEAT_SCHEDULE["oversight-comeback-scan"]["task"] == "oversight.comeback_scan"
    later = timezone.localdate() + datetime.timedelta(days=7)
    Qualification.objects.create(name="茶艺技师资格", kind="evaluation", status="cancelled", cancelled_on=later)
    org.name = "长春茶艺技师资格培训学校"
    org.save()
    assert comeback_scan_task.delay().get()["raised"] == 0  # not yet in force
    Qualification.objects.filter(name="茶艺技师资格").update(cancelled_on=timezone.localdate())
    assert comeback_scan_task.delay().get()["raised"] == 1
