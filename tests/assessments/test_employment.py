"""An employer (Y) assesses its own staff (issue 14, item 6): employment shown by an insurance record at the
employer or an uploaded contract or dispatch agreement, at registration and again at approval and finalisation;
outsiders refused or sent for the bureau's review as the region's policy (data) says."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import Role
from accounts.services import person_get_or_create
from assessments.employment import services
from assessments.models import AssessmentPolicy, Registration
from assessments.registration import _create_registration, registration_review
from core.errors import PermissionDenied, RuleViolation, ValidationFailed
from core.models import AuditEntry
from oversight.models import InsuranceImport, InsuranceRecord
from tests.conftest import client_for
from tests.factories import OrganisationFactory, make_ric, member, region

from .conftest import file_organisation, make_plan

pytestmark = pytest.mark.django_db


def A(user) -> Actor:
    return Actor.for_user(user)


def pdf(name="劳动合同.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n% contract\n", content_type="application/pdf")


@pytest.fixture
def employer(cc_officer):
    org = OrganisationFactory(name="长春华信电气有限公司", kind="Y", region=region("220104"))
    admin = member(Role.ORG_ADMIN, organisation=org)
    file_organisation(org, admin, cc_officer)
    org.admin = admin
    return org


@pytest.fixture
def plan(employer):
    return make_plan(employer, employer.admin, levels=("4",))


def person(n: int, name="王强"):
    return person_get_or_create(
        actor=Actor.platform(),
        name=name,
        id_type="ric",
        id_number=make_ric(birth=datetime.date(1990, 2, 2) + datetime.timedelta(days=n), seq=400 + n),
    )


def register(plan, employer, who) -> Registration:
    return _create_registration(
        A(employer.admin), plan, plan.levels.get(code="4"), who, {"work_years": 8}, source="bulk"
    )


def insure(who, employer, *, start=datetime.date(2020, 1, 1), end=None) -> InsuranceRecord:
    batch = InsuranceImport.objects.create(
        region=employer.region, period_from=datetime.date(2020, 1, 1), period_to=timezone.localdate().replace(day=1)
    )
    return InsuranceRecord.objects.create(
        batch=batch,
        id_number=who.id_number,
        name=who.name,
        employer_credit_code=employer.credit_code,
        employer_name=employer.name,
        start_month=start,
        end_month=end,
    )


def test_an_outsider_is_refused_with_the_rule_named(plan, employer):
    outsider = person(1)
    with pytest.raises(RuleViolation) as exc:
        register(plan, employer, outsider)
    assert exc.value.details["rule_code"] == "employer_own_staff"
    assert (
        "用人单位只评价本单位职工" in exc.value.message
        and "未查到王强在“长春华信电气有限公司”的参保记录" in exc.value.message
    )
    assert not Registration.objects.exists()


def test_an_insured_employee_registers_and_the_record_is_named(plan, employer):
    staff = person(2)
    insure(staff, employer)
    reg = register(plan, employer, staff)
    assert reg.employment_status == "insured" and "长春华信电气有限公司 参保 2020-01 起" in reg.employment_note
    page = client_for(employer.admin).get(f"/assessments/registrations/{reg.id}/").content.decode()
    assert "本单位参保记录" in page


def test_insurance_at_another_employer_does_not_count(plan, employer):
    staff = person(3)
    record = insure(staff, employer)
    InsuranceRecord.objects.filter(pk=record.pk).update(employer_credit_code="91220101MA0000000X")
    with pytest.raises(RuleViolation):
        register(plan, employer, staff)


def test_an_uploaded_dispatch_agreement_lets_a_dispatched_worker_register(plan, employer):
    staff = person(4, name="派遣工")
    client = client_for(employer.admin)
    response = client.post(
        f"/api/v1/assessments/employers/{employer.id}/employment-proofs",
        {
            "name": staff.name,
            "id_number": staff.id_number,
            "kind": "dispatch",
            "valid_from": "2024-03-01",
            "file": pdf("派遣协议.pdf"),
        },
    )
    assert response.status_code == 201, response.content
    assert register(plan, employer, staff).employment_status == "proof"
    assert AuditEntry.objects.filter(action="employment_proof.add").exists()
    # Not a PDF, PNG or JPEG: refused.
    with pytest.raises(ValidationFailed):
        services.employment_proof_add(
            actor=A(employer.admin),
            organisation_id=employer.id,
            name=staff.name,
            id_type="ric",
            id_number=staff.id_number,
            kind="contract",
            upload=SimpleUploadedFile("x.pdf", b"MZ\x90\x00", content_type="application/pdf"),
            valid_from="2024-03-01",
        )


def test_another_tenant_cannot_upload_for_the_employer(employer, other_filed_org):
    with pytest.raises(Exception) as exc:
        services.employment_proof_add(
            actor=A(other_filed_org.admin),
            organisation_id=employer.id,
            name="某人",
            id_type="ric",
            id_number=person(5).id_number,
            kind="contract",
            upload=pdf(),
            valid_from="2024-01-01",
        )
    assert getattr(exc.value, "status", None) == 404


def test_approval_asks_again(plan, employer):
    staff = person(6)
    record = insure(staff, employer)
    reg = register(plan, employer, staff)
    # Left the employer before the organisation got round to approving.
    InsuranceRecord.objects.filter(pk=record.pk).update(end_month=datetime.date(2021, 12, 1))
    with pytest.raises(RuleViolation) as exc:
        registration_review(actor=A(employer.admin), registration_id=reg.id, decision="approve")
    assert "审核通过该考生" in exc.value.message
    reg.refresh_from_db()
    assert reg.status == Registration.Status.SUBMITTED


def test_where_the_region_says_review_the_bureau_decides(plan, employer, cc_officer, jlc_officer):
    AssessmentPolicy.objects.create(
        region_prefix="2201", effective_from=datetime.date(2020, 1, 1), employer_staff_check="review"
    )
    outsider = person(7, name="外单位人员")
    reg = register(plan, employer, outsider)
    assert reg.employment_status == "review" and "已送人社部门审核" in reg.employment_note
    with pytest.raises(RuleViolation):
        registration_review(actor=A(employer.admin), registration_id=reg.id, decision="approve")
    # The organisation cannot decide for the bureau; another region's bureau does not see it.
    with pytest.raises(PermissionDenied):
        services.employment_review(actor=A(employer.admin), registration_id=reg.id, accept=True, reason="本单位实习")
    with pytest.raises(Exception) as exc:
        services.employment_review(actor=A(jlc_officer), registration_id=reg.id, accept=True, reason="x")
    assert getattr(exc.value, "status", None) == 404

    response = client_for(cc_officer).post(
        f"/api/v1/assessments/registrations/{reg.id}/employment-review",
        {"accept": True, "reason": "核实为本单位新入职职工,参保手续办理中"},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["employment_status"] == "accepted"
    assert AuditEntry.objects.filter(action="registration.employment_accept").exists()
    registration_review(actor=A(employer.admin), registration_id=reg.id, decision="approve")
    reg.refresh_from_db()
    assert reg.status == Registration.Status.APPROVED


def test_a_refusal_by_the_bureau_rejects_the_registration(plan, employer, cc_officer):
    AssessmentPolicy.objects.create(
        region_prefix="22", effective_from=datetime.date(2020, 1, 1), employer_staff_check="review"
    )
    reg = register(plan, employer, person(8))
    services.employment_review(actor=A(cc_officer), registration_id=reg.id, accept=False, reason="非本单位人员")
    reg.refresh_from_db()
    assert reg.status == Registration.Status.REJECTED and reg.employment_status == "refused"


def test_a_social_organisation_is_not_asked(filed_org, org_admin):
    plan = make_plan(filed_org, org_admin, levels=("4",))
    reg = _create_registration(
        A(org_admin), plan, plan.levels.get(code="4"), person(9), {"work_years": 8}, source="bulk"
    )
    assert reg.employment_status == ""


def test_finalisation_asks_again_on_the_exam_date(employer):
    from assessments import publicity

    from .test_scoring import build_scene, score_and_lock

    plan = make_plan(employer, employer.admin)
    # make_candidates's three candidates, insured at the employer before they register.
    for i in range(1, 4):
        number = make_ric(birth=datetime.date(1990, 1, 1) + datetime.timedelta(days=i), seq=i % 900 + 1)
        insure(type("P", (), {"id_number": number, "name": f"考生4-{i}"})(), employer)
    scene = build_scene(plan, employer, employer.admin)
    score_and_lock(scene, theory=[80, 80, 80], skills=[[70, 70, 70]] * 3)
    publication = publicity.publication_open(actor=A(employer.admin), plan_id=plan.id)
    left = scene.regs[0]
    InsuranceRecord.objects.filter(id_number=left.person.id_number).update(end_month=datetime.date(2021, 12, 1))
    with pytest.raises(RuleViolation) as exc:
        publicity.plan_finalise(
            actor=A(employer.admin), plan_id=plan.id, today=publication.ends_on + datetime.timedelta(days=1)
        )
    assert "办结计划" in exc.value.message and left.person.name in exc.value.message
    assert [f["registration_id"] for f in exc.value.details["findings"]] == [left.id]
