"""Panels and supervisors under 考培分离 and recusal: each rule with its explanation and record, panel sizes from
the standard, supervisor draws, supervision reports, and the API for the owner, another tenant and a visitor."""

import datetime
import itertools

import pytest
from django.db import connection
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import Role
from accreditation import people
from accreditation.models import Appointment, TrainingRecord
from assessments.models import (
    AssessmentPolicy,
    PanelMember,
    Plan,
    Registration,
    RelationshipDeclaration,
    Score,
    SupervisionReport,
)
from assessments.panels import rules as panel_rules
from assessments.panels import selectors as panel_selectors
from assessments.panels import services as panel_services
from core.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from core.models import AuditEntry
from occupations.models import Level, Occupation, StandardLevel
from tests.conftest import client_for, require_postgres
from tests.factories import PersonFactory, UserFactory, make_ric, member

from .conftest import make_candidates

pytestmark = pytest.mark.django_db

CODE = "6-31-01-03"
_seq = itertools.count(100)


@pytest.fixture
def api_base() -> str:
    """Where the panel endpoints live (config/api.py mounts them under /api/v1/assessments)."""
    return "/api/v1/assessments"


# --- Helpers ---------------------------------------------------------------------------------------------------


def A(u) -> Actor:
    return Actor.for_user(u)


def _identity() -> tuple[str, str]:
    n = next(_seq)
    return f"人员{n}", make_ric(birth=datetime.date(1985, 1, 1) + datetime.timedelta(days=n), seq=n)


def assessor(org, admin, *, max_level="3", code=CODE, valid_until=None, role="assessor", name=None) -> Appointment:
    default_name, number = _identity()
    return people.appointment_register(
        actor=A(admin),
        role=role,
        name=name or default_name,
        id_type="ric",
        id_number=number,
        organisation_id=org.id,
        scopes=[{"occupation_code": code, "max_level": max_level if role == "assessor" else None}],
        valid_until=valid_until,
    )


def external(bureau, officer, *, code=CODE, name=None) -> Appointment:
    default_name, number = _identity()
    return people.appointment_register(
        actor=A(officer),
        role="external_supervisor",
        name=name or default_name,
        id_type="ric",
        id_number=number,
        bureau_id=bureau.id,
        scopes=[{"occupation_code": code}],
    )


def trained(provider, trainer, trainee, *, end_days_ago=30, length_days=30) -> TrainingRecord:
    end = timezone.localdate() - datetime.timedelta(days=end_days_ago)
    return TrainingRecord.objects.create(
        provider=provider,
        trainer=trainer,
        trainee=trainee,
        occupation=Occupation.objects.get(code=CODE),
        start=end - datetime.timedelta(days=length_days),
        end=end,
    )


def approved(plan, level_code: str, n: int, status="approved") -> list[Registration]:
    """Candidates straight into the table: fast, for panel-size counts."""
    level = Level.objects.get(code=level_code)
    return [
        Registration.objects.create(
            plan=plan, person=PersonFactory(), level=level, status=status, pledge_accepted_at=timezone.now()
        )
        for _ in range(n)
    ]


def refused(exc) -> list[dict]:
    assert exc.value.code == "recusal"
    return exc.value.details["refusals"]


def by_kind(plan) -> dict[str, panel_rules.ComponentPanel]:
    return {p.kind: p for p in panel_rules.panel_status(plan)}


@pytest.fixture
def candidates(plan, org_admin) -> list[Registration]:
    return make_candidates(plan, org_admin, "4", 3)


@pytest.fixture
def provider(other_filed_org):
    """Another organisation, in 长春 too, that trains."""
    other_filed_org.provides_training = True
    other_filed_org.save(update_fields=["provides_training"])
    return other_filed_org


# --- Assigning assessors ---------------------------------------------------------------------------------------


def test_an_available_assessor_is_assigned_and_audited(plan, org_admin, candidates):
    a = assessor(plan.organisation, org_admin)
    member_ = panel_services.panel_assign(actor=A(org_admin), plan_id=plan.id, kind="skills", appointment_id=a.id)
    assert member_.appointment == a and member_.assigned_by == org_admin
    entry = AuditEntry.objects.get(action="panel.assign")
    assert entry.organisation_id == plan.organisation_id and entry.region_code == "220102"
    assert entry.after["appointment"] == a.id


def test_an_assessor_who_trained_a_candidate_is_refused_naming_the_training_record(
    plan, org_admin, candidates, provider
):
    a = assessor(plan.organisation, org_admin)
    record = trained(provider, a.person, candidates[1].person)
    with pytest.raises(Conflict) as exc:
        panel_services.panel_assign(actor=A(org_admin), plan_id=plan.id, kind="skills", appointment_id=a.id)
    [r] = refused(exc)
    assert r["rule_code"] == "trained_candidate"
    assert r["record"] == {"type": "training_record", "id": record.id}
    assert candidates[1].person.name in r["explanation"] and f"培训记录{record.id}" in r["explanation"]
    assert "考培分离" in exc.value.message
    assert not PanelMember.objects.exists()


def test_a_candidate_still_under_review_counts_for_recusal(plan, org_admin, provider):
    [reg] = make_candidates(plan, org_admin, "4", 1, approve=False)
    a = assessor(plan.organisation, org_admin)
    trained(provider, a.person, reg.person)
    with pytest.raises(Conflict, match="考培分离"):
        panel_services.panel_assign(actor=A(org_admin), plan_id=plan.id, kind="theory", appointment_id=a.id)


def test_training_before_the_look_back_window_does_not_count_and_the_window_is_data(
    plan, org_admin, candidates, provider
):
    a = assessor(plan.organisation, org_admin)
    record = trained(provider, a.person, candidates[0].person, end_days_ago=40 * 31)  # over 3 years ago
    assert panel_services.panel_assign(actor=A(org_admin), plan_id=plan.id, kind="skills", appointment_id=a.id)
    AssessmentPolicy.objects.create(
        region_prefix="22", effective_from=datetime.date(2020, 1, 1), training_lookback_months=60
    )
    [check] = panel_rules.panel_recheck(plan)
    assert check.appointment == a and check.refusals[0].record == {"type": "training_record", "id": record.id}
    assert "60个月" in check.refusals[0].explanation


def test_an_assessor_employed_by_the_candidates_training_provider_is_refused(plan, org_admin, candidates, provider):
    a = assessor(plan.organisation, org_admin)
    # The same person also teaches at the provider (another organisation, so registration allowed it).
    teaching = people.appointment_register(
        actor=A(provider.admin),
        role="trainer",
        name=a.person.name,
        id_type="ric",
        id_number=a.person.id_number,
        organisation_id=provider.id,
        scopes=[{"occupation_code": CODE}],
    )
    colleague = PersonFactory()
    record = trained(provider, colleague, candidates[2].person)
    with pytest.raises(Conflict) as exc:
        panel_services.panel_assign(actor=A(org_admin), plan_id=plan.id, kind="skills", appointment_id=a.id)
    [r] = refused(exc)
    assert r["rule_code"] == "works_for_provider" and r["record"] == {"type": "training_record", "id": record.id}
    assert f"登记编号{teaching.id}" in r["explanation"] and provider.name in r["explanation"]


def test_an_organisation_that_trained_the_candidates_cannot_use_its_own_assessors(plan, org_admin, candidates):
    org = plan.organisation
    a, b = assessor(org, org_admin), assessor(org, org_admin)
    record = trained(org, PersonFactory(), candidates[0].person)
    availability = panel_selectors.panel_candidates(plan, "skills")
    assert {x.appointment.id for x in availability} == {a.id, b.id}
    assert not any(x.available for x in availability)
    assert all(x.refusals[0].record == {"type": "training_record", "id": record.id} for x in availability)


def test_a_declared_relationship_is_a_refusal_in_either_direction(plan, org_admin, candidates):
    a, b = assessor(plan.organisation, org_admin), assessor(plan.organisation, org_admin)
    user = member(Role.ASSESSOR, organisation=plan.organisation, person=a.person)
    cand = candidates[0].person
    mine = panel_services.relationship_declare(
        actor=A(user), kind="relative", name=cand.name, id_type="ric", id_number=cand.id_number, note="表兄弟"
    )
    theirs = RelationshipDeclaration.objects.create(declarant=candidates[1].person, other=b.person, kind="master")
    with pytest.raises(Conflict) as exc:
        panel_services.panel_assign(actor=A(org_admin), plan_id=plan.id, kind="skills", appointment_id=a.id)
    [r] = refused(exc)
    assert r["rule_code"] == "declared_relationship" and r["record"] == {
        "type": "relationship_declaration",
        "id": mine.id,
    }
    assert "近亲属" in r["explanation"] and cand.name in r["explanation"]
    with pytest.raises(Conflict) as exc:
        panel_services.panel_assign(actor=A(org_admin), plan_id=plan.id, kind="skills", appointment_id=b.id)
    assert refused(exc)[0]["record"] == {"type": "relationship_declaration", "id": theirs.id}


def test_an_assessor_who_is_a_candidate_is_refused(plan, org_admin, candidates):
    reg = candidates[0]
    a = people.appointment_register(
        actor=A(org_admin),
        role="assessor",
        name=reg.person.name,
        id_type="ric",
        id_number=reg.person.id_number,
        organisation_id=plan.organisation_id,
        scopes=[{"occupation_code": CODE, "max_level": "3"}],
    )
    facts = panel_rules.facts_for(plan)
    [r] = panel_rules.assessor_refusals(facts, a)
    assert r.rule_code == "is_candidate" and r.record == {"type": "registration", "id": reg.id}


# --- Qualification ---------------------------------------------------------------------------------------------


def test_a_lapsed_appointment_is_refused_with_its_validity(plan, org_admin):
    until = timezone.localdate() + datetime.timedelta(days=5)  # components start 13 days from now
    a = assessor(plan.organisation, org_admin, valid_until=until)
    with pytest.raises(Conflict) as exc:
        panel_services.panel_assign(actor=A(org_admin), plan_id=plan.id, kind="theory", appointment_id=a.id)
    [r] = refused(exc)
    assert r["rule_code"] == "appointment_lapsed" and r["record"] == {"type": "appointment", "id": a.id}
    assert str(until) in r["explanation"]


def test_a_withdrawn_appointment_is_refused(plan, org_admin):
    a = assessor(plan.organisation, org_admin)
    people.appointment_withdraw(actor=A(org_admin), appointment_id=a.id, reason="离职")
    with pytest.raises(Conflict) as exc:
        panel_services.panel_assign(actor=A(org_admin), plan_id=plan.id, kind="theory", appointment_id=a.id)
    assert refused(exc)[0]["rule_code"] == "appointment_inactive"


def test_a_level_above_the_assessors_maximum_is_refused_by_rank(plan, org_admin):
    low = assessor(plan.organisation, org_admin, max_level="4")
    with pytest.raises(Conflict) as exc:
        panel_services.panel_assign(actor=A(org_admin), plan_id=plan.id, kind="skills", appointment_id=low.id)
    [r] = refused(exc)
    scope = low.scopes.get()
    assert r["rule_code"] == "level_scope" and r["record"] == {"type": "appointment_scope", "id": scope.id}
    assert "四级" in r["explanation"] and "三级" in r["explanation"]
    # "2" sorts below "3" as text, but 二级/技师 ranks above 三级: ranks decide.
    high = assessor(plan.organisation, org_admin, max_level="2")
    assert panel_services.panel_assign(actor=A(org_admin), plan_id=plan.id, kind="skills", appointment_id=high.id)


def test_an_assessor_for_another_occupation_or_role_is_refused(plan, org_admin):
    cook = assessor(plan.organisation, org_admin, code="4-03-02-01")
    with pytest.raises(Conflict) as exc:
        panel_services.panel_assign(actor=A(org_admin), plan_id=plan.id, kind="skills", appointment_id=cook.id)
    assert refused(exc)[0]["rule_code"] == "occupation_scope"
    sup = assessor(plan.organisation, org_admin, role="internal_supervisor")
    with pytest.raises(Conflict) as exc:
        panel_services.panel_assign(actor=A(org_admin), plan_id=plan.id, kind="skills", appointment_id=sup.id)
    assert refused(exc)[0]["rule_code"] == "role"


def test_another_organisations_assessor_is_not_found_and_the_rule_names_it(plan, org_admin, other_filed_org):
    theirs = assessor(other_filed_org, other_filed_org.admin)
    with pytest.raises(NotFound):
        panel_services.panel_assign(actor=A(org_admin), plan_id=plan.id, kind="skills", appointment_id=theirs.id)
    [r] = panel_rules.assessor_refusals(panel_rules.facts_for(plan), theirs)
    assert r.rule_code == "organisation" and other_filed_org.name in r.explanation


def test_kinds_the_plan_does_not_have_and_duplicates_are_refused(plan, org_admin):
    a = assessor(plan.organisation, org_admin)
    with pytest.raises(ValidationFailed, match="综合评审"):
        panel_services.panel_assign(actor=A(org_admin), plan_id=plan.id, kind="review", appointment_id=a.id)
    with pytest.raises(ValidationFailed):
        panel_selectors.panel_candidates(plan, "review")
    panel_services.panel_assign(actor=A(org_admin), plan_id=plan.id, kind="skills", appointment_id=a.id)
    with pytest.raises(Conflict) as exc:
        panel_services.panel_assign(actor=A(org_admin), plan_id=plan.id, kind="skills", appointment_id=a.id)
    assert exc.value.code == "already_assigned"
    assert panel_services.panel_assign(actor=A(org_admin), plan_id=plan.id, kind="theory", appointment_id=a.id)


def test_only_the_organisations_admin_assigns(plan, org_admin, other_org_admin, cc_officer, jlc_officer):
    a = assessor(plan.organisation, org_admin)
    kwargs = {"plan_id": plan.id, "kind": "skills", "appointment_id": a.id}
    with pytest.raises(NotFound):
        panel_services.panel_assign(actor=A(other_org_admin), **kwargs)
    with pytest.raises(NotFound):
        panel_services.panel_assign(actor=A(jlc_officer), **kwargs)
    with pytest.raises(PermissionDenied):
        panel_services.panel_assign(actor=A(cc_officer), **kwargs)
    with pytest.raises(PermissionDenied):
        panel_services.panel_assign(actor=A(member(Role.ASSESSOR, organisation=plan.organisation)), **kwargs)
    with pytest.raises(NotAuthenticated):
        panel_services.panel_assign(actor=Actor.anonymous(), **kwargs)
    assert not PanelMember.objects.exists()


def test_removal_needs_a_reason_is_audited_and_stops_once_marks_exist(plan, org_admin, candidates):
    a, b = assessor(plan.organisation, org_admin), assessor(plan.organisation, org_admin)
    for x in (a, b):
        panel_services.panel_assign(actor=A(org_admin), plan_id=plan.id, kind="skills", appointment_id=x.id)
    with pytest.raises(ValidationFailed):
        panel_services.panel_remove(actor=A(org_admin), plan_id=plan.id, kind="skills", appointment_id=a.id, reason=" ")
    panel_services.panel_remove(
        actor=A(org_admin), plan_id=plan.id, kind="skills", appointment_id=a.id, reason="临时出差"
    )
    assert list(PanelMember.objects.values_list("appointment_id", flat=True)) == [b.id]
    assert AuditEntry.objects.get(action="panel.remove").reason == "临时出差"
    with pytest.raises(NotFound):
        panel_services.panel_remove(
            actor=A(org_admin), plan_id=plan.id, kind="skills", appointment_id=a.id, reason="再次"
        )
    Score.objects.create(registration=candidates[0], kind="skills", assessor=b, value=80)
    with pytest.raises(Conflict, match="评分"):
        panel_services.panel_remove(
            actor=A(org_admin), plan_id=plan.id, kind="skills", appointment_id=b.id, reason="调整"
        )


def test_panels_are_frozen_after_scoring(plan, org_admin):
    a = assessor(plan.organisation, org_admin)
    Plan.objects.filter(pk=plan.id).update(status=Plan.Status.PUBLICITY)
    with pytest.raises(Conflict) as exc:
        panel_services.panel_assign(actor=A(org_admin), plan_id=plan.id, kind="skills", appointment_id=a.id)
    assert exc.value.code == "plan_closed"


# --- Panel sizes -----------------------------------------------------------------------------------------------


def test_panel_size_follows_the_standard(plan):
    assert by_kind(plan)["skills"].required == 3 and by_kind(plan)["theory"].required == 2  # the minimums
    approved(plan, "4", 12)
    approved(plan, "4", 5, status="submitted")  # not yet approved: not counted
    sizes = by_kind(plan)
    assert (sizes["skills"].candidates, sizes["skills"].required) == (12, 3)  # max(3, ceil(12/5)=3)
    assert sizes["theory"].required == 2  # max(2, ceil(12/15)=1)
    approved(plan, "3", 4)
    assert by_kind(plan)["skills"].required == 5  # ceil(16/5)=4, odd → 5
    approved(plan, "3", 15)
    assert by_kind(plan)["theory"].required == 3  # ceil(31/15)=3


def test_the_strictest_staffing_of_the_plans_levels_applies(plan):
    level3 = StandardLevel.objects.get(standard=plan.standard, level__code="3")
    level3.staffing = {**level3.staffing, "skills": {"per_candidates": 4, "min": 3}}
    level3.save()
    approved(plan, "4", 7)
    approved(plan, "3", 6)
    skills = by_kind(plan)["skills"]
    # level 4: ceil(13/5)=3; level 3: ceil(13/4)=4; the strictest is 4, and level 4 wants an odd number → 5.
    assert (skills.required, skills.odd) == (5, True)


def test_a_panel_is_complete_with_enough_members_and_an_odd_number(plan, org_admin):
    approved(plan, "4", 12)
    staff = [assessor(plan.organisation, org_admin) for _ in range(4)]
    for a in staff[:2]:
        panel_services.panel_assign(actor=A(org_admin), plan_id=plan.id, kind="skills", appointment_id=a.id)
    skills = by_kind(plan)["skills"]
    assert not skills.ok and "需至少3名" in skills.problems[0] and skills.assigned == 2
    panel_services.panel_assign(actor=A(org_admin), plan_id=plan.id, kind="skills", appointment_id=staff[2].id)
    assert by_kind(plan)["skills"].ok
    panel_services.panel_assign(actor=A(org_admin), plan_id=plan.id, kind="skills", appointment_id=staff[3].id)
    skills = by_kind(plan)["skills"]
    assert not skills.ok and "奇数" in skills.problems[0]


def test_recheck_finds_a_member_who_trained_a_candidate_approved_later(plan, org_admin, provider):
    a = assessor(plan.organisation, org_admin)
    panel_services.panel_assign(actor=A(org_admin), plan_id=plan.id, kind="theory", appointment_id=a.id)
    assert panel_rules.panel_recheck(plan) == []
    [late] = make_candidates(plan, org_admin, "3", 1, start=50)
    record = trained(provider, a.person, late.person)
    [check] = panel_rules.panel_recheck(plan)
    assert (check.kind, check.appointment.id) == ("theory", a.id)
    assert check.refusals[0].record == {"type": "training_record", "id": record.id}
    theory = by_kind(plan)["theory"]
    assert not theory.ok and any(f"培训记录{record.id}" in p for p in theory.problems)


def test_availability_lists_every_assessor_with_reasons(plan, org_admin):
    ok = assessor(plan.organisation, org_admin)
    low = assessor(plan.organisation, org_admin, max_level="5")
    gone = assessor(plan.organisation, org_admin)
    people.appointment_withdraw(actor=A(org_admin), appointment_id=gone.id, reason="离职")
    assessor(plan.organisation, org_admin, role="trainer", code="4-03-02-07")  # not an assessor: not listed
    rows = panel_selectors.panel_candidates(plan, "skills")
    assert rows[0].appointment == ok and rows[0].available and rows[0].refusals == []  # the available first
    reasons = {x.appointment.id: [r.rule_code for r in x.refusals] for x in rows[1:]}
    assert reasons == {low.id: ["level_scope"], gone.id: ["appointment_inactive"]}
    assert "五级" in rows[1 if rows[1].appointment == low else 2].refusals[0].explanation


# --- Supervisors -----------------------------------------------------------------------------------------------


@pytest.fixture
def pool(plan, org_admin, candidates, changchun_bureau, cc_officer, jilin_city_bureau, jlc_officer, provider):
    """Changchun's external supervisors: two eligible, one who trained a candidate, one withdrawn; and one of
    吉林市, whose bureau does not cover the organisation."""
    good1, good2 = external(changchun_bureau, cc_officer), external(changchun_bureau, cc_officer)
    teacher = external(changchun_bureau, cc_officer)
    trained(provider, teacher.person, candidates[0].person)
    gone = external(changchun_bureau, cc_officer)
    people.appointment_withdraw(actor=A(cc_officer), appointment_id=gone.id, reason="到期")
    elsewhere = external(jilin_city_bureau, jlc_officer)
    return {"good": [good1, good2], "teacher": teacher, "gone": gone, "elsewhere": elsewhere}


def test_the_random_draw_takes_only_eligible_supervisors(plan, cc_officer, pool):
    drawn = set()
    for seed in range(20):
        drawn.add(
            panel_services.supervisor_assign_random(actor=A(cc_officer), plan_id=plan.id, seed=seed).supervisor_id
        )
    assert drawn == {a.id for a in pool["good"]}
    entry = AuditEntry.objects.filter(action="plan.supervisor_assign").order_by("seq").last()
    assert entry.after["method"] == "random" and sorted(entry.after["pool"]) == sorted(a.id for a in pool["good"])


def test_with_no_one_eligible_the_draw_says_why_each_was_excluded(plan, cc_officer, pool):
    for a in pool["good"]:
        people.appointment_withdraw(actor=A(cc_officer), appointment_id=a.id, reason="到期")
    with pytest.raises(Conflict) as exc:
        panel_services.supervisor_assign_random(actor=A(cc_officer), plan_id=plan.id, seed=1)
    assert exc.value.code == "no_eligible_supervisor"
    excluded = {e["appointment_id"]: e["refusals"] for e in exc.value.details["excluded"]}
    assert pool["elsewhere"].id not in excluded  # not in the pool at all
    assert excluded[pool["teacher"].id][0]["rule_code"] == "trained_candidate"
    assert excluded[pool["gone"].id][0]["rule_code"] == "appointment_inactive"
    assert Plan.objects.get(pk=plan.id).supervisor is None


def test_manual_assignment_checks_the_same_rules(plan, cc_officer, pool, org_admin):
    with pytest.raises(Conflict) as exc:
        panel_services.supervisor_assign(actor=A(cc_officer), plan_id=plan.id, appointment_id=pool["teacher"].id)
    assert refused(exc)[0]["rule_code"] == "trained_candidate"
    with pytest.raises(Conflict) as exc:
        panel_services.supervisor_assign(actor=A(cc_officer), plan_id=plan.id, appointment_id=pool["elsewhere"].id)
    assert refused(exc)[0]["rule_code"] == "bureau_region"
    with pytest.raises(NotFound):  # an assessor is no supervisor of any kind
        panel_services.supervisor_assign(
            actor=A(cc_officer), plan_id=plan.id, appointment_id=assessor(plan.organisation, org_admin).id
        )
    inside = assessor(plan.organisation, org_admin, role="internal_supervisor")
    assert (
        panel_services.supervisor_assign(actor=A(cc_officer), plan_id=plan.id, appointment_id=inside.id).supervisor
        == inside
    )
    good = pool["good"][0]
    assert (
        panel_services.supervisor_assign(actor=A(cc_officer), plan_id=plan.id, appointment_id=good.id).supervisor
        == good
    )


def test_an_external_supervisor_for_other_occupations_is_refused(plan, changchun_bureau, cc_officer):
    cook = external(changchun_bureau, cc_officer, code="4-03-02-01")
    with pytest.raises(Conflict) as exc:
        panel_services.supervisor_assign(actor=A(cc_officer), plan_id=plan.id, appointment_id=cook.id)
    assert refused(exc)[0]["rule_code"] == "occupation_scope"


def test_who_may_assign_supervisors(plan, pool, org_admin, jlc_officer, province_officer, operator):
    good = pool["good"][0]
    with pytest.raises(NotFound):
        panel_services.supervisor_assign(actor=A(jlc_officer), plan_id=plan.id, appointment_id=good.id)
    with pytest.raises(PermissionDenied):
        panel_services.supervisor_assign(actor=A(org_admin), plan_id=plan.id, appointment_id=good.id)
    with pytest.raises(PermissionDenied):
        panel_services.supervisor_assign_random(actor=A(org_admin), plan_id=plan.id, seed=1)
    assert panel_services.supervisor_assign(actor=A(province_officer), plan_id=plan.id, appointment_id=good.id)
    assert (
        panel_services.supervisor_assign_random(actor=A(operator), plan_id=plan.id, seed=3).supervisor in pool["good"]
    )


# --- Declarations and supervision reports ------------------------------------------------------------------------


def test_only_registered_assessors_and_supervisors_declare(plan, org_admin, candidates):
    cand = candidates[0].person
    stranger = UserFactory(person=PersonFactory())
    with pytest.raises(PermissionDenied):
        panel_services.relationship_declare(
            actor=A(stranger), kind="colleague", name=cand.name, id_type="ric", id_number=cand.id_number
        )
    with pytest.raises(PermissionDenied):
        panel_services.relationship_declare(actor=A(org_admin), kind="colleague", other_person_id=cand.id)
    a = assessor(plan.organisation, org_admin)
    user = member(Role.ASSESSOR, organisation=plan.organisation, person=a.person)
    with pytest.raises(NotFound):  # by id, only the candidates of panels they sit on
        panel_services.relationship_declare(actor=A(user), kind="colleague", other_person_id=cand.id)
    with pytest.raises(ValidationFailed):
        panel_services.relationship_declare(actor=A(user), kind="enemy", other_person_id=cand.id)
    with pytest.raises(ValidationFailed):
        panel_services.relationship_declare(
            actor=A(user), kind="colleague", name=a.person.name, id_number=a.person.id_number
        )
    panel_services.panel_assign(actor=A(org_admin), plan_id=plan.id, kind="theory", appointment_id=a.id)
    d = panel_services.relationship_declare(actor=A(user), kind="colleague", other_person_id=cand.id, note="同一车间")
    assert (d.declarant, d.other, d.note) == (a.person, cand, "同一车间")
    assert AuditEntry.objects.filter(action="relationship.declare", object_id=str(d.id)).exists()
    with pytest.raises(Conflict):
        panel_services.relationship_declare(actor=A(user), kind="colleague", other_person_id=cand.id)
    assert panel_rules.panel_recheck(plan)[0].refusals[0].rule_code == "declared_relationship"


@pytest.fixture
def supervised(plan, pool, cc_officer, changchun_bureau):
    good = pool["good"][0]
    panel_services.supervisor_assign(actor=A(cc_officer), plan_id=plan.id, appointment_id=good.id)
    user = member(Role.SUPERVISOR, bureau=changchun_bureau, person=good.person)
    return user


ALL_OK = dict.fromkeys(panel_rules.CHECKLIST, "ok")


def test_the_assigned_supervisor_reports(plan, supervised):
    report = panel_services.supervision_report_submit(
        actor=A(supervised), plan_id=plan.id, checklist=ALL_OK, findings=""
    )
    assert report.supervisor == Plan.objects.get(pk=plan.id).supervisor
    assert AuditEntry.objects.filter(action="supervision.report").exists()
    assert [p.id for p in panel_selectors.supervised_plans(A(supervised))] == [plan.id]


def test_a_report_with_an_issue_needs_findings_and_every_item(plan, supervised):
    checklist = {**ALL_OK, "separation": "issue"}
    with pytest.raises(ValidationFailed) as exc:
        panel_services.supervision_report_submit(
            actor=A(supervised), plan_id=plan.id, checklist=checklist, findings=" "
        )
    assert exc.value.details["field"] == "findings"
    with pytest.raises(ValidationFailed) as exc:
        panel_services.supervision_report_submit(
            actor=A(supervised), plan_id=plan.id, checklist={"scope": "ok"}, findings=""
        )
    assert "venue" in exc.value.details["missing"]
    with pytest.raises(ValidationFailed):
        panel_services.supervision_report_submit(
            actor=A(supervised), plan_id=plan.id, checklist={**ALL_OK, "mood": "ok"}, findings=""
        )
    with pytest.raises(ValidationFailed):
        panel_services.supervision_report_submit(
            actor=A(supervised), plan_id=plan.id, checklist={**ALL_OK, "venue": "fine"}, findings=""
        )
    report = panel_services.supervision_report_submit(
        actor=A(supervised), plan_id=plan.id, checklist=checklist, findings="考评员中有该机构培训教师"
    )
    assert report.checklist["separation"] == "issue"


def test_only_the_assigned_supervisor_reports(plan, supervised, pool, changchun_bureau, org_admin, other_org_admin):
    other = member(Role.SUPERVISOR, bureau=changchun_bureau, person=pool["good"][1].person)
    kwargs = {"plan_id": plan.id, "checklist": ALL_OK, "findings": ""}
    with pytest.raises(NotFound):
        panel_services.supervision_report_submit(actor=A(other), **kwargs)
    with pytest.raises(NotFound):
        panel_services.supervision_report_submit(actor=A(other_org_admin), **kwargs)
    with pytest.raises(PermissionDenied):
        panel_services.supervision_report_submit(actor=A(org_admin), **kwargs)
    assert not SupervisionReport.objects.exists()
    assert list(panel_selectors.supervised_plans(A(other))) == []


# --- API -------------------------------------------------------------------------------------------------------


def test_panel_api_for_owner_other_tenant_bureau_and_visitor(
    api_base, plan, org_admin, other_org_admin, cc_officer, jlc_officer, client
):
    url = f"{api_base}/plans/{plan.id}/panel"
    body = client_for(org_admin).get(url).json()
    assert [c["kind"] for c in body["components"]] == ["theory", "skills"]
    assert body["components"][1]["required"] == 3 and body["ok"] is False
    assert client_for(cc_officer).get(url).status_code == 200
    assert client_for(other_org_admin).get(url).status_code == 404
    assert client_for(jlc_officer).get(url).status_code == 404
    r = client.get(url)
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


def test_candidates_and_assignment_api(api_base, plan, org_admin, other_org_admin, candidates, provider, client):
    ok = assessor(plan.organisation, org_admin)
    bad = assessor(plan.organisation, org_admin)
    record = trained(provider, bad.person, candidates[0].person)
    owner = client_for(org_admin)
    rows = owner.get(f"{api_base}/plans/{plan.id}/panel/skills/candidates").json()
    assert {r["appointment_id"]: r["available"] for r in rows} == {ok.id: True, bad.id: False}
    refusal = next(r for r in rows if r["appointment_id"] == bad.id)["refusals"][0]
    assert refusal["record"] == {"type": "training_record", "id": record.id} and refusal["rule_label"]
    assert "*" in rows[0]["person_id_number"]
    assert owner.get(f"{api_base}/plans/{plan.id}/panel/review/candidates").status_code == 422

    url = f"{api_base}/plans/{plan.id}/panel/skills"
    r = owner.post(url, {"appointment_id": bad.id}, content_type="application/json")
    assert r.status_code == 409 and r.json()["code"] == "recusal"
    assert r.json()["details"]["refusals"][0]["record"]["id"] == record.id
    assert (
        client_for(other_org_admin).post(url, {"appointment_id": ok.id}, content_type="application/json").status_code
        == 404
    )
    assert client.post(url, {"appointment_id": ok.id}, content_type="application/json").status_code == 401
    r = owner.post(url, {"appointment_id": ok.id}, content_type="application/json")
    assert r.status_code == 201 and r.json()["appointment_id"] == ok.id

    remove = f"{api_base}/plans/{plan.id}/panel/skills/{ok.id}/remove"
    assert client_for(other_org_admin).post(remove, {"reason": "x"}, content_type="application/json").status_code == 404
    assert owner.post(remove, {"reason": ""}, content_type="application/json").status_code == 422
    r = owner.post(remove, {"reason": "调换"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["components"][1]["members"] == []
    assert not PanelMember.objects.exists()


def test_supervisor_api(api_base, plan, pool, cc_officer, jlc_officer, org_admin, client):
    good = pool["good"][0]
    url = f"{api_base}/plans/{plan.id}/supervisor"
    assert (
        client_for(org_admin).post(url, {"appointment_id": good.id}, content_type="application/json").status_code == 403
    )
    assert (
        client_for(jlc_officer).post(url, {"appointment_id": good.id}, content_type="application/json").status_code
        == 404
    )
    assert client.post(url, {"appointment_id": good.id}, content_type="application/json").status_code == 401
    officer = client_for(cc_officer)
    r = officer.post(url, {"appointment_id": pool["teacher"].id}, content_type="application/json")
    assert r.status_code == 409 and r.json()["details"]["refusals"][0]["rule_code"] == "trained_candidate"
    r = officer.post(url, {"appointment_id": good.id}, content_type="application/json")
    assert r.status_code == 200 and r.json()["appointment_id"] == good.id
    r = officer.post(f"{url}/random")
    assert r.status_code == 200 and r.json()["appointment_id"] in {a.id for a in pool["good"]}
    assert client_for(org_admin).post(f"{url}/random").status_code == 403
    rows = officer.get(f"{url}/candidates").json()
    assert {r["appointment_id"] for r in rows} >= {a.id for a in pool["good"]}
    assert client_for(org_admin).get(f"{url}/candidates").status_code == 403
    assert client_for(cc_officer).get(f"{api_base}/plans/{plan.id}/panel").json()["supervisor"]["person_name"]


def test_report_and_my_plans_api(api_base, plan, supervised, org_admin, other_org_admin, client):
    url = f"{api_base}/plans/{plan.id}/supervision-report"
    payload = {"checklist": ALL_OK, "findings": ""}
    assert client.post(url, payload, content_type="application/json").status_code == 401
    assert client_for(other_org_admin).post(url, payload, content_type="application/json").status_code == 404
    assert client_for(org_admin).post(url, payload, content_type="application/json").status_code == 403
    bad = {"checklist": {**ALL_OK, "archives": "issue"}, "findings": ""}
    assert client_for(supervised).post(url, bad, content_type="application/json").status_code == 422
    r = client_for(supervised).post(url, payload, content_type="application/json")
    assert r.status_code == 201 and r.json()["checklist"] == ALL_OK
    mine = client_for(supervised).get(f"{api_base}/supervision/my-plans").json()
    assert [p["id"] for p in mine] == [plan.id] and mine[0]["reports"] == 1
    assert client_for(org_admin).get(f"{api_base}/supervision/my-plans").json() == []
    assert client.get(f"{api_base}/supervision/my-plans").status_code == 401


def test_relationship_api(api_base, plan, org_admin, candidates, client):
    a = assessor(plan.organisation, org_admin)
    user = member(Role.ASSESSOR, organisation=plan.organisation, person=a.person)
    cand = candidates[0].person
    payload = {"kind": "teacher", "name": cand.name, "id_type": "ric", "id_number": cand.id_number}
    assert client.post(f"{api_base}/relationships", payload, content_type="application/json").status_code == 401
    assert (
        client_for(org_admin).post(f"{api_base}/relationships", payload, content_type="application/json").status_code
        == 403
    )
    r = client_for(user).post(f"{api_base}/relationships", payload, content_type="application/json")
    assert r.status_code == 201 and r.json()["kind_label"] == "师生" and cand.id_number not in r.content.decode()
    assert (
        client_for(user).post(f"{api_base}/relationships", payload, content_type="application/json").status_code == 409
    )
    assert [d["id"] for d in client_for(user).get(f"{api_base}/relationships").json()] == [r.json()["id"]]


# --- Races ---------------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_admins_assigning_the_same_assessor_make_one_member(cc_officer, org, org_admin):
    require_postgres()
    import threading

    from .conftest import file_organisation, make_plan

    file_organisation(org, org_admin, cc_officer)
    plan = make_plan(org, org_admin)
    a = assessor(org, org_admin)
    barrier = threading.Barrier(4)
    outcomes = []

    def go():
        try:
            barrier.wait()
            panel_services.panel_assign(actor=A(org_admin), plan_id=plan.id, kind="skills", appointment_id=a.id)
            outcomes.append("ok")
        except Conflict as exc:
            outcomes.append(exc.code)
        except Exception as exc:  # recorded for the assertion below
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already_assigned"] * 3 + ["ok"]
    assert PanelMember.objects.count() == 1
