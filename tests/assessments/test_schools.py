"""双证书: a school assesses its graduating class in one batch, from the class list to certificates dated on the
graduation day."""

import datetime

import pytest
from django.utils import timezone

from accounts.actors import Actor
from assessments import publicity
from assessments.models import GraduatingClass, Registration
from assessments.schools import services as schools
from certificates import issuance
from certificates.models import Certificate
from certificates.verification import verify_token
from core.errors import Conflict, NotFound, ValidationFailed
from core.models import AuditEntry
from tests.accreditation.conftest import xlsx
from tests.conftest import client_for
from tests.factories import make_ric

from .conftest import file_organisation, make_plan
from .test_scoring import exams_held, make_assessor, seat, submit

pytestmark = pytest.mark.django_db

A = Actor.for_user
DAY = datetime.timedelta(days=1)
HEADER = ["姓名", "证件类型", "证件号码", "手机号码", "申报等级"]


def student(i: int, level: str = "四级") -> list:
    return [
        f"学生{i}",
        "居民身份证",
        make_ric(birth=datetime.date(2006, 3, 1) + datetime.timedelta(days=i), seq=i),
        "",
        level,
    ]


@pytest.fixture
def school(org, org_admin, cc_officer):
    """A 技工学校 filed as an evaluation organisation for 电工 (2018 standard: 四级 admits final-year students)."""
    org.school_kind = "technical_school"
    org.save(update_fields=["school_kind"])
    return file_organisation(org, org_admin, cc_officer)


@pytest.fixture
def school_plan(school, org_admin):
    return make_plan(school, org_admin, levels=("4", "3"))


@pytest.fixture
def graduating(school_plan, org_admin):
    return schools.class_create(
        actor=A(org_admin),
        plan_id=school_plan.id,
        name="2026届电气自动化1班",
        major="电气自动化设备安装与维修",
        graduation_date=timezone.localdate() + 20 * DAY,
    )


def test_a_class_is_opened_by_the_schools_admin_with_the_schools_kind_of_education(graduating, org_admin):
    assert graduating.education_kind == "technical_school"
    assert AuditEntry.objects.filter(action="graduating_class.create", object_id=str(graduating.id)).exists()
    with pytest.raises(Conflict) as exc:
        schools.class_create(
            actor=A(org_admin),
            plan_id=graduating.plan_id,
            name="2026届电气自动化1班",
            major="x",
            graduation_date=graduating.graduation_date,
        )
    assert exc.value.code == "duplicate_class"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", " ", "请填写班级名称"),
        ("major", "", "请填写专业"),
        ("education_kind", "kindergarten", "学历类别无效"),
        ("graduation_date", datetime.date(2020, 7, 1), "毕业日期应在一年以内"),
    ],
)
def test_a_class_needs_a_name_a_major_a_known_education_and_a_near_graduation(
    school_plan, org_admin, field, value, message
):
    data = {"name": "1班", "major": "电气", "graduation_date": timezone.localdate(), field: value}
    with pytest.raises(ValidationFailed, match=message):
        schools.class_create(actor=A(org_admin), plan_id=school_plan.id, **data)


def test_only_a_school_may_assess_a_class(filed_org, org_admin):
    plan = make_plan(filed_org, org_admin)
    with pytest.raises(Conflict) as exc:
        schools.class_create(
            actor=A(org_admin), plan_id=plan.id, name="1班", major="电气", graduation_date=timezone.localdate()
        )
    assert exc.value.code == "not_a_school"


def test_another_tenant_and_a_bureau_cannot_act_on_the_class(graduating, other_org_admin, cc_officer, jlc_officer):
    with pytest.raises(NotFound):
        schools.class_create(
            actor=A(other_org_admin),
            plan_id=graduating.plan_id,
            name="2班",
            major="x",
            graduation_date=timezone.localdate(),
        )
    for outsider in (other_org_admin, jlc_officer):
        with pytest.raises(NotFound):
            schools.class_import(actor=A(outsider), class_id=graduating.id, upload=xlsx([HEADER, student(1)]))
        with pytest.raises(NotFound):
            schools.class_get(A(outsider), graduating.id)
    # The city bureau sees the class it supervises but does not register students for the school.
    assert schools.class_get(A(cc_officer), graduating.id) == graduating
    with pytest.raises(NotFound):
        schools.class_import(actor=A(cc_officer), class_id=graduating.id, upload=xlsx([HEADER, student(1)]))


def test_the_class_list_registers_final_year_students_on_the_graduate_route(graduating, org_admin):
    report = schools.class_import(
        actor=A(org_admin), class_id=graduating.id, upload=xlsx([HEADER, student(1), student(2), student(3)])
    )
    assert report.ok and (report.total, report.created) == (3, 3)
    regs = list(graduating.registrations.order_by("id"))
    assert [r.source for r in regs] == ["school"] * 3
    assert {r.eligibility_status for r in regs} == {"eligible"}
    assert {r.eligibility["met_route"] for r in regs} == {"EDU_VOC"}
    conditions = regs[0].eligibility["routes"][2]["conditions"]
    assert conditions[0]["explanation"] == "本专业技工学校在读应届毕业生"
    assert (
        regs[0].education[0]["final_year_student"]
        and regs[0].education[0]["attested_by"] == graduating.plan.organisation.name
    )


def test_one_bad_row_saves_nothing_and_every_bad_row_is_named(graduating, org_admin):
    bad_id = ["学生9", "居民身份证", "220102200601010000", "", "四级"]
    rows = [HEADER, student(1), bad_id, student(2, level="三级"), student(1), student(4, level="九级")]
    report = schools.class_import(actor=A(org_admin), class_id=graduating.id, upload=xlsx(rows))
    assert report.created == 0 and Registration.objects.count() == 0
    reasons = {e.row: e.reason for e in report.errors}
    assert set(reasons) == {3, 4, 5, 6}
    assert "身份证号码" in reasons[3]
    assert reasons[4].startswith("不符合三级/高级工申报条件") and "未持有本职业四级及以上证书" in reasons[4]
    assert "重复" in reasons[5]
    assert "无法识别" in reasons[6]


def test_a_class_that_has_already_graduated_uses_the_diploma(school_plan, org_admin):
    graduated = schools.class_create(
        actor=A(org_admin),
        plan_id=school_plan.id,
        name="2026届1班",
        major="电气",
        graduation_date=timezone.localdate() - 30 * DAY,
    )
    schools.class_import(actor=A(org_admin), class_id=graduated.id, upload=xlsx([HEADER, student(1)]))
    reg = graduated.registrations.get()
    assert reg.education[0]["graduated_on"] == graduated.graduation_date.isoformat()
    explanation = reg.eligibility["routes"][2]["conditions"][0]["explanation"]
    assert explanation.startswith("本专业技工学校毕业(") and reg.eligibility_status == "eligible"


def _assess(plan, org, admin, regs, theory, skills):
    exams_held(plan)
    skill_panel = [make_assessor(org, admin, i) for i in range(1, 4)]
    theory_assessor = make_assessor(org, admin, 10)
    seat(plan, "skills", *skill_panel)
    seat(plan, "theory", theory_assessor, make_assessor(org, admin, 40))  # the standard asks for two
    from assessments.scoring import services as scoring_services

    submit(theory_assessor, plan, "theory", dict(zip(regs, theory, strict=True)))
    for user in skill_panel:
        submit(user, plan, "skills", dict(zip(regs, skills, strict=True)))
    scoring_services.component_lock(actor=A(admin), plan_id=plan.id, kind="theory")
    scoring_services.component_lock(actor=A(admin), plan_id=plan.id, kind="skills")


def test_a_graduating_class_end_to_end(
    graduating, school, org_admin, monkeypatch, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.SIGNING_KEYS_DIR, settings.SIGNING_KEYS_GENERATE = tmp_path, True
    plan = graduating.plan
    schools.class_import(
        actor=A(org_admin), class_id=graduating.id, upload=xlsx([HEADER, student(1), student(2), student(3)])
    )
    assert schools.class_approve(actor=A(org_admin), class_id=graduating.id) == 3
    regs = list(graduating.registrations.order_by("person__name"))
    assert {r.status for r in regs} == {"approved"}

    _assess(plan, school, org_admin, regs, theory=[85, 72, 40], skills=[78, 66, 90])
    start = timezone.localdate()
    publication = publicity.publication_open(actor=A(org_admin), plan_id=plan.id, today=start)
    with django_capture_on_commit_callbacks(execute=True):
        summary = publicity.plan_finalise(actor=A(org_admin), plan_id=plan.id, today=publication.ends_on + DAY)
    assert (summary.passed, summary.failed) == (2, 1)
    # Finalised before graduation: the results stand, the certificates wait for the graduation day.
    assert not Certificate.objects.exists()
    assert issuance.awaiting_graduation(plan, timezone.localdate()).count() == 2
    assert issuance.issue_graduates_due() == []
    page = client_for(org_admin).get(f"/certificates/plans/{plan.id}/issue/").content.decode()
    assert "合格的 2 名学生,证书将于毕业日期" in page

    graduation = graduating.graduation_date
    real_localdate = timezone.localdate
    monkeypatch.setattr(
        timezone,
        "localdate",
        lambda value=None, timezone=None: real_localdate(value) if value else graduation + 2 * DAY,
    )
    with django_capture_on_commit_callbacks(execute=True):
        started = issuance.issue_graduates_due()
    assert len(started) == 1
    certs = list(Certificate.objects.order_by("holder_name"))
    assert [c.holder_name for c in certs] == ["学生1", "学生2"]
    assert {c.issued_on for c in certs} == {graduation}
    assert all(c.number[13:16] == f"{graduation.year % 100:02d}4" for c in certs)
    assert verify_token(certs[0].token).status == "valid"
    assert schools.class_summary(graduating)["certified"] == 2
    assert issuance.issue_graduates_due() == []  # nothing left: running again issues nothing twice


def test_a_class_that_graduated_before_its_results_gets_the_issue_day(graduating):
    graduating.graduation_date = timezone.localdate() - 5 * DAY
    reg = Registration(graduating_class=graduating, finalised_at=timezone.now())
    assert issuance.issue_date_for(reg, timezone.localdate()) == timezone.localdate()
    reg.finalised_at = timezone.now() - 10 * DAY
    assert issuance.issue_date_for(reg, timezone.localdate()) == graduating.graduation_date
    assert issuance.issue_date_for(Registration(), timezone.localdate()) == timezone.localdate()


def test_the_api_and_pages(graduating, org_admin, other_org_admin):
    c = client_for(org_admin)
    listed = c.get("/api/v1/assessments/classes").json()
    assert [x["name"] for x in listed] == [graduating.name]
    response = c.post(
        f"/api/v1/assessments/classes/{graduating.id}/students",
        {"file": xlsx([HEADER, student(1), student(2, "三级")])},
    )
    assert response.status_code == 422 and [e["row"] for e in response.json()["errors"]] == [3]
    response = c.post(f"/api/v1/assessments/classes/{graduating.id}/students", {"file": xlsx([HEADER, student(1)])})
    assert response.status_code == 200 and response.json()["created"] == 1
    assert c.post(f"/api/v1/assessments/classes/{graduating.id}/approve").json() == {"approved": 1}
    detail = c.get(f"/api/v1/assessments/classes/{graduating.id}").json()
    assert (detail["registered"], detail["approved"]) == (1, 1)
    created = c.post(
        "/api/v1/assessments/classes",
        {"plan_id": graduating.plan_id, "name": "2班", "major": "电气", "graduation_date": str(timezone.localdate())},
        content_type="application/json",
    )
    assert created.status_code == 201 and GraduatingClass.objects.count() == 2

    other = client_for(other_org_admin)
    assert other.get(f"/api/v1/assessments/classes/{graduating.id}").status_code == 404
    assert other.get("/api/v1/assessments/classes").json() == []
    assert other.post(f"/api/v1/assessments/classes/{graduating.id}/approve").status_code == 404

    page = c.get("/assessments/classes/")
    assert page.status_code == 200 and graduating.name in page.content.decode()
    detail_page = c.get(f"/assessments/classes/{graduating.id}/").content.decode()
    assert "学生1" in detail_page and "上传班级名单" in detail_page
    assert other.get(f"/assessments/classes/{graduating.id}/").status_code == 404
    assert c.get("/assessments/classes-template.xlsx")["Content-Type"].startswith("application/vnd.openxmlformats")


def test_the_class_page_creates_a_class_and_reports_a_bad_upload(school_plan, org_admin):
    c = client_for(org_admin)
    response = c.post(
        "/assessments/classes/",
        {"plan_id": school_plan.id, "name": "3班", "major": "电气", "graduation_date": str(timezone.localdate() + DAY)},
    )
    graduating = GraduatingClass.objects.get(name="3班")
    assert response["Location"] == f"/assessments/classes/{graduating.id}/"
    c.post(f"/assessments/classes/{graduating.id}/", {"action": "import", "file": xlsx([HEADER, student(1, "三级")])})
    html = c.get(f"/assessments/classes/{graduating.id}/").content.decode()
    assert "未导入任何一行" in html and "不符合三级/高级工申报条件" in html
    assert not Registration.objects.exists()
