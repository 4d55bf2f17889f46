import datetime

import pytest
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import Role
from accreditation import services as filings
from accreditation.models import Filing
from assessments import plans
from assessments.models import Plan, Registration
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.models import Notification
from tests.conftest import client_for
from tests.factories import bound_user, member

from .conftest import component_times, make_candidates, make_plan

pytestmark = pytest.mark.django_db


def A(u):
    return Actor.for_user(u)


def test_a_plan_inside_the_scope_is_created_and_published(plan):
    assert plan.status == "published" and plan.standard.occupation.code == "6-31-01-03"
    assert sorted(plan.levels.values_list("code", flat=True)) == ["3", "4"]
    assert plan.components.count() == 2


def test_a_plan_outside_the_scope_is_refused_with_the_reason(filed_org, org_admin):
    with pytest.raises(Conflict) as exc:
        make_plan(filed_org, org_admin, occupation="6-18-02-04")
    assert "不在机构备案范围内" in exc.value.message and exc.value.code == "outside_scope"
    with pytest.raises(Conflict, match="不含二级"):
        make_plan(filed_org, org_admin, levels=("2",), kinds=("theory", "skills", "review"))
    assert not Plan.objects.exists()


def test_a_suspended_organisation_cannot_plan(filed_org, org_admin, cc_officer):
    filing = Filing.objects.get(organisation=filed_org, status="approved")
    filings.filing_suspend(actor=A(cc_officer), filing_id=filing.id, reason="督查整改")
    with pytest.raises(Conflict, match="暂停"):
        make_plan(filed_org, org_admin)


def test_an_unfiled_organisation_cannot_plan(org, org_admin):
    with pytest.raises(Conflict, match="没有有效的备案"):
        make_plan(org, org_admin)


def test_a_plan_after_the_filing_expires_is_refused(filed_org, org_admin):
    Filing.objects.filter(organisation=filed_org).update(valid_until=timezone.localdate() + datetime.timedelta(days=5))
    with pytest.raises(Conflict, match="没有有效的备案"):
        make_plan(filed_org, org_admin)


def test_components_must_cover_the_standard(filed_org, org_admin):
    today = timezone.localdate()
    closes = today + datetime.timedelta(days=5)
    times = component_times(closes)
    times[0]["ends_at"] = times[0]["starts_at"] + datetime.timedelta(minutes=30)
    with pytest.raises(ValidationFailed, match="90分钟"):
        plans.plan_create(
            actor=A(org_admin),
            organisation_id=filed_org.id,
            occupation_code="6-31-01-03",
            levels=["4"],
            title="t",
            venue="v",
            capacity=10,
            registration_opens=today,
            registration_closes=closes,
            components=times,
        )
    with pytest.raises(ValidationFailed, match="操作技能"):
        plans.plan_create(
            actor=A(org_admin),
            organisation_id=filed_org.id,
            occupation_code="6-31-01-03",
            levels=["4"],
            title="t",
            venue="v",
            capacity=10,
            registration_opens=today,
            registration_closes=closes,
            components=times[:1],
        )


def test_only_the_admin_plans(filed_org, other_org_admin):
    assessor = member(Role.ASSESSOR, organisation=filed_org)
    with pytest.raises(PermissionDenied):
        make_plan(filed_org, assessor)
    with pytest.raises(NotFound):
        make_plan(filed_org, other_org_admin)


def test_published_plans_are_public(client, plan):
    items = client.get("/api/v1/assessments/plans/public").json()["items"]
    assert [p["id"] for p in items] == [plan.id]
    assert items[0]["levels"] == ["4", "3"] or sorted(items[0]["levels"]) == ["3", "4"]
    assert plan.title in client.get("/assessments/plans/").content.decode()


def test_drafts_are_not_public(client, filed_org, org_admin):
    draft = make_plan(filed_org, org_admin, publish=False)
    assert client.get("/api/v1/assessments/plans/public").json()["items"] == []
    assert client.get(f"/api/v1/assessments/plans/public/{draft.id}").status_code == 404


def test_reschedule_and_cancel_notify_candidates(plan, org_admin, django_capture_on_commit_callbacks, mailoutbox):
    regs = make_candidates(plan, org_admin, "4", 2)

    user = bound_user("cand", password="x-1234567", email="cand@example.com", person=regs[0].person)
    later = component_times(plan.registration_closes + datetime.timedelta(days=7))
    with pytest.raises(ValidationFailed):
        plans.plan_reschedule(actor=A(org_admin), plan_id=plan.id, components=later, reason="")
    plans.plan_reschedule(actor=A(org_admin), plan_id=plan.id, components=later, reason="考场检修")
    note = Notification.objects.get(user=user)
    assert "考核时间调整" in note.title and "考场检修" in note.body
    with django_capture_on_commit_callbacks(execute=True):
        plans.plan_cancel(actor=A(org_admin), plan_id=plan.id, reason="报名人数不足")
    assert [m.to for m in mailoutbox if "已取消" in m.subject] == [["cand@example.com"]]
    assert set(Registration.objects.values_list("status", flat=True)) == {"cancelled"}
    assert Notification.objects.filter(user=user, title__contains="已取消").exists()
    with pytest.raises(Conflict):
        plans.plan_cancel(actor=A(org_admin), plan_id=plan.id, reason="again")


def test_plan_api_for_the_organisation(filed_org, org_admin, other_org_admin):
    today = timezone.localdate()
    closes = today + datetime.timedelta(days=10)
    payload = {
        "organisation_id": filed_org.id,
        "occupation_code": "6-31-01-03",
        "levels": ["5", "4"],
        "title": "第一期",
        "venue": "实训楼",
        "capacity": 40,
        "registration_opens": str(today),
        "registration_closes": str(closes),
        "fee": "150.00",
        "components": [
            {**c, "starts_at": c["starts_at"].isoformat(), "ends_at": c["ends_at"].isoformat()}
            for c in component_times(closes)
        ],
    }
    c = client_for(org_admin)
    r = c.post("/api/v1/assessments/plans", payload, content_type="application/json")
    assert r.status_code == 201, r.content
    pid = r.json()["id"]
    assert c.post(f"/api/v1/assessments/plans/{pid}/publish").json()["status"] == "published"
    assert client_for(other_org_admin).get(f"/api/v1/assessments/plans/{pid}").status_code == 404
    bad = {**payload, "occupation_code": "6-18-02-04"}
    r = c.post("/api/v1/assessments/plans", bad, content_type="application/json")
    assert r.status_code == 409 and r.json()["code"] == "outside_scope"
