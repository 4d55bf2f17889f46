"""The integrity forms as their users fill them, in the browser (issue 14, items 1 and 6):

- an employer uploads a dispatch agreement (劳务派遣协议) for one of its workers on the plan page, so that worker
  registers as its own staff;
- a candidate with neither an insurance record nor a document is sent to the bureau, which finds the case among
  the reviews waiting on its home page, opens it and accepts the person as staff;
- the bureau records a 考培分离 exception, with its reason, for an assessor who trained a candidate, on the plan's
  page; the candidate's approval then goes through, and the exception is shown and audited."""

import datetime

import pytest

from accounts.actors import Actor
from accounts.models import Role
from accounts.services import person_get_or_create
from accreditation import people
from accreditation.models import TrainingRecord
from assessments.models import AssessmentPolicy, EmploymentProof, IntegrityException, PanelMember, Registration
from assessments.registration import _create_registration, registration_review
from core.models import AuditEntry
from occupations.models import Occupation
from tests.assessments.conftest import file_organisation, make_plan
from tests.factories import PASSWORD, OrganisationFactory, make_ric, member, region

from .conftest import login, logout

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _person(n: int, name: str):
    return person_get_or_create(
        actor=Actor.platform(),
        name=name,
        id_type="ric",
        id_number=make_ric(birth=datetime.date(1991, 4, 4) + datetime.timedelta(days=n), seq=500 + n),
    )


def _register(plan, admin, who) -> Registration:
    return _create_registration(
        Actor.for_user(admin), plan, plan.levels.get(code="4"), who, {"work_years": 8}, source="bulk"
    )


@pytest.fixture
def employer_plan(cc_officer, changchun_bureau):
    """An employer (Y) in 长春市朝阳区 whose region sends non-staff candidates for the bureau's review, a plan, and
    an assessor of its own on the theory panel who trained one of its workers last year."""
    employer = OrganisationFactory(name="长春华信电气有限公司", kind="Y", region=region("220104"))
    admin = member(Role.ORG_ADMIN, organisation=employer)
    file_organisation(employer, admin, cc_officer)
    AssessmentPolicy.objects.create(
        region_prefix="2201", effective_from=datetime.date(2020, 1, 1), employer_staff_check="review"
    )
    plan = make_plan(employer, admin, levels=("4",))
    assessor = people.appointment_register(
        actor=Actor.for_user(admin),
        role="assessor",
        name="韩考评",
        id_type="ric",
        id_number=make_ric(birth=datetime.date(1986, 8, 8), seq=561),
        scopes=[{"occupation_code": "6-31-01-03", "max_level": "3"}],
        organisation_id=employer.id,
    )
    PanelMember.objects.create(plan=plan, kind="theory", appointment=assessor)
    dispatched = _person(1, "派遣工")
    TrainingRecord.objects.create(
        provider=employer,
        trainer=assessor.person,
        trainee=dispatched,
        occupation=Occupation.objects.get(code="6-31-01-03"),
        start=datetime.date(2025, 9, 1),
        end=datetime.date(2025, 10, 31),
    )
    return employer, admin, plan, assessor, dispatched


def test_proof_review_and_exception_forms(live_server, page, tmp_path, shots, employer_plan, cc_officer):
    employer, admin, plan, assessor, dispatched = employer_plan
    base = live_server.url

    # 1. The employer uploads the dispatch agreement on the plan page.
    login(page, base, admin.username, PASSWORD)
    page.goto(f"{base}/assessments/manage/{plan.id}/")
    form = page.locator("#employment-proof")
    form.locator("input[name=name]").fill(dispatched.name)
    form.locator("input[name=id_number]").fill(dispatched.id_number)
    form.locator("select[name=kind]").select_option("dispatch")
    form.locator("input[name=valid_from]").fill("2024-03-01")
    agreement = tmp_path / "派遣协议.pdf"
    agreement.write_bytes(b"%PDF-1.4\n% dispatch agreement\n")
    form.locator("input[name=file]").set_input_files(str(agreement))
    shots(page, "employment-proof")
    form.locator("button").click()
    page.wait_for_load_state()
    proof = EmploymentProof.objects.get(organisation=employer, person=dispatched)
    assert proof.kind == "dispatch"
    logout(page)
    staff_reg = _register(plan, admin, dispatched)
    assert staff_reg.employment_status == "proof"
    outsider = _register(plan, admin, _person(2, "外单位人员"))
    assert outsider.employment_status == "review"

    # 2. The bureau sees the case waiting on its home page, opens it and accepts the person as staff.
    login(page, base, cc_officer.username, PASSWORD)
    waiting = page.locator("#bureau-waiting")
    assert "本单位职工核验 1 项" in waiting.inner_text()
    shots(page, "bureau-waiting")
    waiting.locator("a", has_text="外单位人员").click()
    page.wait_for_url(f"**/assessments/registrations/{outsider.id}/")
    review = page.locator("#employment")
    review.locator("input[name=reason]").fill("核实为本单位新入职职工,参保手续办理中")
    shots(page, "employment-review")
    review.locator("button[value=accept]").click()
    page.wait_for_load_state()
    outsider.refresh_from_db()
    assert outsider.employment_status == "accepted"
    page.goto(f"{base}/")
    assert "本单位职工核验 0 项" in page.inner_text("#bureau-waiting")  # decided: no longer waiting

    # 3. On the plan page the bureau records an exception to 考培分离 for the assessor who trained 派遣工.
    page.goto(f"{base}/assessments/manage/{plan.id}/")
    # Two findings name the assessor: trained the candidate, and works for the candidate's training provider.
    rows = page.locator("#integrity-open tr", has_text=assessor.person.name).filter(has=page.locator("form"))
    assert rows.count() == 2, page.inner_text("#integrity-open")
    reason = "该考评员为本单位唯一电工高级技师,培训与考核间隔逾半年,已安排外部督导全程旁听"
    for _ in range(2):
        row = rows.first
        row.locator("input[name=reason]").fill(reason)
        shots(page, "exception")
        row.locator("button").click()
        page.wait_for_selector("#integrity-exceptions")
    assert rows.count() == 0
    assert page.inner_text("#integrity-exceptions").count("唯一电工高级技师") == 2
    exceptions = IntegrityException.objects.filter(plan=plan)
    assert {e.granted_by for e in exceptions} == {cc_officer} and all(e.revoked_at is None for e in exceptions)
    assert AuditEntry.objects.filter(action="integrity.exception_grant").count() == 2
    logout(page)

    # The exception lets the trained candidate's approval through.
    registration_review(actor=Actor.for_user(admin), registration_id=staff_reg.id, decision="approve")
    staff_reg.refresh_from_db()
    assert staff_reg.status == Registration.Status.APPROVED
