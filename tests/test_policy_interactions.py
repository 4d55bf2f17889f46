"""Issue 9's features together: catalogue changes (c) against graduating classes (b) and registration, as
nobody tested them side by side before the merge."""

import datetime

import pytest
from django.utils import timezone

from accounts.actors import Actor
from assessments.cancellations.services import choice_make, my_choices
from assessments.models import CancellationChoice, Registration
from assessments.registration import registration_submit
from assessments.schools import services as schools
from certificates.careers import pathways_for
from core.errors import Conflict
from occupations.models import Occupation, Qualification
from tests.accreditation.conftest import xlsx
from tests.assessments.conftest import file_organisation, make_plan
from tests.assessments.test_schools import HEADER, student
from tests.certificates.test_careers import certificate as careers_certificate
from tests.conftest import client_for
from tests.factories import PersonFactory, Role, member
from tests.occupations.test_catalogue_changes import COOK, cancel
from tests.subsidies.conftest import valid_person

pytestmark = pytest.mark.django_db
A = Actor.for_user
ELECTRICIAN = "6-31-01-03"


@pytest.fixture
def cook_qual():
    q = Qualification.objects.create(name="中式烹调师(测试)", kind="evaluation", status="listed")
    Occupation.objects.filter(code=COOK).update(qualification=q)
    return q


@pytest.fixture
def electrician_qual():
    q = Qualification.objects.create(name="电工(测试)", kind="evaluation", status="listed")
    Occupation.objects.filter(code=ELECTRICIAN).update(qualification=q)
    return q


def _register(plan, level="4"):
    person = valid_person()
    return registration_submit(
        actor=A(member(Role.WORKER, person=person)),
        plan_id=plan.id,
        level=level,
        name=person.name,
        id_type="ric",
        id_number=person.id_number,
        pledge=True,
        work_years=12,
    )


def test_a_plan_with_no_candidates_yet_takes_none_after_its_qualification_is_cancelled(
    org, org_admin, cc_officer, operator, cook_qual
):
    # Caught plans were recognised by their candidates' choices: a plan nobody had registered for yet when the
    # change was confirmed had none, and kept taking registrations for a cancelled qualification.
    file_organisation(org, org_admin, cc_officer)
    plan = make_plan(org, org_admin, occupation=COOK, levels=("4",))
    cancel(operator, cook_qual, days=0)
    with pytest.raises(Conflict) as exc:
        _register(plan)
    assert exc.value.code == "qualification_cancelled"
    assert not Registration.objects.filter(plan=plan).exists()
    # The plan's public page no longer invites anyone to register, and says why.
    page = client_for().get(f"/assessments/plans/{plan.id}/").content.decode()
    assert 'id="register"' not in page and 'id="caught"' in page


def test_a_plan_that_ends_before_a_future_cancellation_still_takes_registrations(
    org, org_admin, cc_officer, operator, cook_qual
):
    file_organisation(org, org_admin, cc_officer)
    plan = make_plan(org, org_admin, occupation=COOK, levels=("4",))
    cancel(operator, cook_qual, days=60)  # the plan's exams are two weeks away
    assert _register(plan).status == Registration.Status.SUBMITTED
    page = client_for().get(f"/assessments/plans/{plan.id}/").content.decode()
    assert 'id="register"' in page and 'id="caught"' not in page


@pytest.fixture
def school_class(org, org_admin, cc_officer, electrician_qual):
    org.school_kind = "technical_school"
    org.save(update_fields=["school_kind"])
    file_organisation(org, org_admin, cc_officer)
    plan = make_plan(org, org_admin, levels=("4", "3"))
    return schools.class_create(
        actor=A(org_admin),
        plan_id=plan.id,
        name="2026届电气1班",
        major="电气自动化设备安装与维修",
        graduation_date=timezone.localdate() + datetime.timedelta(days=20),
    )


def test_a_graduating_class_caught_by_a_cancellation_chooses_through_its_school(
    school_class, org_admin, operator, electrician_qual
):
    schools.class_import(actor=A(org_admin), class_id=school_class.id, upload=xlsx([HEADER, student(1), student(2)]))
    assert schools.class_approve(actor=A(org_admin), class_id=school_class.id) == 2
    change = cancel(operator, electrician_qual, days=5)
    regs = list(school_class.registrations.order_by("id"))
    choices = {c.registration_id: c for c in CancellationChoice.objects.filter(change=change)}
    assert set(choices) == {r.id for r in regs}
    # The school registered its students, so it answers for them (each student may answer too).
    assert set(my_choices(A(org_admin)).values_list("id", flat=True)) == {c.id for c in choices.values()}
    choice_make(actor=A(org_admin), choice_id=choices[regs[0].id].id, choice="continue")
    choice_make(actor=A(org_admin), choice_id=choices[regs[1].id].id, choice="refund")
    regs[1].refresh_from_db()
    assert regs[1].status == Registration.Status.WITHDRAWN
    # The class list cannot bring newcomers onto the caught plan.
    with pytest.raises(Conflict) as exc:
        schools.class_import(actor=A(org_admin), class_id=school_class.id, upload=xlsx([HEADER, student(3)]))
    assert exc.value.code == "qualification_cancelled"


def test_a_class_opened_on_a_plan_cancelled_before_anyone_registered_cannot_import_its_list(
    school_class, org_admin, operator, electrician_qual
):
    cancel(operator, electrician_qual, days=0)
    with pytest.raises(Conflict) as exc:
        schools.class_import(actor=A(org_admin), class_id=school_class.id, upload=xlsx([HEADER, student(1)]))
    assert exc.value.code == "qualification_cancelled"
    assert not school_class.registrations.exists()


def test_the_career_page_reads_the_new_levels(electrician_qual):
    """(a) × (b): 特级技师 and 首席技师 are above 高级技师, so they serve its rule; 学徒工 is below every rule."""
    person = PersonFactory()
    careers_certificate(person, "XT", datetime.date(2021, 6, 1))
    assert pathways_for(person, today=datetime.date(2026, 11, 29)) == []
    careers_certificate(person, "TJ", datetime.date(2025, 6, 1))
    paths = {p.target: p for p in pathways_for(person, today=datetime.date(2026, 11, 29))}
    assert paths["高级工程师"].eligible_from == datetime.date(2025, 6, 1) and paths["高级工程师"].eligible_now
    assert paths["助理工程师"].eligible_from == datetime.date(2027, 6, 1)
    user = member(Role.WORKER, person=person)
    r = client_for(user).get("/certificates/careers/")
    assert r.status_code == 200 and "高级工程师" in r.content.decode()


def test_a_certificate_earned_before_a_cancellation_still_counts_on_the_career_page(operator, electrician_qual):
    person = PersonFactory()
    careers_certificate(person, "3", datetime.date(2020, 1, 10), occupation=Occupation.objects.get(code=ELECTRICIAN))
    cancel(operator, electrician_qual, days=0)
    [path] = pathways_for(person)
    assert path.target == "助理工程师" and path.eligible_now


def test_graduates_assessed_before_a_cancellation_verify_with_the_note_though_issued_after_it(
    school_class, org, org_admin, operator, electrician_qual, monkeypatch, django_capture_on_commit_callbacks, settings
):
    """(b) × (c): a class's certificates carry the graduation date, which may fall after a cancellation that came
    once the results were final. They were earned before it and must verify as such."""
    from assessments import publicity
    from certificates import issuance
    from certificates.models import Certificate
    from certificates.verification import verify_token
    from tests.assessments.test_schools import _assess

    settings.SIGNING_KEYS_GENERATE = True
    plan = school_class.plan
    schools.class_import(actor=A(org_admin), class_id=school_class.id, upload=xlsx([HEADER, student(1)]))
    schools.class_approve(actor=A(org_admin), class_id=school_class.id)
    _assess(plan, org, org_admin, list(school_class.registrations.all()), theory=[85], skills=[78])
    publication = publicity.publication_open(actor=A(org_admin), plan_id=plan.id, today=timezone.localdate())
    with django_capture_on_commit_callbacks(execute=True):
        publicity.plan_finalise(actor=A(org_admin), plan_id=plan.id, today=publication.ends_on + datetime.timedelta(1))
    graduation = school_class.graduation_date
    change = cancel(operator, electrician_qual, days=(graduation - timezone.localdate()).days - 5)
    assert not CancellationChoice.objects.filter(change=change).exists()  # assessed already: nobody is caught

    real_localdate = timezone.localdate
    monkeypatch.setattr(
        timezone, "localdate", lambda value=None, timezone=None: real_localdate(value) if value else graduation
    )
    with django_capture_on_commit_callbacks(execute=True):
        issuance.issue_graduates_due()
    cert = Certificate.objects.get()
    assert cert.issued_on == graduation > change.effective_on
    result = verify_token(cert.token)
    assert result.status == "valid"
    assert "继续有效" in result.public()["certificate"]["catalogue_note"]
