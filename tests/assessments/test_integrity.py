"""Exam integrity (issue 14, item 1): 考培分离, qualification and staffing hold at every step, not only when an
assessor is put on a panel. The attack from the issue, step by step; a bureau's exception; trainers see no marks."""

import datetime

import pytest
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import Role
from accreditation.models import Appointment, TrainingRecord
from assessments import publicity
from assessments.integrity import rules, services
from assessments.models import ComponentResult, IntegrityException, PanelMember, Registration, Score
from assessments.panels import rules as panel_rules
from assessments.panels import services as panel_services
from assessments.registration import _create_registration, registration_review
from assessments.scoring import selectors as scoring_selectors
from assessments.scoring import services as scoring_services
from core.errors import NotFound, PermissionDenied, RuleViolation, ValidationFailed
from core.models import AuditEntry
from occupations.models import Occupation
from tests.conftest import client_for
from tests.factories import PersonFactory, make_ric, member

from .conftest import make_candidates
from .test_scoring import enter, exams_held, make_assessor, submit

pytestmark = pytest.mark.django_db


def A(user) -> Actor:
    return Actor.for_user(user)


def trained_by(org, trainee, *, trainer=None) -> TrainingRecord:
    end = timezone.localdate() - datetime.timedelta(days=60)
    return TrainingRecord.objects.create(
        provider=org,
        trainer=trainer or PersonFactory(),
        trainee=trainee,
        occupation=Occupation.objects.get(code="6-31-01-03"),
        start=end - datetime.timedelta(days=30),
        end=end,
    )


def register(plan, admin, name="李明", n=1) -> Registration:
    person = PersonFactory(name=name, id_number=make_ric(birth=datetime.date(1991, 5, 5), seq=700 + n))
    return _create_registration(
        A(admin),
        plan,
        plan.levels.get(code="4"),
        person,
        {
            "work_years": 12,
            "prior_certificates": [{"occupation_code": "6-31-01-03", "level": "5", "issued_on": "2015-06-30"}],
        },
        source="bulk",
    )


def codes(exc) -> set[str]:
    return {f["rule_code"] for f in exc.value.details["findings"]}


@pytest.fixture
def trainer_org(filed_org):
    """The plan's organisation trains as well as it evaluates."""
    filed_org.provides_training = True
    filed_org.save(update_fields=["provides_training"])
    return filed_org


@pytest.fixture
def panel(plan, trainer_org, org_admin):
    """Panels formed while the plan has no candidates: every assignment passes the rules of that moment."""
    skills = [make_assessor(trainer_org, org_admin, i) for i in range(1, 4)]
    theory = [make_assessor(trainer_org, org_admin, i) for i in (10, 11)]
    for kind, users in (("skills", skills), ("theory", theory)):
        for user in users:
            panel_services.panel_assign(
                actor=A(org_admin), plan_id=plan.id, kind=kind, appointment_id=user.appointment.id
            )
    exams_held(plan)
    return {"skills": skills, "theory": theory}


def test_approving_a_candidate_the_panels_organisation_trained_is_refused(plan, panel, trainer_org, org_admin):
    reg = register(plan, org_admin)
    record = trained_by(trainer_org, reg.person)
    with pytest.raises(RuleViolation) as exc:
        registration_review(actor=A(org_admin), registration_id=reg.id, decision="approve")
    assert exc.value.status == 409 and exc.value.code == "rule_violation"
    assert codes(exc) == {panel_rules.Rule.PROVIDER}
    assert {(f["record"]["type"], f["record"]["id"]) for f in exc.value.details["findings"]} == {
        ("training_record", record.id)
    }
    assert "考培分离" in exc.value.message and f"培训记录{record.id}" in exc.value.message
    assert "审核通过该考生" in exc.value.message
    reg.refresh_from_db()
    assert reg.status == Registration.Status.SUBMITTED


def test_every_step_after_the_training_comes_to_light_is_refused(plan, panel, trainer_org, org_admin, cc_officer):
    """The attack: candidate approved, the assessor enters 95, submits, the admin locks. The training record is
    entered after the approval (as records often arrive late), so each later step must ask again."""
    reg = make_candidates(plan, org_admin, "4", 1)[0]
    enter(panel["skills"][0], plan, "skills", {reg: 95})
    record = trained_by(trainer_org, reg.person)

    with pytest.raises(RuleViolation) as exc:
        enter(panel["skills"][0], plan, "skills", {reg: 96})
    assert panel_rules.Rule.PROVIDER in codes(exc) and "录入成绩" in exc.value.message
    with pytest.raises(RuleViolation) as exc:
        scoring_services.score_submit(actor=A(panel["skills"][0]), plan_id=plan.id, kind="skills")
    assert "提交评分" in exc.value.message
    with pytest.raises(RuleViolation) as exc:
        scoring_services.component_lock(actor=A(org_admin), plan_id=plan.id, kind="skills")
    assert "锁定成绩" in exc.value.message
    assert not ComponentResult.objects.exists()
    assert not Score.objects.filter(submitted_at__isnull=False).exists()

    # The panel page and the API show the same findings, with the record.
    report = services.plan_integrity(plan)
    assert not report.ok and {f.record["id"] for f in report.open} == {record.id}
    body = client_for(org_admin).get(f"/api/v1/assessments/plans/{plan.id}/integrity").json()
    assert body["ok"] is False and {f["rule_code"] for f in body["open"]} == {"works_for_provider"}


def test_a_bureau_exception_lets_it_through_and_is_audited(plan, panel, trainer_org, org_admin, cc_officer):
    reg = make_candidates(plan, org_admin, "4", 1)[0]
    trained_by(trainer_org, reg.person)
    findings = services.plan_integrity(plan).open
    assert len(findings) == 5  # each of the five assessors works for the provider

    # The organisation cannot except its own breach; another region cannot see the plan.
    f = findings[0]
    kwargs = dict(
        plan_id=plan.id,
        rule_code=f.rule_code,
        kind=f.kind,
        appointment_id=f.appointment_id,
        record_type=f.record["type"],
        record_id=f.record["id"],
    )
    with pytest.raises(PermissionDenied):
        services.exception_grant(actor=A(org_admin), reason="自行核准", **kwargs)
    with pytest.raises(ValidationFailed):
        services.exception_grant(actor=A(cc_officer), reason="  ", **kwargs)
    with pytest.raises(NotFound):
        services.exception_grant(actor=A(cc_officer), reason="无此问题", **{**kwargs, "record_id": 999999})

    client = client_for(cc_officer)
    for f in findings:
        response = client.post(
            f"/api/v1/assessments/plans/{plan.id}/integrity/exceptions",
            {
                "rule_code": f.rule_code,
                "kind": f.kind,
                "appointment_id": f.appointment_id,
                "record_type": f.record["type"],
                "record_id": f.record["id"],
                "reason": "该机构培训与评价人员已分设,培训为岗前安全培训,经现场核查不影响公正",
            },
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
    assert services.plan_integrity(plan).ok
    assert AuditEntry.objects.filter(action="integrity.exception_grant").count() == 5

    for user in panel["skills"]:
        submit(user, plan, "skills", {reg: 95})
    submit(panel["theory"][0], plan, "theory", {reg: 88})
    assert scoring_services.component_lock(actor=A(org_admin), plan_id=plan.id, kind="skills")[0].score == 95

    # Revoked, the rule holds again.
    exception = IntegrityException.objects.filter(kind="theory").first()
    services.exception_revoke(actor=A(cc_officer), exception_id=exception.id, reason="复查发现培训教师兼任考评")
    with pytest.raises(RuleViolation):
        scoring_services.component_lock(actor=A(org_admin), plan_id=plan.id, kind="theory")
    assert AuditEntry.objects.filter(action="integrity.exception_revoke").exists()

    # The plan page shows the exceptions with their reasons.
    page = client_for(org_admin).get(f"/assessments/manage/{plan.id}/").content.decode()
    assert "人社部门核准的例外" in page and "经现场核查不影响公正" in page and "复查发现培训教师兼任考评" in page


def test_lock_with_one_assessor_where_the_standard_requires_two_is_refused(plan, filed_org, org_admin):
    exams_held(plan)
    reg = make_candidates(plan, org_admin, "4", 1)[0]
    first, second = make_assessor(filed_org, org_admin, 1), make_assessor(filed_org, org_admin, 2)
    for user in (first, second):
        panel_services.panel_assign(
            actor=A(org_admin), plan_id=plan.id, kind="theory", appointment_id=user.appointment.id
        )
    submit(first, plan, "theory", {reg: 80})
    PanelMember.objects.filter(plan=plan, appointment=second.appointment).delete()
    with pytest.raises(RuleViolation) as exc:
        scoring_services.component_lock(actor=A(org_admin), plan_id=plan.id, kind="theory")
    assert codes(exc) == {rules.StaffRule.SIZE}
    assert "须至少2人,现有1人" in exc.value.message
    # The overview says so before anyone tries.
    _plan, overview, _c = scoring_selectors.scoring_overview(actor=A(org_admin), plan_id=plan.id)
    theory = next(o for o in overview if o.kind == "theory")
    assert not theory.ready and any("须至少2人" in p for p in theory.problems)


def test_ratio_and_odd_number_are_rules_of_their_own():
    s = rules.staffing_from_rules([{"per_candidates": 5, "min": 3, "odd": True}], candidates=21, assigned=4)
    found = {f.rule_code for f in rules.staffing_findings("skills", "操作技能考核", 1, s)}
    assert found == {rules.StaffRule.RATIO, rules.StaffRule.ODD}
    s = rules.staffing_from_rules([{"per_candidates": 5, "min": 3, "odd": True}], candidates=0, assigned=0)
    assert rules.staffing_findings("skills", "操作技能考核", 1, s) == []


def test_a_correction_is_refused_when_a_relationship_is_declared_after_locking(plan, filed_org, org_admin):
    from tests.assessments.test_scoring import build_scene, score_and_lock

    scene = build_scene(plan, filed_org, org_admin)
    score_and_lock(scene, theory=[70, 70, 70], skills=[[60, 60, 60]] * 3)
    # A correction asked for while the panel was clean cannot be approved once it is not.
    theory_result = ComponentResult.objects.get(registration=scene.regs[1], kind="theory")
    pending = scoring_services.correction_request(
        actor=A(org_admin), result_id=theory_result.id, reason="试卷复查加分", new_score="72"
    )
    person = scene.skills[0].appointment.person
    user = scene.skills[0]
    user.person = person
    panel_services.relationship_declare(actor=A(user), kind="relative", other_person_id=scene.regs[0].person_id)
    result = ComponentResult.objects.get(registration=scene.regs[0], kind="skills")
    with pytest.raises(RuleViolation) as exc:
        scoring_services.correction_request(actor=A(org_admin), result_id=result.id, reason="录入错误", new_score="65")
    assert codes(exc) == {panel_rules.Rule.RELATIONSHIP}
    second = member(Role.ORG_ADMIN, organisation=filed_org)
    panel_services.relationship_declare(
        actor=A(scene.theory), kind="colleague", other_person_id=scene.regs[1].person_id
    )
    with pytest.raises(RuleViolation) as exc:
        scoring_services.correction_decide(actor=A(second), correction_id=pending.id, approve=True)
    assert "复核成绩更正" in exc.value.message
    with pytest.raises(RuleViolation):
        publicity.publication_open(actor=A(org_admin), plan_id=plan.id)


def test_a_trainer_sees_no_marks_of_the_occupation_they_train(plan, filed_org, org_admin):
    from tests.assessments.test_scoring import build_scene, score_and_lock

    scene = build_scene(plan, filed_org, org_admin)
    score_and_lock(scene, theory=[70, 70, 70], skills=[[60, 60, 60]] * 3)
    trainer = member(Role.TRAINER, organisation=filed_org, person=PersonFactory(name="陈教师"))
    Appointment.objects.create(
        person=trainer.person,
        role=Appointment.Role.TRAINER,
        organisation=filed_org,
        valid_from=datetime.date(2020, 1, 1),
    ).scopes.create(occupation=Occupation.objects.get(code="6-31-01-03"))
    reg = scene.regs[0]
    Registration.objects.filter(pk=reg.pk).update(outcome="passed")
    client = client_for(trainer)
    body = client.get(f"/api/v1/assessments/registrations/{reg.id}").json()
    assert body["outcome"] == "" and body["marks_hidden"] is True
    listed = client.get(f"/api/v1/assessments/registrations?plan_id={plan.id}").json()["items"]
    assert listed and all(item["outcome"] == "" for item in listed)
    page = client.get(f"/assessments/registrations/{reg.id}/").content.decode()
    assert "不能查看其考生的成绩" in page and 'id="outcome"' not in page
    assert client.get(f"/assessments/plans/{plan.id}/scores/results/").status_code in (403, 404)
    # The organisation's admin still sees them.
    assert client_for(org_admin).get(f"/api/v1/assessments/registrations/{reg.id}").json()["outcome"] == "passed"
