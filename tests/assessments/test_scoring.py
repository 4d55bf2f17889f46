"""Scoring: who enters marks, submitting, locking and combining, corrections, score sheets, re-sits, outcomes,
through the services, the API (/api/v1/assessments/…) and the pages (/assessments/…)."""

import datetime
import io
import threading
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from accounts.actors import Actor
from accounts.models import Role
from accreditation.models import Appointment
from accreditation.people import appointment_register
from assessments.models import ComponentResult, PanelMember, Plan, Registration, Score, ScoreCorrection
from assessments.resits import rules as resit_rules
from assessments.resits import services as resit_services
from assessments.scoring import rules as scoring_rules
from assessments.scoring import services as scoring_services
from assessments.scoring import sheets as scoring_sheets
from core.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from core.models import AuditEntry
from occupations.models import StandardLevel
from tests.conftest import client_for, require_postgres
from tests.factories import appointed_since, approved_candidates, bound_user, checked_in, make_ric, member

from .conftest import make_candidates, make_plan

pytestmark = pytest.mark.django_db

D = Decimal


def A(user) -> Actor:
    return Actor.for_user(user)


# --- Set-up shared with test_publicity ------------------------------------------------------------------------


def make_assessor(org, admin, n: int):
    """An assessor registered with the organisation a year ago (so appointed on any recent exam day), with a login."""
    appointment = appointment_register(
        actor=A(admin),
        role="assessor",
        name=f"考评员{n}",
        id_type="ric",
        id_number=make_ric(birth=datetime.date(1985, 3, 1) + datetime.timedelta(days=n), seq=n + 500),
        scopes=[{"occupation_code": "6-31-01-03", "max_level": "3"}],
        organisation_id=org.id,
        valid_from=appointed_since(),
    )
    user = member(Role.ASSESSOR, organisation=org, person=appointment.person)
    user.appointment = appointment
    return user


def seat(plan: Plan, kind: str, *users) -> None:
    for user in users:
        PanelMember.objects.create(plan=plan, kind=kind, appointment=user.appointment)


def exams_held(plan: Plan) -> None:
    """The components took place four hours ago (plans are created with their exams in the future). Shortly after
    local midnight that is yesterday, before appointments registered today: those are dated from the exam day."""
    now = timezone.now()
    starts = now - datetime.timedelta(hours=4)
    plan.components.update(starts_at=starts, ends_at=now - datetime.timedelta(hours=1))
    # So the panel's appointments date from the exam day, as a real panel's would.
    exam_day = timezone.localtime(starts).date()
    Appointment.objects.filter(valid_from__gt=exam_day).update(valid_from=exam_day)


def enter(user, plan: Plan, kind: str, marks: dict) -> list[Score]:
    """The candidates given a mark were checked in at the session first (absent ones need not be)."""
    checked_in(plan, [reg for reg, mark in marks.items() if mark != "absent"], kinds=[kind])
    entries = [
        {"registration_id": reg.id, "status": mark}
        if mark in ("absent", "void")
        else {"registration_id": reg.id, "value": mark}
        for reg, mark in marks.items()
    ]
    return scoring_services.score_enter(actor=A(user), plan_id=plan.id, kind=kind, entries=entries)


def submit(user, plan: Plan, kind: str, marks: dict) -> None:
    enter(user, plan, kind, marks)
    scoring_services.score_submit(actor=A(user), plan_id=plan.id, kind=kind)


def build_scene(plan: Plan, org, admin, n: int = 3) -> SimpleNamespace:
    exams_held(plan)
    regs = approved_candidates(plan, admin, "4", n)  # the subject is scoring: the approvals are written directly
    skills = [make_assessor(org, admin, i) for i in range(1, 4)]
    theory = make_assessor(org, admin, 10)
    invigilator = make_assessor(org, admin, 40)  # the standard asks for two on the theory panel; one marks
    seat(plan, "skills", *skills)
    seat(plan, "theory", theory, invigilator)
    checked_in(plan, regs)  # exam day: everyone came (tests/assessments/test_examday.py starts from nobody)
    return SimpleNamespace(
        plan=plan, regs=regs, skills=skills, theory=theory, invigilator=invigilator, admin=admin, org=org
    )


def score_and_lock(scene, theory: list, skills: list[list]) -> None:
    """theory: one mark per candidate; skills: per assessor, one mark per candidate. Then both are locked."""
    submit(scene.theory, scene.plan, "theory", dict(zip(scene.regs, theory, strict=True)))
    for user, marks in zip(scene.skills, skills, strict=True):
        submit(user, scene.plan, "skills", dict(zip(scene.regs, marks, strict=True)))
    scoring_services.component_lock(actor=A(scene.admin), plan_id=scene.plan.id, kind="theory")
    scoring_services.component_lock(actor=A(scene.admin), plan_id=scene.plan.id, kind="skills")


def result(reg: Registration, kind: str) -> ComponentResult:
    return ComponentResult.objects.get(registration=reg, kind=kind)


@pytest.fixture
def scene(plan, filed_org, org_admin):
    return build_scene(plan, filed_org, org_admin)


@pytest.fixture
def second_admin(filed_org):
    return member(Role.ORG_ADMIN, organisation=filed_org)


# --- Combining marks ---------------------------------------------------------------------------------------------


def test_the_mean_of_the_assessors_marks():
    assert scoring_rules.combine([D("70"), D("80"), D("90")], "mean") == (D("80.0"), "mean of 3")
    assert scoring_rules.combine([D("61.5")], "mean") == (D("61.5"), "mean of 1")


def test_the_trimmed_mean_drops_one_highest_and_one_lowest_from_three_marks_on():
    assert scoring_rules.combine([D("50"), D("70"), D("72"), D("74"), D("99")], "trimmed_mean") == (
        D("72.0"),
        "trimmed mean of 5",
    )
    assert scoring_rules.combine([D("10"), D("70"), D("100")], "trimmed_mean") == (D("70.0"), "trimmed mean of 3")
    # With fewer than three marks there is nothing to trim: the plain mean.
    assert scoring_rules.combine([D("60"), D("70")], "trimmed_mean") == (D("65.0"), "mean of 2")


def test_rounding_is_half_up_to_one_decimal():
    # Banker's rounding would give 60.0 and 59.8 here.
    assert scoring_rules.combine([D("60.0"), D("60.1")], "mean")[0] == D("60.1")
    assert scoring_rules.combine([D("59.8"), D("59.9")], "mean")[0] == D("59.9")
    assert scoring_rules.combine([D("60.0"), D("59.9"), D("60.0")], "mean")[0] == D("60.0")  # 59.966…


def test_absent_needs_a_majority_and_void_needs_only_one():
    scored, absent, void = "scored", "absent", "void"
    assert scoring_rules.combine_marks([(absent, None), (absent, None), (scored, D("80"))], "mean").status == absent
    one_absent = scoring_rules.combine_marks([(absent, None), (scored, D("70")), (scored, D("80"))], "mean")
    assert (one_absent.status, one_absent.score, one_absent.rule) == (scored, D("75.0"), "mean of 2")
    assert "缺考" in one_absent.note
    cheated = scoring_rules.combine_marks([(void, None), (scored, D("90")), (scored, D("95"))], "mean")
    assert (cheated.status, cheated.score, cheated.rule) == (void, None, "void by 1 of 3")


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("100.5", "0到100"),
        ("-1", "0到100"),
        ("75.55", "一位小数"),
        ("七十", "不是数字"),
        ("", "请填写"),
        ("NaN", "0到100"),
    ],
)
def test_a_mark_is_0_to_100_with_at_most_one_decimal(typed, message):
    with pytest.raises(ValidationFailed, match=message):
        scoring_rules.parse_score(typed)


def test_marks_typed_in_any_form_are_kept_to_one_decimal():
    assert scoring_rules.parse_score("85") == D("85.0")
    assert scoring_rules.parse_score(59.9) == D("59.9")
    assert scoring_rules.parse_score(" 100 ") == D("100.0")


def test_the_rule_is_explained_in_words():
    assert scoring_rules.rule_label("trimmed mean of 5") == "5名考评员评分去掉最高最低后平均"
    assert scoring_rules.rule_label("mean of 1") == "1名考评员评分算术平均"
    assert scoring_rules.rule_label("carried from #12") == "沿用前次合格成绩"


def test_add_months_keeps_the_day_or_the_months_last_day():
    assert resit_rules.add_months(datetime.date(2025, 1, 31), 1) == datetime.date(2025, 2, 28)
    assert resit_rules.add_months(datetime.date(2024, 12, 15), 12) == datetime.date(2025, 12, 15)
    assert resit_rules.add_months(datetime.date(2025, 11, 30), 3) == datetime.date(2026, 2, 28)


# --- Entering marks ------------------------------------------------------------------------------------------------


def test_an_assessor_saves_changes_and_submits_then_the_sheet_is_closed(scene):
    user, plan, (a, b, c) = scene.skills[0], scene.plan, scene.regs
    enter(user, plan, "skills", {a: 70, b: "absent"})
    enter(user, plan, "skills", {a: "72.5", c: 80})
    marks = {s.registration_id: (s.status, s.value) for s in Score.objects.filter(assessor=user.appointment)}
    assert marks == {a.id: ("scored", D("72.5")), b.id: ("absent", None), c.id: ("scored", D("80.0"))}
    assert AuditEntry.objects.filter(action="score.enter").count() == 2
    change = AuditEntry.objects.filter(action="score.enter").order_by("seq").last()
    assert change.before["marks"] == {str(a.id): "70.0"} and change.after["marks"][str(a.id)] == "72.5"

    assert scoring_services.score_submit(actor=A(user), plan_id=plan.id, kind="skills") == 3
    assert not Score.objects.filter(assessor=user.appointment, submitted_at__isnull=True).exists()
    with pytest.raises(Conflict) as exc:
        enter(user, plan, "skills", {a: 90})
    assert exc.value.code == "already_submitted"
    with pytest.raises(Conflict):
        scoring_services.score_submit(actor=A(user), plan_id=plan.id, kind="skills")
    assert Score.objects.get(assessor=user.appointment, registration=a).value == D("72.5")


def test_only_the_panel_for_that_component_enters_marks(scene, filed_org, org_admin, other_org_admin):
    plan, reg = scene.plan, scene.regs[0]
    unseated = make_assessor(filed_org, org_admin, 20)
    with pytest.raises(PermissionDenied):
        enter(unseated, plan, "skills", {reg: 80})
    with pytest.raises(PermissionDenied):  # on the theory panel, not the skills panel
        enter(scene.theory, plan, "skills", {reg: 80})
    with pytest.raises(PermissionDenied):  # the admin runs the plan but does not mark it
        enter(org_admin, plan, "skills", {reg: 80})
    with pytest.raises(NotFound):
        enter(other_org_admin, plan, "skills", {reg: 80})
    with pytest.raises(NotAuthenticated):
        scoring_services.score_enter(actor=Actor(), plan_id=plan.id, kind="skills", entries=[])
    with pytest.raises(NotFound):
        enter(scene.skills[0], plan, "cooking", {reg: 80})
    assert not Score.objects.exists()


def test_a_withdrawn_assessor_can_no_longer_mark(scene):
    scene.skills[0].appointment.status = "withdrawn"
    scene.skills[0].appointment.save()
    with pytest.raises(PermissionDenied):
        enter(scene.skills[0], scene.plan, "skills", {scene.regs[0]: 80})


def test_only_approved_candidates_of_the_component_are_marked_and_a_bad_entry_saves_nothing(scene, org_admin):
    plan, (a, _b, _c) = scene.plan, scene.regs
    unapproved = make_candidates(plan, org_admin, "4", 1, start=50, approve=False)[0]
    with pytest.raises(ValidationFailed) as exc:
        enter(scene.skills[0], plan, "skills", {a: 80, unapproved: 70})
    assert exc.value.details["errors"][0]["registration_id"] == unapproved.id
    with pytest.raises(ValidationFailed) as exc:
        enter(scene.skills[0], plan, "skills", {a: 80, scene.regs[1]: "100.5", scene.regs[2]: "七十"})
    assert len(exc.value.details["errors"]) == 2 and "均未保存" in exc.value.message
    with pytest.raises(ValidationFailed, match="不能同时填写分数"):
        scoring_services.score_enter(
            actor=A(scene.skills[0]),
            plan_id=plan.id,
            kind="skills",
            entries=[{"registration_id": a.id, "status": "absent", "value": 50}],
        )
    with pytest.raises(ValidationFailed, match="重复"):
        scoring_services.score_enter(
            actor=A(scene.skills[0]),
            plan_id=plan.id,
            kind="skills",
            entries=[{"registration_id": a.id, "value": 50}, {"registration_id": a.id, "value": 60}],
        )
    assert not Score.objects.exists()


def test_no_marks_before_the_component_has_started(filed_org, org_admin):
    plan = make_plan(filed_org, org_admin)
    reg = make_candidates(plan, org_admin, "4", 1)[0]
    assessor = make_assessor(filed_org, org_admin, 1)
    seat(plan, "skills", assessor)
    with pytest.raises(Conflict) as exc:
        enter(assessor, plan, "skills", {reg: 80})
    assert exc.value.code == "not_started"


def test_skills_sheets_are_submitted_complete(scene):
    enter(scene.skills[0], scene.plan, "skills", {scene.regs[0]: 80})
    with pytest.raises(ValidationFailed, match="尚有2名考生未评分"):
        scoring_services.score_submit(actor=A(scene.skills[0]), plan_id=scene.plan.id, kind="skills")
    with pytest.raises(ValidationFailed, match="尚未录入"):
        scoring_services.score_submit(actor=A(scene.skills[1]), plan_id=scene.plan.id, kind="skills")


# --- Locking ------------------------------------------------------------------------------------------------------


def test_locking_waits_for_every_panel_member(scene):
    plan, regs = scene.plan, scene.regs
    submit(scene.skills[0], plan, "skills", dict.fromkeys(regs, 80))
    enter(scene.skills[1], plan, "skills", dict.fromkeys(regs, 80))
    with pytest.raises(Conflict) as exc:
        scoring_services.component_lock(actor=A(scene.admin), plan_id=plan.id, kind="skills")
    assert exc.value.code == "scores_incomplete"
    assert "考评员2" in exc.value.message and "考评员3尚有3名考生未评分" in exc.value.message
    assert not ComponentResult.objects.exists()
    state = scoring_services.lock_state(plan, "skills")
    assert not state.ready and len(state.problems) == 2


def test_theory_needs_one_submitted_mark_per_candidate(scene, filed_org, org_admin):
    plan, (a, b, c) = scene.plan, scene.regs
    second_marker = make_assessor(filed_org, org_admin, 11)
    seat(plan, "theory", second_marker)
    submit(scene.theory, plan, "theory", {a: 70, b: 75})
    with pytest.raises(Conflict, match="1名考生尚无评分"):
        scoring_services.component_lock(actor=A(scene.admin), plan_id=plan.id, kind="theory")
    submit(second_marker, plan, "theory", {c: 88})
    results = scoring_services.component_lock(actor=A(scene.admin), plan_id=plan.id, kind="theory")
    assert sorted((r.registration_id, r.score, r.rule) for r in results) == [
        (a.id, D("70.0"), "mean of 1"),
        (b.id, D("75.0"), "mean of 1"),
        (c.id, D("88.0"), "mean of 1"),
    ]
    late_marker = make_assessor(filed_org, org_admin, 12)
    seat(plan, "theory", late_marker)
    with pytest.raises(ValidationFailed, match="已锁定"):
        enter(late_marker, plan, "theory", {a: 99})


def test_locking_combines_the_marks_and_applies_the_pass_mark(scene):
    a, b, c = scene.regs
    score_and_lock(
        scene,
        theory=[90, 90, 90],
        skills=[["59.9", 60, 60], ["59.9", "59.9", 60], ["59.9", 60, 60]],
    )
    assert (result(a, "skills").score, result(a, "skills").passed) == (D("59.9"), False)
    assert (result(b, "skills").score, result(b, "skills").passed) == (D("60.0"), True)  # 59.966… rounds up
    assert (result(c, "skills").score, result(c, "skills").passed) == (D("60.0"), True)
    assert result(a, "skills").rule == "mean of 3" and result(a, "skills").locked_at is not None
    entry = AuditEntry.objects.filter(action="component.lock").order_by("seq").last()
    assert entry.after["kind"] == "skills" and entry.after["passed"] == 2 and entry.organisation_id == scene.org.id
    assert entry.region_code == "220102"


def test_the_standard_decides_the_combination_and_the_pass_mark(scene):
    sl = StandardLevel.objects.get(standard=scene.plan.standard, level__code="4")
    sl.score_combination = "trimmed_mean"
    sl.components = [{**c, "pass_mark": 70} if c["kind"] == "theory" else c for c in sl.components]
    sl.save()
    score_and_lock(scene, theory=[69.9, 70, 95], skills=[[100, 0, 60], [62, 61, 60], [10, 80, 60]])
    a, b, c = scene.regs
    assert (result(a, "skills").score, result(a, "skills").rule) == (D("62.0"), "trimmed mean of 3")
    assert result(b, "skills").score == D("61.0") and result(c, "skills").score == D("60.0")
    assert [result(r, "theory").passed for r in scene.regs] == [False, True, True]


def test_absent_and_void_results(scene):
    a, b, c = scene.regs
    score_and_lock(
        scene,
        theory=["absent", 80, 80],
        skills=[["absent", "void", "absent"], ["absent", 85, 70], ["absent", 90, 72]],
    )
    assert (result(a, "theory").status, result(a, "skills").status) == ("absent", "absent")
    assert (result(b, "skills").status, result(b, "skills").score, result(b, "skills").passed) == ("void", None, False)
    assert (result(c, "skills").status, result(c, "skills").score) == ("scored", D("71.0"))
    assert result(c, "skills").rule == "mean of 2" and "缺考" in result(c, "skills").note


def test_only_the_org_admin_locks_and_marks_close_once_locked(scene, other_org_admin, cc_officer):
    plan, regs = scene.plan, scene.regs
    for user in scene.skills:
        submit(user, plan, "skills", dict.fromkeys(regs, 75))
    with pytest.raises(PermissionDenied):
        scoring_services.component_lock(actor=A(scene.skills[0]), plan_id=plan.id, kind="skills")
    with pytest.raises(PermissionDenied):  # the bureau oversees but does not lock
        scoring_services.component_lock(actor=A(cc_officer), plan_id=plan.id, kind="skills")
    with pytest.raises(NotFound):
        scoring_services.component_lock(actor=A(other_org_admin), plan_id=plan.id, kind="skills")
    scoring_services.component_lock(actor=A(scene.admin), plan_id=plan.id, kind="skills")
    with pytest.raises(Conflict) as exc:
        scoring_services.component_lock(actor=A(scene.admin), plan_id=plan.id, kind="skills")
    assert exc.value.code == "nothing_to_lock"


def _race(*calls) -> tuple[list, list[Exception]]:
    """Run the calls at the same moment, each on its own database connection."""
    barrier = threading.Barrier(len(calls))
    done, errors = [], []

    def run(call):
        try:
            barrier.wait()
            done.append(call())
        except Exception as exc:  # collected and asserted by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done, errors


@pytest.mark.django_db(transaction=True)
def test_two_admins_locking_at_once_lock_once(plan, filed_org, org_admin, second_admin):
    require_postgres()
    scene = build_scene(plan, filed_org, org_admin)
    for user in scene.skills:
        submit(user, plan, "skills", dict.fromkeys(scene.regs, 75))
    done, errors = _race(
        *(
            lambda u=u: scoring_services.component_lock(actor=A(u), plan_id=plan.id, kind="skills")
            for u in (org_admin, second_admin)
        )
    )
    assert len(done) == 1 and [getattr(e, "code", e) for e in errors] == ["nothing_to_lock"]
    assert ComponentResult.objects.filter(kind="skills").count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_admins_deciding_one_correction_at_once_decide_it_once(plan, filed_org, org_admin, second_admin):
    require_postgres()
    third_admin = member(Role.ORG_ADMIN, organisation=filed_org)
    scene = build_scene(plan, filed_org, org_admin)
    score_and_lock(scene, theory=[80, 80, 80], skills=[[59, 70, 70]] * 3)
    target = result(scene.regs[0], "skills")
    asked = scoring_services.correction_request(
        actor=A(org_admin), result_id=target.id, new_score="65", reason="合分错误"
    )
    done, errors = _race(
        lambda: scoring_services.correction_decide(actor=A(second_admin), correction_id=asked.id, approve=True),
        lambda: scoring_services.correction_decide(actor=A(third_admin), correction_id=asked.id, approve=False),
    )
    assert len(done) == 1 and [getattr(e, "code", e) for e in errors] == ["already_decided"]
    target.refresh_from_db()
    assert (target.score == D("65.0")) == (ScoreCorrection.objects.get().status == "approved")


# --- Corrections -----------------------------------------------------------------------------------------------


def test_a_correction_needs_a_reason_and_a_second_admin(scene, second_admin, other_org_admin):
    score_and_lock(scene, theory=[80, 80, 80], skills=[[59, 70, 70]] * 3)
    target = result(scene.regs[0], "skills")
    assert (target.score, target.passed) == (D("59.0"), False)
    with pytest.raises(ValidationFailed, match="理由"):
        scoring_services.correction_request(actor=A(scene.admin), result_id=target.id, new_score="61", reason="  ")
    with pytest.raises(ValidationFailed, match="相同"):
        scoring_services.correction_request(actor=A(scene.admin), result_id=target.id, new_score="59", reason="核分")
    with pytest.raises(NotFound):
        scoring_services.correction_request(actor=A(other_org_admin), result_id=target.id, new_score="61", reason="x")
    with pytest.raises(PermissionDenied):
        scoring_services.correction_request(actor=A(scene.skills[0]), result_id=target.id, new_score="61", reason="x")
    correction = scoring_services.correction_request(
        actor=A(scene.admin), result_id=target.id, new_score="61", reason="第3题漏计2分,经考评组复核"
    )
    with pytest.raises(Conflict, match="待复核"):
        scoring_services.correction_request(actor=A(scene.admin), result_id=target.id, new_score="62", reason="again")
    with pytest.raises(PermissionDenied, match="另一名管理员"):
        scoring_services.correction_decide(actor=A(scene.admin), correction_id=correction.id, approve=True)
    target.refresh_from_db()
    assert target.score == D("59.0")

    scoring_services.correction_decide(actor=A(second_admin), correction_id=correction.id, approve=True)
    target.refresh_from_db()
    correction.refresh_from_db()
    assert (target.score, target.passed, target.rule) == (D("61.0"), True, f"corrected #{correction.id}")
    assert correction.status == "approved" and correction.decided_by == second_admin
    approved = AuditEntry.objects.get(action="score_correction.approve")
    assert approved.before["score"] == "59.0" and approved.after["score"] == "61.0" and approved.after["passed"]
    assert approved.reason == "第3题漏计2分,经考评组复核"
    with pytest.raises(Conflict):
        scoring_services.correction_decide(actor=A(second_admin), correction_id=correction.id, approve=False)


def test_a_rejected_correction_leaves_the_result_and_void_can_be_ruled_by_correction(scene, second_admin):
    score_and_lock(scene, theory=[80, 80, 80], skills=[[70, 70, 70]] * 3)
    target = result(scene.regs[1], "skills")
    asked = scoring_services.correction_request(
        actor=A(second_admin), result_id=target.id, new_score="90", reason="申诉"
    )
    scoring_services.correction_decide(actor=A(scene.admin), correction_id=asked.id, approve=False)
    target.refresh_from_db()
    assert target.score == D("70.0") and ScoreCorrection.objects.get().status == "rejected"
    with pytest.raises(ValidationFailed, match="不能同时填写分数"):
        scoring_services.correction_request(
            actor=A(scene.admin), result_id=target.id, new_status="void", new_score="1", reason="监控"
        )
    ruled = scoring_services.correction_request(
        actor=A(scene.admin), result_id=target.id, new_status="void", reason="督导员查实考场录像中夹带"
    )
    scoring_services.correction_decide(actor=A(second_admin), correction_id=ruled.id, approve=True)
    target.refresh_from_db()
    assert (target.status, target.score, target.passed) == ("void", None, False)


def test_a_token_cannot_ask_for_corrections(scene):
    from accounts.services import api_token_create

    score_and_lock(scene, theory=[80, 80, 80], skills=[[70, 70, 70]] * 3)
    token, _raw = api_token_create(actor=A(scene.admin), organisation_id=scene.org.id, name="对接")
    with pytest.raises(PermissionDenied, match="接口令牌"):
        scoring_services.correction_request(
            actor=Actor(token=token), result_id=result(scene.regs[0], "skills").id, new_score="80", reason="x"
        )


# --- Score sheets --------------------------------------------------------------------------------------------


def xlsx(rows: list[list], headers=("证件号码", "姓名", "申报等级", "成绩")) -> SimpleUploadedFile:
    wb = Workbook()
    ws = wb.active
    ws.append(list(headers))
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("scores.xlsx", buf.getvalue())


def test_an_import_with_one_bad_row_saves_nothing(scene):
    a, b, c = scene.regs
    upload = xlsx(
        [
            [a.person.id_number, a.person.name, "四级", 88],
            [b.person.id_number, "王五", "四级/中级工", 70],
            [c.person.id_number, c.person.name, "三级", 70],
            ["220102199001019999", "", "四级", 70],
            [a.person.id_number, "", "4", "八十"],
        ]
    )
    report = scoring_sheets.scores_import(actor=A(scene.skills[0]), plan_id=scene.plan.id, kind="skills", upload=upload)
    assert not report.ok and report.created == 0 and report.total == 5
    reasons = {e.row: (e.column, e.reason) for e in report.errors}
    assert reasons[3] == ("姓名", "姓名“王五”与证件号码不符")
    assert reasons[4][0] == "证件号码"  # not registered at level 3
    assert reasons[5][0] == "证件号码"
    assert reasons[6][0] == "证件号码"  # the same candidate twice
    assert 2 not in reasons
    assert not Score.objects.exists()


def test_an_import_saves_marks_absences_and_cheating_like_typed_entries(scene):
    a, b, c = scene.regs
    upload = xlsx(
        [
            [a.person.id_number, a.person.name, "四级", 88.5],
            [b.person.id_number.lower(), None, "四级/中级工", "缺考"],
            [c.person.id_number, c.person.name, "中级工", "作弊"],
        ]
    )
    report = scoring_sheets.scores_import(actor=A(scene.skills[0]), plan_id=scene.plan.id, kind="skills", upload=upload)
    assert report.ok and report.created == 3
    marks = {s.registration_id: (s.status, s.value) for s in Score.objects.all()}
    assert marks == {a.id: ("scored", D("88.5")), b.id: ("absent", None), c.id: ("void", None)}
    assert AuditEntry.objects.filter(action="score.import").count() == 1
    bad_value = xlsx([[a.person.id_number, "", "四级", 100.5]])
    report = scoring_sheets.scores_import(
        actor=A(scene.skills[0]), plan_id=scene.plan.id, kind="skills", upload=bad_value
    )
    assert report.errors[0].column == "成绩" and "0到100" in report.errors[0].reason
    assert Score.objects.get(registration=a).value == D("88.5")


def test_an_import_by_someone_off_the_panel_is_refused_before_reading(scene, other_org_admin):
    with pytest.raises(NotFound):
        scoring_sheets.scores_import(actor=A(other_org_admin), plan_id=scene.plan.id, kind="skills", upload=xlsx([]))
    with pytest.raises(ValidationFailed, match="表头缺少列"):
        scoring_sheets.scores_import(
            actor=A(scene.skills[0]), plan_id=scene.plan.id, kind="skills", upload=xlsx([], headers=("姓名",))
        )


def test_the_downloadable_sheet_lists_the_candidates_with_saved_marks(scene):
    enter(scene.skills[0], scene.plan, "skills", {scene.regs[0]: 66, scene.regs[1]: "absent"})
    data = scoring_sheets.score_sheet_workbook(actor=A(scene.skills[0]), plan_id=scene.plan.id, kind="skills")
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert rows[0] == ("证件号码", "姓名", "申报等级", "成绩")
    assert rows[1][0] == scene.regs[0].person.id_number and rows[1][3] == 66
    assert rows[2][3] == "缺考" and rows[3][3] is None


# --- Re-sits and outcomes ---------------------------------------------------------------------------------------


def finalised_scene(scene):
    """A: passes both; B: fails skills only; C: fails theory only. Then publicity and finalisation."""
    from assessments import publicity

    score_and_lock(scene, theory=[80, 80, 50], skills=[[70, 50, 70]] * 3)
    start = datetime.date(2025, 3, 3)
    publicity.publication_open(actor=A(scene.admin), plan_id=scene.plan.id, today=start)
    publicity.plan_finalise(actor=A(scene.admin), plan_id=scene.plan.id, today=start + datetime.timedelta(days=30))
    for reg in scene.regs:
        reg.refresh_from_db()
    return scene


def test_outcomes_follow_every_required_component(scene):
    a, b, c = finalised_scene(scene).regs
    assert [r.outcome for r in (a, b, c)] == ["passed", "failed", "failed"]
    outcome, why = scoring_rules.outcome_of(b)
    assert outcome == "failed" and "操作技能考核:50.0(不合格,合格线60)" in why and "理论知识考试:80.0(合格)" in why


def test_outcome_of_absent_void_and_pending(scene):
    a, b, c = scene.regs
    assert scoring_rules.outcome_of(a)[0] == Registration.Outcome.PENDING
    score_and_lock(scene, theory=["absent", 80, 80], skills=[[70, "void", 70]] * 3)
    assert scoring_rules.outcome_of(a)[0] == "absent"
    assert scoring_rules.outcome_of(b)[0] == "void" and "违纪" in scoring_rules.outcome_of(b)[1]
    assert scoring_rules.outcome_of(c)[0] == "passed"


def test_a_resit_carries_the_passed_components_inside_the_window(scene, filed_org, org_admin):
    _a, b, c = finalised_scene(scene).regs
    second = make_plan(filed_org, org_admin)
    resit = resit_services.resit_register(actor=A(org_admin), registration_id=b.id, plan_id=second.id)
    assert resit.resit_of == b and resit.status == "approved" and resit.plan == second
    carried = ComponentResult.objects.get(registration=resit)
    assert (carried.kind, carried.status, carried.score, carried.passed) == ("theory", "carried", D("80.0"), True)
    assert [r.id for r in scoring_services.candidates_for(second, "theory")] == []
    assert [r.id for r in scoring_services.candidates_for(second, "skills")] == [resit.id]
    assert AuditEntry.objects.get(action="registration.resit").after["retake"] == ["skills"]
    with pytest.raises(Conflict):
        resit_services.resit_register(actor=A(org_admin), registration_id=b.id, plan_id=second.id)
    # The candidate may ask for their own re-sit too.

    own = bound_user("cand-c", password="x-123456789", person=c.person)
    theirs = resit_services.resit_register(actor=A(own), registration_id=c.id, plan_id=second.id)
    assert ComponentResult.objects.get(registration=theirs).kind == "skills"
    page = client_for(org_admin).get(f"/assessments/plans/{second.id}/scores/results/").content.decode()
    assert "前次合格(补考保留)" in page and "沿用前次合格成绩" in page


def test_a_resit_is_refused_outside_the_window_or_with_nothing_failed(scene, filed_org, org_admin, other_filed_org):
    a, b, _c = finalised_scene(scene).regs
    second = make_plan(filed_org, org_admin)
    with pytest.raises(Conflict) as exc:
        resit_services.resit_register(actor=A(org_admin), registration_id=a.id, plan_id=second.id)
    assert exc.value.code == "nothing_failed"
    with pytest.raises(Conflict):
        resit_services.resit_register(actor=A(org_admin), registration_id=b.id, plan_id=scene.plan.id)
    long_ago = timezone.now() - datetime.timedelta(days=400)
    Plan.objects.filter(pk=scene.plan.id).update(finalised_at=long_ago)
    Registration.objects.filter(plan=scene.plan).update(finalised_at=long_ago)
    with pytest.raises(Conflict) as exc:
        resit_services.resit_register(actor=A(org_admin), registration_id=b.id, plan_id=second.id)
    assert exc.value.code == "resit_window_passed" and "12个月" in exc.value.message
    other_plan = make_plan(other_filed_org, other_filed_org.admin)
    with pytest.raises(NotFound):
        resit_services.resit_register(actor=A(org_admin), registration_id=b.id, plan_id=other_plan.id)


def test_a_resit_is_refused_for_a_stranger_and_before_finalisation(scene, filed_org, org_admin, other_org_admin):
    second = make_plan(filed_org, org_admin)
    with pytest.raises(Conflict, match="尚未办结"):
        resit_services.resit_register(actor=A(org_admin), registration_id=scene.regs[0].id, plan_id=second.id)
    with pytest.raises(NotFound):
        resit_services.resit_register(actor=A(other_org_admin), registration_id=scene.regs[0].id, plan_id=second.id)


# --- API ----------------------------------------------------------------------------------------------------------


def test_the_scores_api_for_the_assessor(scene, other_org_admin):
    plan, (a, b, c) = scene.plan, scene.regs
    assessor = client_for(scene.skills[0])
    url = f"/api/v1/assessments/plans/{plan.id}/scores/skills"
    r = assessor.post(
        url,
        {"entries": [{"registration_id": a.id, "value": 85.5}, {"registration_id": b.id, "status": "absent"}]},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    assert r.json()["saved"] == 2 and {s["status"] for s in r.json()["scores"]} == {"scored", "absent"}
    r = assessor.post(url, {"entries": [{"registration_id": c.id, "value": 101}]}, content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "validation_failed"
    r = client_for(other_org_admin).post(url, {"entries": []}, content_type="application/json")
    assert r.status_code == 404
    assert client_for(None).post(url, {"entries": []}, content_type="application/json").status_code == 401
    assessor.post(url, {"entries": [{"registration_id": c.id, "value": 60}]}, content_type="application/json")
    r = assessor.post(f"{url}/submit")
    assert r.status_code == 200 and r.json() == {"kind": "skills", "submitted": 3}
    r = assessor.post(url, {"entries": [{"registration_id": c.id, "value": 61}]}, content_type="application/json")
    assert r.status_code == 409 and r.json()["code"] == "already_submitted"
    r = client_for(scene.skills[1]).post(f"{url}/lock")
    assert r.status_code == 403
    r = client_for(scene.admin).post(f"{url}/lock")
    assert r.status_code == 409 and r.json()["code"] == "scores_incomplete"


def test_the_import_api_answers_422_with_the_report(scene):
    a = scene.regs[0]
    url = f"/api/v1/assessments/plans/{scene.plan.id}/scores/skills/import"
    c = client_for(scene.skills[0])
    r = c.post(url, {"file": xlsx([[a.person.id_number, "", "五级", 80]])})
    assert r.status_code == 422 and r.json()["errors"][0]["column"] == "申报等级"
    r = c.post(url, {"file": xlsx([[a.person.id_number, "", "四级", 80]])})
    assert r.status_code == 200 and r.json()["created"] == 1


def test_the_results_api_is_full_for_the_organisation_and_bureau_only(scene, cc_officer, jlc_officer):
    score_and_lock(scene, theory=[80, 80, 50], skills=[[70, 50, 70]] * 3)
    url = f"/api/v1/assessments/plans/{scene.plan.id}/results"
    for viewer in (scene.admin, cc_officer):
        r = client_for(viewer).get(url)
        assert r.status_code == 200, r.content
        items = r.json()["items"]
        assert items[0]["id_number"] == scene.regs[0].person.id_number and items[0]["outcome"] == "passed"
        assert len(items[0]["marks"]["skills"]) == 3 and items[2]["outcome"] == "failed"
    assert client_for(jlc_officer).get(url).status_code == 404
    assert client_for(scene.skills[0]).get(url).status_code == 403


def test_corrections_through_the_api(scene, second_admin):
    score_and_lock(scene, theory=[80, 80, 80], skills=[[59, 70, 70]] * 3)
    target = result(scene.regs[0], "skills")
    r = client_for(scene.admin).post(
        f"/api/v1/assessments/results/{target.id}/corrections",
        {"new_score": "60.5", "reason": "合分错误"},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    cid = r.json()["id"]
    decide = f"/api/v1/assessments/corrections/{cid}/decide"
    r = client_for(scene.admin).post(decide, {"approve": True}, content_type="application/json")
    assert r.status_code == 403
    r = client_for(second_admin).post(decide, {"approve": True}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "approved"
    target.refresh_from_db()
    assert target.score == D("60.5") and target.passed


def test_my_assessor_plans(scene, org_admin):
    r = client_for(scene.skills[0]).get("/api/v1/assessments/my/assessor-plans")
    assert r.status_code == 200
    assert r.json() == [
        {
            "plan_id": scene.plan.id,
            "title": scene.plan.title,
            "organisation_name": scene.org.name,
            "occupation_name": "电工",
            "status": "published",
            "kinds": [{"kind": "skills", "label": "操作技能考核", "submitted": False}],
        }
    ]
    assert client_for(org_admin).get("/api/v1/assessments/my/assessor-plans").json() == []


# --- Pages ---------------------------------------------------------------------------------------------------------


def test_the_assessor_marks_on_the_sheet_page(scene):
    plan, (a, b, c) = scene.plan, scene.regs
    c_ = client_for(scene.skills[0])
    mine = c_.get("/assessments/scoring/mine/")
    assert mine.status_code == 200 and plan.title in mine.content.decode()
    url = f"/assessments/plans/{plan.id}/scores/skills/"
    page = c_.get(url)
    assert page.status_code == 200 and a.person.name in page.content.decode()
    form = {"registration": [a.id, b.id, c.id], "action": "save"}
    form |= {f"value_{a.id}": "75.5", f"status_{a.id}": "scored"}
    form |= {f"value_{b.id}": "", f"status_{b.id}": "absent"}
    form |= {f"value_{c.id}": "", f"status_{c.id}": "scored"}
    assert c_.post(url, form).status_code == 302
    assert {s.registration_id: s.status for s in Score.objects.all()} == {a.id: "scored", b.id: "absent"}
    bad = c_.post(url, {**form, f"value_{a.id}": "75.55"})
    assert bad.status_code == 422 and "一位小数" in bad.content.decode()
    r = c_.post(url, {**form, f"value_{c.id}": "60", "action": "submit"}, follow=True)  # saved, then submitted
    assert "已提交" in r.content.decode()
    assert Score.objects.get(registration=c).value == D("60.0")
    assert not Score.objects.filter(submitted_at__isnull=True).exists()
    closed = c_.get(url).content.decode()
    assert 'id="sheet-closed"' in closed and f'name="value_{a.id}"' not in closed and "75.5" in closed
    assert client_for(scene.theory).get(url).status_code == 403


def test_the_scoring_overview_and_results_pages(scene, second_admin, other_org_admin):
    for user in scene.skills:
        submit(user, scene.plan, "skills", dict.fromkeys(scene.regs, 70))
    admin = client_for(scene.admin)
    overview = f"/assessments/plans/{scene.plan.id}/scores/"
    html = admin.get(overview).content.decode()
    assert "考评员1" in html and "锁定成绩" in html
    assert client_for(other_org_admin).get(overview).status_code == 404
    assert client_for(scene.skills[0]).get(overview).status_code == 403
    admin.post(f"/assessments/plans/{scene.plan.id}/scores/skills/lock/")
    target = result(scene.regs[0], "skills")
    results_page = admin.get(f"/assessments/plans/{scene.plan.id}/scores/results/")
    assert results_page.status_code == 200 and "申请更正" in results_page.content.decode()
    admin.post(
        f"/assessments/scoring/results/{target.id}/correction/",
        {"new_score": "71", "new_status": "scored", "reason": "复核"},
    )
    correction = ScoreCorrection.objects.get()
    assert "待他人复核" in admin.get(overview).content.decode()
    client_for(second_admin).post(f"/assessments/scoring/corrections/{correction.id}/decide/", {"approve": "1"})
    target.refresh_from_db()
    assert target.score == D("71.0")


def test_a_refused_action_on_a_page_shows_the_reason(scene):
    r = client_for(scene.admin).post(f"/assessments/plans/{scene.plan.id}/scores/skills/lock/", follow=True)
    assert "还不能锁定" in r.content.decode()
    assert not ComponentResult.objects.exists()
