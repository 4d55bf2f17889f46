"""成绩公示: the publicity period on China's working-day calendar, objections, finalising and the public list."""

import datetime
import sys
import types
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import Person, User
from assessments import publicity
from assessments.models import AssessmentPolicy, ComponentResult, Objection, Plan, Publication, Registration
from core.errors import Conflict, NotFound, PermissionDenied, RateLimited, ValidationFailed
from core.models import AuditEntry, Notification
from occupations.models import Level
from tests.conftest import client_for
from tests.factories import bound_user, make_ric

from .test_scoring import build_scene, make_assessor, score_and_lock, seat

pytestmark = pytest.mark.django_db

A = Actor.for_user
DAY = datetime.timedelta(days=1)


@pytest.fixture
def scene(plan, filed_org, org_admin):
    """Three candidates: A passes, B fails skills, C is absent from theory. Every component locked."""
    scene = build_scene(plan, filed_org, org_admin)
    score_and_lock(scene, theory=[80, 80, "absent"], skills=[[70, 55, 70]] * 3)
    return scene


@pytest.fixture
def published(scene):
    scene.start = datetime.date(2025, 9, 30)
    scene.publication = publicity.publication_open(actor=A(scene.admin), plan_id=scene.plan.id, today=scene.start)
    return scene


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


# --- The publicity period ------------------------------------------------------------------------------------


def test_publicity_runs_five_working_days_across_national_day_and_its_adjusted_saturday(published):
    # 2025: 10月1日—8日 off; Saturday 11 October is a working day (调休). From Tuesday 30 September the five
    # working days are 9, 10, 11 (Sat), 13 and 14 October.
    p = published.publication
    assert (p.starts_on, p.ends_on, p.provisional) == (datetime.date(2025, 9, 30), datetime.date(2025, 10, 14), False)
    assert "2025" in p.calendar_note
    plan = Plan.objects.get(pk=published.plan.id)
    assert plan.status == "publicity"
    entry = AuditEntry.objects.get(action="publication.open")
    assert entry.after["ends_on"] == "2025-10-14" and entry.after["working_days"] == 5


def test_publicity_across_the_2026_spring_festival(scene):
    # 2026: 2月15日—23日 off; Saturday 14 February is worked. From Thursday 12 February: 13, 14 (Sat), 24, 25, 26.
    p = publicity.publication_open(actor=A(scene.admin), plan_id=scene.plan.id, today=datetime.date(2026, 2, 12))
    assert p.ends_on == datetime.date(2026, 2, 26) and not p.provisional


def test_the_regions_policy_sets_the_length(scene):
    AssessmentPolicy.objects.create(
        region_prefix="", effective_from=datetime.date(2020, 1, 1), publicity_working_days=5
    )
    AssessmentPolicy.objects.create(
        region_prefix="22", effective_from=datetime.date(2024, 1, 1), publicity_working_days=7
    )
    AssessmentPolicy.objects.create(
        region_prefix="21", effective_from=datetime.date(2024, 1, 1), publicity_working_days=9
    )
    p = publicity.publication_open(actor=A(scene.admin), plan_id=scene.plan.id, today=datetime.date(2025, 9, 30))
    assert p.ends_on == datetime.date(2025, 10, 16)  # 9, 10, 11, 13, 14, 15, 16 October


def test_a_period_reaching_into_an_unpublished_year_is_provisional(scene):
    p = publicity.publication_open(actor=A(scene.admin), plan_id=scene.plan.id, today=datetime.date(2026, 12, 29))
    assert p.provisional and "2027" in p.calendar_note
    assert p.ends_on == datetime.date(2027, 1, 6)  # 30, 31 Dec; 1 Jan is 元旦; 4, 5, 6 Jan


def test_publicity_waits_for_every_component_to_be_locked(plan, filed_org, org_admin):
    scene = build_scene(plan, filed_org, org_admin)
    with pytest.raises(Conflict) as exc:
        publicity.publication_open(actor=A(org_admin), plan_id=plan.id)
    assert "理论知识考试" in exc.value.message and "操作技能考核" in exc.value.message
    assert publicity.publication_blockers(plan) == exc.value.details["problems"]
    assert not Publication.objects.exists() and Plan.objects.get(pk=plan.id).status == "published"
    assert scene.regs


def test_only_the_org_admin_opens_publicity_once(scene, other_org_admin, cc_officer):
    with pytest.raises(NotFound):
        publicity.publication_open(actor=A(other_org_admin), plan_id=scene.plan.id)
    with pytest.raises(PermissionDenied):
        publicity.publication_open(actor=A(cc_officer), plan_id=scene.plan.id)
    with pytest.raises(PermissionDenied):
        publicity.publication_open(actor=A(scene.skills[0]), plan_id=scene.plan.id)
    publicity.publication_open(actor=A(scene.admin), plan_id=scene.plan.id)
    with pytest.raises(Conflict):
        publicity.publication_open(actor=A(scene.admin), plan_id=scene.plan.id)


def test_candidates_are_told_publicity_has_started(scene):
    user = bound_user("cand-a", password="x-123456789", person=scene.regs[0].person)
    publicity.publication_open(actor=A(scene.admin), plan_id=scene.plan.id)
    assert Notification.objects.get(user=user).title.startswith("成绩公示")


# --- Objections ----------------------------------------------------------------------------------------------


def test_objections_are_taken_only_while_publicity_runs(scene):
    anyone = Actor()
    with pytest.raises(NotFound):
        publicity.objection_raise(actor=anyone, plan_id=scene.plan.id, text="分数不对", client_ip="1.1.1.1")
    start = datetime.date(2025, 9, 30)
    p = publicity.publication_open(actor=A(scene.admin), plan_id=scene.plan.id, today=start)
    with pytest.raises(Conflict) as exc:
        publicity.objection_raise(actor=anyone, plan_id=scene.plan.id, text="早", today=start - DAY)
    assert exc.value.code == "publicity_not_started"
    first = publicity.objection_raise(actor=anyone, plan_id=scene.plan.id, text="第一天", today=start)
    last = publicity.objection_raise(
        actor=anyone,
        plan_id=scene.plan.id,
        text="最后一天",
        registration_id=scene.regs[1].id,
        contact="13900000000",
        today=p.ends_on,
    )
    assert first.raised_by is None and last.registration == scene.regs[1] and last.contact == "13900000000"
    with pytest.raises(Conflict) as exc:
        publicity.objection_raise(actor=anyone, plan_id=scene.plan.id, text="晚了", today=p.ends_on + DAY)
    assert exc.value.code == "publicity_over"
    assert Objection.objects.count() == 2


def test_an_objection_needs_text_and_a_listed_candidate(published, org_admin):
    plan_id, today = published.plan.id, published.start
    with pytest.raises(ValidationFailed):
        publicity.objection_raise(actor=A(org_admin), plan_id=plan_id, text="   ", today=today)
    with pytest.raises(ValidationFailed):
        publicity.objection_raise(actor=A(org_admin), plan_id=plan_id, text="x" * 2001, today=today)
    with pytest.raises(ValidationFailed, match="序号"):
        publicity.objection_raise(actor=A(org_admin), plan_id=plan_id, text="x", registration_id=999999, today=today)


def test_anonymous_objections_are_rate_limited_by_address(published, settings, org_admin):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "public_report": (2, 3600)}
    plan_id, today = published.plan.id, published.start
    for _ in range(2):
        publicity.objection_raise(actor=Actor(), plan_id=plan_id, text="异议", client_ip="10.0.0.1", today=today)
    with pytest.raises(RateLimited):
        publicity.objection_raise(actor=Actor(), plan_id=plan_id, text="异议", client_ip="10.0.0.1", today=today)
    publicity.objection_raise(actor=Actor(), plan_id=plan_id, text="异议", client_ip="10.0.0.2", today=today)
    publicity.objection_raise(actor=A(org_admin), plan_id=plan_id, text="实名", client_ip="10.0.0.1", today=today)
    assert Objection.objects.count() == 4


def test_the_org_admin_answers_and_a_signed_in_objector_is_told(published, other_org_admin, django_user_model):
    objector = django_user_model.objects.create_user("objector", password="x-123456789")
    objection = publicity.objection_raise(
        actor=A(objector), plan_id=published.plan.id, text="请复核B的操作技能成绩", today=published.start
    )
    with pytest.raises(NotFound):
        publicity.objection_answer(actor=A(other_org_admin), objection_id=objection.id, response="x")
    with pytest.raises(PermissionDenied):
        publicity.objection_answer(actor=A(published.skills[0]), objection_id=objection.id, response="x")
    with pytest.raises(ValidationFailed):
        publicity.objection_answer(actor=A(published.admin), objection_id=objection.id, response=" ")
    publicity.objection_answer(actor=A(published.admin), objection_id=objection.id, response="经复核,成绩无误")
    objection.refresh_from_db()
    assert objection.response == "经复核,成绩无误" and objection.responded_by == published.admin
    assert Notification.objects.filter(user=objector, title__contains="已答复").exists()
    with pytest.raises(Conflict):
        publicity.objection_answer(actor=A(published.admin), objection_id=objection.id, response="again")


# --- Finalising ----------------------------------------------------------------------------------------------


def test_finalising_waits_for_the_end_of_publicity_and_every_answer(published):
    admin, plan_id, ends = A(published.admin), published.plan.id, published.publication.ends_on
    objection = publicity.objection_raise(actor=Actor(), plan_id=plan_id, text="有异议", today=ends)
    with pytest.raises(Conflict) as exc:
        publicity.plan_finalise(actor=admin, plan_id=plan_id, today=ends)
    assert "2025-10-14" in exc.value.message and "1条异议未答复" in exc.value.message
    with pytest.raises(Conflict, match="1条异议未答复"):
        publicity.plan_finalise(actor=admin, plan_id=plan_id, today=ends + DAY)
    publicity.objection_answer(actor=admin, objection_id=objection.id, response="已核实")
    with pytest.raises(Conflict, match="期满后"):
        publicity.plan_finalise(actor=admin, plan_id=plan_id, today=ends)
    publicity.plan_finalise(actor=admin, plan_id=plan_id, today=ends + DAY)
    with pytest.raises(Conflict):
        publicity.plan_finalise(actor=admin, plan_id=plan_id, today=ends + DAY)


def test_finalising_sets_outcomes_and_tells_the_candidates(published, other_org_admin):
    a, b, c = published.regs
    users = [bound_user(f"cand{i}", password="x-123456789", person=r.person) for i, r in enumerate((a, b))]
    after = published.publication.ends_on + DAY
    with pytest.raises(NotFound):
        publicity.plan_finalise(actor=A(other_org_admin), plan_id=published.plan.id, today=after)
    summary = publicity.plan_finalise(actor=A(published.admin), plan_id=published.plan.id, today=after)
    assert (summary.total, summary.passed, summary.failed, summary.absent, summary.void) == (3, 1, 1, 1, 0)
    assert [Registration.objects.get(pk=r.id).outcome for r in (a, b, c)] == ["passed", "failed", "absent"]
    assert not Registration.objects.filter(plan=published.plan, finalised_at__isnull=True).exists()
    plan = Plan.objects.get(pk=published.plan.id)
    assert plan.status == "finalised" and plan.finalised_at is not None
    assert "合格" in Notification.objects.get(user=users[0]).title
    assert "不合格" in Notification.objects.get(user=users[1]).title
    assert AuditEntry.objects.get(action="plan.finalise").after == {
        "status": "finalised",
        "total": 3,
        "passed": 1,
        "failed": 1,
        "absent": 1,
        "void": 0,
    }
    assert "已办结" in client_for(None).get(f"/assessments/publicity/{plan.id}/").content.decode()
    result = ComponentResult.objects.get(registration=b, kind="skills")
    from assessments.scoring import services as scoring_services

    with pytest.raises(Conflict, match="办结"):
        scoring_services.correction_request(actor=A(published.admin), result_id=result.id, new_score="60", reason="x")


def test_finalising_hands_over_to_certificate_issuance_when_it_exists(published, monkeypatch):
    calls = []
    module = types.ModuleType("certificates.issuance")
    module.issue_batch_start = lambda **kwargs: calls.append(kwargs) or "batch-7"
    monkeypatch.setitem(sys.modules, "certificates.issuance", module)
    summary = publicity.plan_finalise(
        actor=A(published.admin), plan_id=published.plan.id, today=published.publication.ends_on + DAY
    )
    assert summary.certificates_started and summary.certificate_batch == "batch-7"
    assert calls == [{"actor": calls[0]["actor"], "plan_id": published.plan.id}]
    assert calls[0]["actor"].user == published.admin


def test_finalising_without_the_certificates_module_stops_at_the_outcomes(published, monkeypatch):
    monkeypatch.setitem(sys.modules, "certificates.issuance", None)  # as if the module did not exist
    summary = publicity.plan_finalise(
        actor=A(published.admin), plan_id=published.plan.id, today=published.publication.ends_on + DAY
    )
    assert not summary.certificates_started and summary.as_dict()["certificate_batch"] is None


def _bulk_candidates(plan: Plan, n: int, offset: int) -> None:
    """n approved candidates with locked results and accounts, written directly: only the query count matters."""
    level = Level.objects.get(code="4")
    people = Person.objects.bulk_create(
        Person(
            name=f"批量{offset + i}",
            id_type="ric",
            id_number=make_ric(birth=datetime.date(1988, 1, 1) + datetime.timedelta(days=offset + i), seq=7),
        )
        for i in range(n)
    )
    User.objects.bulk_create(User(username=f"bulk{offset + i}", person=p) for i, p in enumerate(people))
    regs = Registration.objects.bulk_create(
        Registration(plan=plan, person=p, level=level, status="approved", pledge_accepted_at=timezone.now())
        for p in people
    )
    ComponentResult.objects.bulk_create(
        ComponentResult(
            registration=r, kind=kind, score=Decimal("75"), passed=True, rule="mean of 1", locked_at=timezone.now()
        )
        for r in regs
        for kind in ("theory", "skills")
    )


def _finalise_queries(filed_org, org_admin, n: int, offset: int, assessors: list) -> int:
    from .conftest import make_plan

    plan = make_plan(filed_org, org_admin)
    _bulk_candidates(plan, n, offset)
    # Panels the standard's staffing asks for 60 candidates (finalising checks them): theory 4, skills 13.
    seat(plan, "theory", *assessors[:4])
    seat(plan, "skills", *assessors[:13])
    Publication.objects.create(plan=plan, starts_on=datetime.date(2025, 3, 3), ends_on=datetime.date(2025, 3, 10))
    Plan.objects.filter(pk=plan.id).update(status="publicity")
    with CaptureQueriesContext(connection) as queries:
        summary = publicity.plan_finalise(actor=A(org_admin), plan_id=plan.id, today=datetime.date(2025, 3, 11))
    assert summary.passed == n
    return len(queries)


def test_finalising_does_not_query_per_candidate(filed_org, org_admin):
    assessors = [make_assessor(filed_org, org_admin, i) for i in range(1, 14)]
    few = _finalise_queries(filed_org, org_admin, 3, 0, assessors)
    many = _finalise_queries(filed_org, org_admin, 60, 100, assessors)
    assert few == many
    assert Notification.objects.filter(title__contains="合格").count() == 63


# --- The public list -------------------------------------------------------------------------------------------


def test_the_public_results_are_masked(published, client):
    a = published.regs[0]
    r = client.get(f"/api/v1/assessments/public/plans/{published.plan.id}/results")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["count"] == 3 and body["ends_on"] == "2025-10-14"
    row = body["rows"][0]
    assert row["name"] == "考" + "*" * (len(a.person.name) - 1)
    assert row["id_number"] == a.person.id_number[:6] + "********" + a.person.id_number[-4:]
    assert row["level"] == "四级/中级工" and row["outcome"] == "passed"
    assert [(c["kind"], c["score"]) for c in row["components"]] == [("theory", "80.0"), ("skills", "70.0")]
    raw = r.content.decode()
    page = client.get(f"/assessments/publicity/{published.plan.id}/").content.decode()
    for reg in published.regs:
        assert reg.person.name not in raw and reg.person.id_number not in raw
        assert reg.person.name not in page and reg.person.id_number not in page
    assert row["name"] in page and 'name="viewport"' in page


def test_a_candidate_finds_their_row_by_name_and_id_number_and_look_ups_are_limited(published, client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "verify_lookup": (2, 60)}
    b = published.regs[1]
    url = f"/api/v1/assessments/public/plans/{published.plan.id}/results"
    r = client.get(url, {"name": b.person.name, "id_number": b.person.id_number.lower()})
    assert [row["number"] for row in r.json()["rows"]] == [b.id]
    assert client.get(url, {"id_number": b.person.id_number}).status_code == 422  # the number alone is not enough
    page = client.get(
        f"/assessments/publicity/{published.plan.id}/", {"name": b.person.name, "id_number": b.person.id_number}
    )
    assert page.status_code == 200 and "不合格" in page.content.decode()
    assert client.get(url, {"name": "某某", "id_number": b.person.id_number}).status_code == 429
    assert client.get(url).status_code == 200  # browsing the list is not limited


def test_there_is_no_public_list_before_publicity(scene, client):
    assert client.get(f"/api/v1/assessments/public/plans/{scene.plan.id}/results").status_code == 404
    assert client.get(f"/assessments/publicity/{scene.plan.id}/").status_code == 404


def test_anyone_objects_through_the_api_and_the_page(scene, client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "public_report": (2, 3600)}
    publicity.publication_open(actor=A(scene.admin), plan_id=scene.plan.id)  # today: publicity is running
    url = f"/api/v1/assessments/public/plans/{scene.plan.id}/objections"
    r = client.post(url, {"text": "B的成绩有误", "registration_id": scene.regs[1].id}, content_type="application/json")
    assert r.status_code == 201, r.content
    r = client.post(
        f"/assessments/publicity/{scene.plan.id}/objection/",
        {"text": "页面提交", "contact": "x@example.com"},
        follow=True,
    )
    assert "异议已提交" in r.content.decode()
    r = client.post(url, {"text": "第三次"}, content_type="application/json")
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"
    assert Objection.objects.count() == 2
    r = client.post(url, {"text": ""}, content_type="application/json")
    assert r.status_code == 429  # the limit is counted before anything else is looked at


def test_publicity_and_finalising_through_the_api(scene, other_org_admin):
    admin = client_for(scene.admin)
    r = admin.post(f"/api/v1/assessments/plans/{scene.plan.id}/publication")
    assert r.status_code == 201 and r.json()["plan_id"] == scene.plan.id
    assert client_for(other_org_admin).post(f"/api/v1/assessments/plans/{scene.plan.id}/finalise").status_code == 404
    r = admin.post(f"/api/v1/assessments/plans/{scene.plan.id}/finalise")
    assert r.status_code == 409 and r.json()["code"] == "not_ready"
    objection = publicity.objection_raise(actor=Actor(), plan_id=scene.plan.id, text="异议", client_ip="9.9.9.9")
    listed = admin.get(f"/api/v1/assessments/plans/{scene.plan.id}/objections").json()
    assert [o["id"] for o in listed] == [objection.id]
    r = client_for(other_org_admin).post(
        f"/api/v1/assessments/objections/{objection.id}/answer", {"response": "x"}, content_type="application/json"
    )
    assert r.status_code == 404
    r = admin.post(
        f"/api/v1/assessments/objections/{objection.id}/answer", {"response": "已复核"}, content_type="application/json"
    )
    assert r.status_code == 200 and r.json()["response"] == "已复核"
    Publication.objects.filter(plan=scene.plan).update(ends_on=timezone.localdate() - DAY)
    r = admin.post(f"/api/v1/assessments/plans/{scene.plan.id}/finalise")
    assert r.status_code == 200, r.content
    assert (r.json()["passed"], r.json()["failed"], r.json()["absent"]) == (1, 1, 1)


def test_the_organisations_publicity_page(scene, other_org_admin):
    admin = client_for(scene.admin)
    url = f"/assessments/plans/{scene.plan.id}/results/"
    assert "开始成绩公示" in admin.get(url).content.decode()
    assert client_for(other_org_admin).get(url).status_code == 404
    r = admin.post(f"{url}open/", follow=True)
    assert "成绩公示已开始" in r.content.decode()
    objection = publicity.objection_raise(actor=Actor(), plan_id=scene.plan.id, text="请复核", client_ip="8.8.8.8")
    html = admin.get(url).content.decode()
    assert "请复核" in html and "尚有1条异议未答复" in html
    admin.post(f"/assessments/publicity/objections/{objection.id}/answer/", {"response": "成绩无误"})
    Publication.objects.filter(plan=scene.plan).update(ends_on=timezone.localdate() - DAY)
    r = admin.post(f"{url}finalise/", follow=True)
    assert "已办结" in r.content.decode()
    assert Plan.objects.get(pk=scene.plan.id).status == "finalised"


def test_the_plan_pages_link_to_a_results_page_the_reader_may_open(published, client, cc_officer):
    """The public plan page linked to the organisation's own publicity page (403/404 for everyone else), and so
    did the bureau's view of the plan."""
    plan = published.plan
    page = client.get(f"/assessments/plans/{plan.id}/").content.decode()
    assert f'href="/assessments/publicity/{plan.id}/"' in page
    assert client.get(f"/assessments/publicity/{plan.id}/").status_code == 200
    officer = client_for(cc_officer)
    page = officer.get(f"/assessments/manage/{plan.id}/").content.decode()
    assert f"/assessments/plans/{plan.id}/results/" not in page
    assert f'href="/assessments/publicity/{plan.id}/"' in page
    admin_page = client_for(published.admin).get(f"/assessments/manage/{plan.id}/").content.decode()
    assert f'href="/assessments/plans/{plan.id}/results/"' in admin_page
