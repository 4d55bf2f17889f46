"""Re-sits (补考) reached by the people who use them: the candidate or the organisation sees what is taken again,
what is carried, the last day and the plans open for it, and applies, on a page and in the API; the re-sit then
goes through the new plan's tickets, check-in and scoring."""

import datetime

import pytest
from django.utils import timezone

from assessments.examday import services as examday
from assessments.models import ComponentResult, Plan, Registration
from assessments.scoring import services as scoring_services
from tests.conftest import client_for
from tests.factories import bound_user

from .conftest import make_plan
from .test_scoring import A, build_scene, finalised_scene, make_assessor, seat

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed(plan, filed_org, org_admin):
    return finalised_scene(build_scene(plan, filed_org, org_admin))


@pytest.fixture
def candidate(failed):
    """B: passed theory, failed skills; signs in with an account bound to them."""
    b = failed.regs[1]
    return bound_user("resit-b", password="x-123456789", person=b.person)


def test_the_candidate_sees_what_to_retake_and_which_plans_are_open(failed, candidate, filed_org, org_admin):
    b = failed.regs[1]
    second = make_plan(filed_org, org_admin, levels=("4",))
    closed = make_plan(filed_org, org_admin, levels=("4",))
    Plan.objects.filter(pk=closed.pk).update(registration_closes=timezone.localdate() - datetime.timedelta(days=1))
    page = client_for(candidate).get(f"/assessments/registrations/{b.id}/resit/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "操作技能考核" in text and "理论知识考试 80.0" in text
    assert text.count("resit-apply") == 1 and "不在报名时间内" in text
    api = client_for(candidate).get(f"/api/v1/assessments/registrations/{b.id}/resit").json()
    assert api["retake"] == ["skills"] and api["carried"] == {"theory": "80.0"}
    assert {p["plan_id"]: p["open"] for p in api["plans"]} == {closed.id: False, second.id: True}


def test_the_candidate_applies_on_the_page_and_sits_only_the_failed_component(failed, candidate, filed_org, org_admin):
    b = failed.regs[1]
    second = make_plan(filed_org, org_admin, levels=("4",))
    r = client_for(candidate).post(f"/assessments/registrations/{b.id}/resit/", {"plan_id": second.id})
    resit = Registration.objects.get(resit_of=b)
    assert r.status_code == 302 and r["Location"] == f"/assessments/registrations/{resit.id}/"
    assert (resit.plan, resit.status) == (second, "approved")
    assert ComponentResult.objects.get(registration=resit).status == "carried"
    # Same tickets, check-in and scoring as everyone: a ticket with only the skills session on it, …
    ticket = resit.ticket  # issued with the re-sit (it is approved as it is made)
    ticket_page = client_for(candidate).get(f"/assessments/registrations/{resit.id}/ticket/").content.decode()
    assert "操作技能考核" in ticket_page and "理论知识考试" not in ticket_page
    # … no theory check-in (the component is carried), a skills check-in, and only then a mark.
    now = timezone.now()  # the session began up to an hour ago, today in the platform's time zone
    midnight = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time.min))
    starts = max(now - datetime.timedelta(hours=1), midnight)
    second.components.update(starts_at=starts, ends_at=now + datetime.timedelta(hours=1))
    assessor = make_assessor(filed_org, org_admin, 30)
    # The standard's skills panel: at least three (the rules are checked before every mark, like the check-in).
    seat(second, "skills", assessor, make_assessor(filed_org, org_admin, 31), make_assessor(filed_org, org_admin, 32))
    with pytest.raises(Exception, match="不参加本场"):
        examday.checkin_record(
            actor=A(org_admin), plan_id=second.id, kind="theory", status="present", code=ticket.number, id_checked=True
        )
    with pytest.raises(Exception, match="未在本科目考场签到"):
        scoring_services.score_enter(
            actor=A(assessor), plan_id=second.id, kind="skills", entries=[{"registration_id": resit.id, "value": 75}]
        )
    examday.checkin_record(
        actor=A(org_admin), plan_id=second.id, kind="skills", status="present", code=ticket.number, id_checked=True
    )
    (score,) = scoring_services.score_enter(
        actor=A(assessor), plan_id=second.id, kind="skills", entries=[{"registration_id": resit.id, "value": 75}]
    )
    assert score.value == 75


def test_a_resit_in_a_plan_whose_tickets_are_out_gets_its_ticket_at_once(failed, filed_org, org_admin):
    from .conftest import make_candidates

    b = failed.regs[1]
    second = make_plan(filed_org, org_admin, levels=("4",))
    make_candidates(second, org_admin, "4", 2, start=70)  # approved: tickets issued with the approval
    r = client_for(org_admin).post(
        f"/api/v1/assessments/registrations/{b.id}/resit", {"plan_id": second.id}, content_type="application/json"
    )
    assert r.status_code == 200, r.json()
    assert r.json()["retake"] == ["skills"]
    resit = Registration.objects.get(pk=r.json()["registration_id"])
    assert resit.ticket.seat == 3


def test_the_api_refuses_with_the_rule(failed, candidate, filed_org, org_admin, other_org_admin):
    a, b, _c = failed.regs
    second = make_plan(filed_org, org_admin, levels=("4",))
    url = f"/api/v1/assessments/registrations/{b.id}/resit"
    client = client_for(candidate)
    # Someone else's registration: not found, for a stranger and for another organisation alike.
    assert client.get(f"/api/v1/assessments/registrations/{a.id}/resit").status_code == 404
    assert client_for(other_org_admin).get(url).status_code == 404
    # A passed candidate has nothing to re-sit.
    r = client_for(org_admin).get(f"/api/v1/assessments/registrations/{a.id}/resit")
    assert r.status_code == 409 and r.json()["code"] == "nothing_failed"
    # Past the standard's window (12 months after the first sitting was finalised).
    long_ago = timezone.now() - datetime.timedelta(days=400)
    Plan.objects.filter(pk=failed.plan.id).update(finalised_at=long_ago)
    r = client.post(url, {"plan_id": second.id}, content_type="application/json")
    assert r.status_code == 409 and r.json()["code"] == "resit_window_passed"
    assert not Registration.objects.filter(resit_of=b).exists()
