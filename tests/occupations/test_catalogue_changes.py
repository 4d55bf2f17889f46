"""Catalogue changes with effective dates: impact preview, confirmation, the dated rule, and the choices of
candidates caught by a cancellation (continue or refund)."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounts.actors import Actor
from accreditation.rules import scope_line_problems
from assessments import plans
from assessments.cancellations.services import choice_make, refund_record
from assessments.models import CancellationChoice, Registration
from assessments.registration import registration_submit
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.models import AuditEntry, Notification
from occupations import changes
from occupations.catalogue import occupation_problems
from occupations.models import CatalogueChange, Occupation, Qualification
from subsidies.policies import DEMO_FILE, policies_load
from tests.assessments.conftest import component_times, file_organisation, make_candidates, make_plan
from tests.conftest import client_for
from tests.factories import PersonFactory, Role, member
from tests.subsidies.conftest import make_certificate, submit, valid_person

pytestmark = pytest.mark.django_db

COOK = "4-03-02-01"
today = timezone.localdate


@pytest.fixture
def cook_qual():
    """中式烹调师 as a catalogue entry of its own, so that cancelling it touches the occupation 4-03-02-01."""
    q = Qualification.objects.create(name="中式烹调师(测试)", kind="evaluation", status="listed", aliases="厨师资格\n")
    Occupation.objects.filter(code=COOK).update(qualification=q)
    return q


@pytest.fixture
def caught(org, org_admin, cc_officer, cook_qual):
    """A filed organisation with a published 中式烹调师 plan and three approved candidates."""
    file_organisation(org, org_admin, cc_officer)
    plan = make_plan(org, org_admin, occupation=COOK, levels=("4",))
    regs = make_candidates(plan, org_admin, "4", 3)
    return plan, regs


def cancel(operator, qual, *, days=5, confirm=True, kind="cancel") -> CatalogueChange:
    actor = Actor.for_user(operator)
    change = changes.change_create(
        actor=actor,
        qualification_id=qual.id,
        kind=kind,
        effective_on=today() + datetime.timedelta(days=days),
        basis="人社部发〔2026〕99号",
        reason="按国务院决定取消",
    )
    if confirm:
        change = changes.change_confirm(actor=actor, change_id=change.id)
    return change


# --- impact preview -----------------------------------------------------------------------------------------


def test_preview_shows_scopes_plans_candidates_and_claims_before_anything_changes(caught, operator, cook_qual):
    plan, regs = caught
    policies_load()
    policies_load(path=DEMO_FILE)  # the 2025 versions ended with 2025; the claim is made today
    person = valid_person()
    claimant = member(Role.WORKER, person=person)
    submit(claimant, make_certificate(person, occupation=COOK))

    change = cancel(operator, cook_qual, confirm=False)
    impact = changes.change_impact(cook_qual, change.kind, change.effective_on)

    assert impact.counts == {
        "occupations": 1,
        "scope_lines": 1,
        "organisations": 1,
        "plans": 1,
        "caught_plans": 1,
        "candidates": 3,
        "pending_claims": 1,
    }
    assert impact.plans[0]["id"] == plan.id and impact.plans[0]["caught"] is True
    assert {c["registration_id"] for c in impact.candidates} == {r.id for r in regs}
    assert all("*" in c["id_number"] for c in impact.candidates)  # masked, even for the operator
    cook_qual.refresh_from_db()
    assert cook_qual.status == "listed" and cook_qual.cancelled_on is None
    assert not CancellationChoice.objects.exists()


def test_preview_and_confirm_through_the_api(caught, operator, org_admin, cook_qual):
    plan, _regs = caught
    body = {
        "qualification_id": cook_qual.id,
        "kind": "cancel",
        "effective_on": str(today() + datetime.timedelta(days=3)),
        "basis": "人社部发〔2026〕99号",
    }
    assert client_for(org_admin).post("/api/v1/reference/changes", body, "application/json").status_code == 403
    r = client_for(operator).post("/api/v1/reference/changes", body, "application/json")
    assert r.status_code == 201, r.content
    data = r.json()
    assert data["status"] == "draft" and data["impact"]["counts"]["candidates"] == 3
    assert data["impact"]["plans"][0]["title"] == plan.title

    assert client_for(org_admin).get(f"/api/v1/reference/changes/{data['id']}").status_code == 404
    r = client_for(operator).post(f"/api/v1/reference/changes/{data['id']}/confirm", {}, "application/json")
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "confirmed" and r.json()["impact_at_confirmation"]["caught_plans"] == 1
    again = client_for(operator).post(f"/api/v1/reference/changes/{data['id']}/confirm", {}, "application/json")
    assert again.status_code == 409 and again.json()["code"] == "conflict"


def test_a_change_needs_a_basis_and_a_date_and_only_the_operator_records_it(cook_qual, operator, cc_officer):
    with pytest.raises(PermissionDenied):
        changes.change_create(
            actor=Actor.for_user(cc_officer),
            qualification_id=cook_qual.id,
            kind="cancel",
            effective_on=today(),
            basis="x",
        )
    op = Actor.for_user(operator)
    with pytest.raises(ValidationFailed) as exc:
        changes.change_create(actor=op, qualification_id=cook_qual.id, kind="cancel", effective_on=today(), basis=" ")
    assert exc.value.details["field"] == "basis"
    with pytest.raises(ValidationFailed):
        changes.change_create(actor=op, qualification_id=cook_qual.id, kind="cancel", effective_on=None, basis="x")
    with pytest.raises(Conflict):  # only 准入类 entries can become 水平评价类
        changes.change_create(
            actor=op, qualification_id=cook_qual.id, kind="to_evaluation", effective_on=today(), basis="x"
        )
    cancel(operator, cook_qual, confirm=False)
    with pytest.raises(Conflict):  # one draft at a time
        cancel(operator, cook_qual, confirm=False)


def test_discarding_a_draft_changes_nothing(cook_qual, operator):
    change = cancel(operator, cook_qual, confirm=False)
    changes.change_discard(actor=Actor.for_user(operator), change_id=change.id, reason="录入有误")
    cook_qual.refresh_from_db()
    assert cook_qual.status == "listed"
    assert AuditEntry.objects.filter(action="catalogue_change.discard", object_id=str(change.id)).exists()


# --- confirmation and the dated rule -------------------------------------------------------------------------


def test_confirmation_applies_from_the_effective_date_and_notifies(caught, operator, org_admin, cook_qual):
    plan, _regs = caught
    change = cancel(operator, cook_qual, days=10)  # the plan is assessed in 13 days: caught
    cook_qual.refresh_from_db()
    assert cook_qual.status == "cancelled" and cook_qual.cancelled_on == change.effective_on
    assert cook_qual.cancellation_basis == "人社部发〔2026〕99号"

    occupation = Occupation.objects.get(code=COOK)
    day_before = change.effective_on - datetime.timedelta(days=1)
    assert occupation_problems(occupation, day_before) == []
    assert "已取消" in occupation_problems(occupation, change.effective_on)[0]
    assert scope_line_problems(occupation, ["4"], change.effective_on)
    assert not [p for p in scope_line_problems(occupation, ["4"], day_before) if "已取消" in p]

    # A plan assessed after the effective date is refused; the rule reads the dates, not today.
    closes = today() + datetime.timedelta(days=25)
    with pytest.raises(Conflict) as exc:
        plans.plan_create(
            actor=Actor.for_user(org_admin),
            organisation_id=plan.organisation_id,
            occupation_code=COOK,
            levels=["4"],
            title="新计划",
            venue="长春",
            capacity=10,
            registration_opens=today(),
            registration_closes=closes,
            components=component_times(closes),
        )
    assert exc.value.code == "outside_scope" and "已取消" in exc.value.message

    assert CancellationChoice.objects.filter(change=change).count() == 3
    assert Notification.objects.filter(user=org_admin, title__contains="中式烹调师(测试)").exists()
    entry = AuditEntry.objects.get(action="catalogue_change.confirm", object_id=str(change.id))
    assert entry.after["impact"]["candidates"] == 3 and entry.before["qualification"]["status"] == "listed"


def test_a_plan_finished_before_the_effective_date_is_not_caught(org, org_admin, cc_officer, cook_qual, operator):
    file_organisation(org, org_admin, cc_officer)
    plan = make_plan(org, org_admin, occupation=COOK, levels=("4",))  # assessed in 13 days
    make_candidates(plan, org_admin, "4", 1)
    change = cancel(operator, cook_qual, days=40)
    assert not CancellationChoice.objects.filter(change=change).exists()
    # …and another plan that also ends before the date may still be created.
    assert make_plan(org, org_admin, occupation=COOK, levels=("4",), publish=False).id


def test_access_to_evaluation_makes_the_occupation_assessable_from_its_date(operator):
    occupation = Occupation.objects.get(code="4-07-05-03")  # 消防设施操作员, 准入类
    qual = occupation.qualification
    assert "准入类" in occupation_problems(occupation, today())[0]
    change = cancel(operator, qual, days=10, kind="to_evaluation")
    occupation.refresh_from_db()
    assert "准入类" in occupation_problems(occupation, change.effective_on - datetime.timedelta(days=1))[0]
    assert occupation_problems(occupation, change.effective_on) == []
    qual.refresh_from_db()
    assert qual.kind == "evaluation" and qual.evaluation_from == change.effective_on


# --- continue or refund --------------------------------------------------------------------------------------


def _candidate_user(reg: Registration):
    return member(Role.WORKER, person=reg.person)


def test_candidate_chooses_refund_and_the_organisation_records_it(caught, operator, org_admin, other_org_admin):
    plan, regs = caught
    change = cancel(operator, plan.occupation.qualification)
    choice = CancellationChoice.objects.get(change=change, registration=regs[0])
    candidate = _candidate_user(regs[0])

    r = client_for(candidate).get("/api/v1/assessments/my/cancellation-choices")
    assert [c["id"] for c in r.json()] == [choice.id]
    r = client_for(candidate).post(
        f"/api/v1/assessments/cancellation-choices/{choice.id}/choose", {"choice": "refund"}, "application/json"
    )
    assert r.status_code == 200 and r.json()["state_label"] == "待退费"
    regs[0].refresh_from_db()
    assert regs[0].status == Registration.Status.WITHDRAWN
    with pytest.raises(Conflict):  # the choice is made once
        choice_make(actor=Actor.for_user(candidate), choice_id=choice.id, choice="continue")

    url = f"/api/v1/assessments/cancellation-choices/{choice.id}/refund"
    good = {"amount": "200.00", "refunded_on": str(today()), "reference": "ZZ20261129001"}
    assert client_for(other_org_admin).post(url, good, "application/json").status_code == 404
    assert client_for(candidate).post(url, good, "application/json").status_code == 404
    too_much = client_for(org_admin).post(url, {**good, "amount": "200.01"}, "application/json")
    assert too_much.status_code == 422 and too_much.json()["details"]["field"] == "amount"
    future = {**good, "refunded_on": str(today() + datetime.timedelta(days=1))}
    assert client_for(org_admin).post(url, future, "application/json").json()["details"]["field"] == "refunded_on"
    no_ref = client_for(org_admin).post(url, {**good, "reference": " "}, "application/json")
    assert no_ref.json()["details"]["field"] == "reference"
    r = client_for(org_admin).post(url, good, "application/json")
    assert r.status_code == 200, r.content
    assert r.json()["state_label"] == "已退费" and r.json()["refund_reference"] == "ZZ20261129001"
    choice.refresh_from_db()
    assert choice.refund_amount == Decimal("200.00") and choice.refunded_on == today()
    assert AuditEntry.objects.filter(action="cancellation_choice.refund", object_id=str(choice.id)).exists()
    assert client_for(org_admin).post(url, good, "application/json").status_code == 409

    summary = client_for(org_admin).get(f"/api/v1/assessments/plans/{plan.id}/cancellation-choices").json()
    assert summary["summary"] == {"total": 3, "pending": 2, "continue": 0, "refund_due": 0, "refunded": 1}


def test_refund_needs_the_candidate_to_have_chosen_it(caught, operator, org_admin):
    plan, regs = caught
    change = cancel(operator, plan.occupation.qualification)
    choice = CancellationChoice.objects.get(change=change, registration=regs[1])
    with pytest.raises(Conflict):
        refund_record(
            actor=Actor.for_user(org_admin), choice_id=choice.id, amount="100", refunded_on=today(), reference="x"
        )


def test_those_who_continue_go_on_after_the_effective_date(caught, operator, org_admin):
    plan, regs = caught
    change = cancel(operator, plan.occupation.qualification, days=0)
    candidate = _candidate_user(regs[1])
    choice = CancellationChoice.objects.get(change=change, registration=regs[1])
    choice_make(actor=Actor.for_user(candidate), choice_id=choice.id, choice="continue")
    regs[1].refresh_from_db()
    assert regs[1].status == Registration.Status.APPROVED
    with pytest.raises(NotFound):  # someone else's choice
        choice_make(actor=Actor.for_user(_candidate_user(regs[2])), choice_id=choice.id, choice="refund")

    # The cancellation is in force today, yet the caught plan may still be rescheduled and assessed…
    closes = plan.registration_closes
    moved = plans.plan_reschedule(
        actor=Actor.for_user(org_admin),
        plan_id=plan.id,
        components=component_times(closes + datetime.timedelta(days=2)),
        reason="场地调整",
    )
    assert moved.components.count() == 2
    # …but takes no new candidates.
    newcomer = PersonFactory()
    with pytest.raises(Conflict) as exc:
        registration_submit(
            actor=Actor.for_user(member(Role.WORKER, person=newcomer)),
            plan_id=plan.id,
            level="4",
            name=newcomer.name,
            id_type="ric",
            id_number=newcomer.id_number,
            pledge=True,
            work_years=12,
        )
    assert exc.value.code == "qualification_cancelled"


def test_choice_validation(caught, operator):
    plan, regs = caught
    change = cancel(operator, plan.occupation.qualification)
    choice = CancellationChoice.objects.get(change=change, registration=regs[0])
    with pytest.raises(ValidationFailed):
        choice_make(actor=Actor.for_user(_candidate_user(regs[0])), choice_id=choice.id, choice="maybe")


def test_those_who_continue_are_assessed_published_and_finalised_after_the_cancellation(
    org, org_admin, cc_officer, operator
):
    from types import SimpleNamespace

    from assessments import publicity
    from tests.assessments.test_scoring import exams_held, make_assessor, score_and_lock, seat

    qual = Qualification.objects.create(name="电工(测试资格)", kind="evaluation", status="listed")
    Occupation.objects.filter(code="6-31-01-03").update(qualification=qual)
    file_organisation(org, org_admin, cc_officer)
    plan = make_plan(org, org_admin)
    a, b, c = make_candidates(plan, org_admin, "4", 3)
    change = cancel(operator, qual, days=0)  # in force from today
    for reg, answer in ((a, "continue"), (b, "continue"), (c, "refund")):
        choice = CancellationChoice.objects.get(change=change, registration=reg)
        choice_make(actor=Actor.for_user(_candidate_user(reg)), choice_id=choice.id, choice=answer)

    exams_held(plan)
    skills = [make_assessor(org, org_admin, i) for i in range(1, 4)]
    theory = make_assessor(org, org_admin, 10)
    seat(plan, "skills", *skills)
    seat(plan, "theory", theory, make_assessor(org, org_admin, 40))  # the standard asks for two
    scene = SimpleNamespace(plan=plan, regs=[a, b], skills=skills, theory=theory, admin=org_admin, org=org)
    score_and_lock(scene, theory=[80, 75], skills=[[70, 65]] * 3)
    publication = publicity.publication_open(actor=Actor.for_user(org_admin), plan_id=plan.id, today=today())
    summary = publicity.plan_finalise(
        actor=Actor.for_user(org_admin), plan_id=plan.id, today=publication.ends_on + datetime.timedelta(days=1)
    )
    assert (summary.total, summary.passed) == (2, 2)
    assert [Registration.objects.get(pk=r.id).outcome for r in (a, b, c)] == ["passed", "passed", ""]
    assert Registration.objects.get(pk=c.id).status == Registration.Status.WITHDRAWN

    # Their certificates say how they were earned, wherever they are verified.
    from certificates import issuance
    from certificates.models import Certificate

    issuance.issue_batch_run(issuance.issue_batch_start(actor=Actor.for_user(org_admin), plan_id=plan.id).id)
    certs = list(Certificate.objects.filter(registration__plan=plan))
    assert len(certs) == 2 and all("继续参加认定" in c.note and "电工(测试资格)" in c.note for c in certs)
    data = Client().get(f"/api/v1/verify/{certs[0].token}").json()
    assert data["status"] == "valid" and "继续参加认定" in data["certificate"]["note"]


def test_a_draft_assessed_after_a_confirmed_cancellation_can_no_longer_be_published(
    org, org_admin, cc_officer, cook_qual, operator
):
    file_organisation(org, org_admin, cc_officer)
    draft = make_plan(org, org_admin, occupation=COOK, levels=("4",), publish=False)  # assessed in 13 days
    cancel(operator, cook_qual, days=10)
    with pytest.raises(Conflict) as exc:
        plans.plan_publish(actor=Actor.for_user(org_admin), plan_id=draft.id)
    assert exc.value.code == "outside_scope" and "已取消" in exc.value.message


def test_a_licence_no_longer_in_force_is_no_longer_a_reminder(operator):
    from accreditation.rules import licensing_notes

    electrician = Occupation.objects.get(code="6-31-01-03")
    notes = licensing_notes(electrician)
    licence = electrician.licensing_overlaps.first()
    assert any(licence.name in n for n in notes)
    change = cancel(operator, licence, days=3)
    assert any(licence.name in n for n in licensing_notes(electrician))
    assert not any(licence.name in n for n in licensing_notes(electrician, change.effective_on))


def test_the_admin_cannot_cancel_an_entry_around_the_catalogue_change_workflow(admin_client):
    from django.forms.models import model_to_dict

    from occupations.models import Qualification

    qual = Qualification.objects.create(name="测试资格", kind="evaluation", status="listed")
    page = admin_client.get(f"/admin/occupations/qualification/{qual.id}/change/").content.decode()
    assert 'name="status"' not in page and 'name="cancelled_on"' not in page and 'name="cancellation_basis"' in page
    form = {k: v for k, v in model_to_dict(qual).items() if v is not None}
    form.update(status="cancelled", cancelled_on="2026-01-01")
    assert admin_client.post(f"/admin/occupations/qualification/{qual.id}/change/", form).status_code == 302
    qual.refresh_from_db()
    assert qual.status == "listed" and qual.cancelled_on is None
