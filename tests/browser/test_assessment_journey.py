"""A worker registers → the organisation approves → the panel is assigned → the assessor scores → results are
published → the organisation finalises, and the worker sees the result. Only the calendar is moved (the exam
day arrives, the publicity period ends); every step is a person using the pages."""

import datetime

import pytest

from accounts.actors import Actor
from accounts.models import Role
from accreditation import people
from assessments.models import Registration
from assessments.panels import services as panel_services
from occupations.models import StandardLevel
from tests.assessments.conftest import file_organisation, make_plan
from tests.factories import PASSWORD, PersonFactory, bound_user, make_ric, member

from . import steps
from .conftest import login, logout

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WORKER_ID = make_ric(birth=datetime.date(1993, 3, 3), seq=321)


@pytest.fixture
def setting(org, org_admin, cc_officer, changchun_bureau, settings, tmp_path_factory):
    settings.SIGNING_KEYS_DIR = tmp_path_factory.mktemp("keys")
    file_organisation(org, org_admin, cc_officer)
    # A one-candidate session: the standard's staffing is data, so this plan needs one assessor per component.
    StandardLevel.objects.filter(standard__occupation__code="6-31-01-03", level__code="4").update(
        staffing={"theory": {"per_candidates": 15, "min": 1}, "skills": {"per_candidates": 5, "min": 1}}
    )
    plan = make_plan(org, org_admin, levels=("4",))
    assessor = people.appointment_register(
        actor=Actor.for_user(org_admin),
        role="assessor",
        name="王志强",
        id_type="ric",
        id_number=make_ric(birth=datetime.date(1986, 4, 15), seq=101),
        organisation_id=org.id,
        scopes=[{"occupation_code": "6-31-01-03", "max_level": "3"}],
    )
    assessor_user = member(Role.ASSESSOR, organisation=org, person=assessor.person)
    supervisor = people.appointment_register(
        actor=Actor.for_user(cc_officer),
        role="external_supervisor",
        name="周敏",
        id_type="ric",
        id_number=make_ric(birth=datetime.date(1990, 5, 21), seq=402),
        bureau_id=changchun_bureau.id,
        scopes=[{"occupation_code": "6-31-01-03"}],
    )
    panel_services.supervisor_assign(actor=Actor.for_user(cc_officer), plan_id=plan.id, appointment_id=supervisor.id)
    # The worker's account is bound to their person by proof (tests/browser/test_binding_journey.py shows how).
    worker = bound_user("zhang_worker", person=PersonFactory(name="张伟", id_number=WORKER_ID), password=PASSWORD)
    return plan, assessor, assessor_user, worker


def test_from_registration_to_a_final_result(live_server, page, shots, setting, org_admin):
    plan, _assessor, assessor_user, worker = setting
    base = live_server.url
    page.on("dialog", lambda dialog: dialog.accept())

    # The worker finds the plan and registers.
    login(page, base, worker.username, PASSWORD)
    steps.plan_registration(page, base, shots, plan_id=plan.id, name="张伟", id_number=WORKER_ID, work_years=7)
    logout(page)

    # The organisation approves and assigns the panel.
    login(page, base, org_admin.username, PASSWORD)
    page.goto(f"{base}/assessments/manage/{plan.id}/")
    page.click("button:has-text('通过')")
    assert Registration.objects.get().status == "approved"
    steps.panel_assign(page, base, shots, plan_id=plan.id)
    assert set(plan.panel.values_list("kind", flat=True)) == {"theory", "skills"}
    logout(page)

    # The exam day arrives; the assessor marks both components and submits.
    steps.exam_day_arrives(plan)
    reg = Registration.objects.get()
    login(page, base, assessor_user.username, PASSWORD)
    steps.scores_enter(
        page, base, shots, plan_id=plan.id, registration_id=reg.id, marks={"theory": "78", "skills": "85"}
    )
    logout(page)

    # The organisation locks the marks, publishes the results, and finalises after the publicity period.
    login(page, base, org_admin.username, PASSWORD)
    steps.results_publish(page, base, shots, plan_id=plan.id)
    steps.publicity_ends(plan.id)
    steps.results_finalise(page, base, shots, plan_id=plan.id)
    logout(page)

    reg.refresh_from_db()
    assert reg.outcome == "passed" and reg.plan.status == "finalised"
    login(page, base, worker.username, PASSWORD)
    page.goto(f"{base}/assessments/registrations/{reg.id}/")
    assert page.inner_text("#outcome") == "合格"
    shots(page, "result")
