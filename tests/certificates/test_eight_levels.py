"""The eight-level system end to end (人社部发〔2022〕14号): an employer files 学徒工, 特级技师 and 首席技师,
plans an assessment, registers candidates whose eligibility the standard's data decides, seats panels sized by
the data, scores, publishes, finalises and issues; the certificate number carries the level's own digit and
verification, the PDF and the credential name the level as printed."""

import csv
import datetime
import io
import re
from types import SimpleNamespace

import pytest
from django.utils.timezone import localdate

from accounts.actors import Actor
from accounts.models import Role
from accounts.services import person_get_or_create
from accreditation.people import appointment_register
from assessments import publicity
from assessments.models import Registration
from assessments.panels import rules as panel_rules
from assessments.panels import services as panel_services
from assessments.registration import _create_registration, registration_review, registrations_import
from assessments.scoring import services as scoring_services
from certificates.credentials import credential_claims
from certificates.models import Certificate
from certificates.pdf import render_html
from certificates.presenters import certificate_view
from core.dates import add_months
from core.errors import Conflict
from occupations.levels import level_for_number
from occupations.models import Level
from oversight.dashboards import dashboard_for
from tests.accreditation.conftest import xlsx
from tests.assessments.conftest import file_organisation, make_plan
from tests.assessments.test_scoring import exams_held, submit
from tests.certificates.test_reporting import qualification_row, upload
from tests.conftest import client_for
from tests.factories import OrganisationFactory, appointed_since, make_ric, member, region

pytestmark = pytest.mark.django_db
A = Actor.for_user

EIGHT_LEVEL_SCOPE = [{"occupation_code": "6-31-01-03", "levels": ["XT", "5", "4", "3", "2", "1", "TJ", "SX"]}]

# What each new level needs, from occupations/data: the components the standard sets and evidence that meets
# one of its routes (学徒工: apprenticeship; 特级技师: 高级技师 ≥5 years; 首席技师: 特级技师 ≥3 years).
CASES = {
    "XT": {"kinds": ("theory", "skills"), "evidence": {"apprenticeship_completed": True, "work_years": 1}},
    "TJ": {
        "kinds": ("skills", "review"),
        "evidence": {
            "work_years": 20,
            "prior_certificates": [{"occupation_code": "6-31-01-03", "level": "1", "issued_on": "2016-06-30"}],
        },
    },
    "SX": {
        "kinds": ("skills", "review"),
        "evidence": {
            "work_years": 25,
            "prior_certificates": [{"occupation_code": "6-31-01-03", "level": "TJ", "issued_on": "2020-06-30"}],
        },
    },
}


@pytest.fixture(autouse=True)
def staff_insured():
    """Everyone registered here works for the employer: its insurance records say so (the records themselves are
    oversight's, tested in tests/assessments/test_employment.py)."""
    from assessments.signals import employment_records

    def insured(sender, person, organisation, on, **kwargs):
        return [f"{organisation.name} 参保(测试)"]

    employment_records.connect(insured, dispatch_uid="test-eight-levels-insured")
    yield
    employment_records.disconnect(dispatch_uid="test-eight-levels-insured")


@pytest.fixture
def employer(cc_officer):
    org = OrganisationFactory(name="长春一汽电气设备有限公司", kind="Y", region=region("220104"))
    admin = member(Role.ORG_ADMIN, organisation=org)
    file_organisation(org, admin, cc_officer, scope=EIGHT_LEVEL_SCOPE)
    org.admin = admin
    return org


def _assessor(org, n: int, max_level: str):
    appointment = appointment_register(
        actor=A(org.admin),
        role="assessor",
        valid_from=appointed_since(),
        name=f"考评员{n}",
        id_type="ric",
        id_number=make_ric(birth=datetime.date(1986, 3, 1) + datetime.timedelta(days=n), seq=n + 600),
        scopes=[{"occupation_code": "6-31-01-03", "max_level": max_level}],
        organisation_id=org.id,
    )
    user = member(Role.ASSESSOR, organisation=org, person=appointment.person)
    user.appointment = appointment
    return user


def _candidates(plan, org, code: str, n: int) -> list[Registration]:
    regs = []
    for i in range(n):
        person = person_get_or_create(
            actor=A(org.admin),
            name=f"{code}考生{i}",
            id_type="ric",
            id_number=make_ric(birth=datetime.date(1987, 2, 1 + i), seq=700 + 10 * list(CASES).index(code) + i),
        )
        reg = _create_registration(
            A(org.admin), plan, plan.levels.get(code=code), person, CASES[code]["evidence"], source="bulk"
        )
        regs.append(reg)
    return regs


def _assessment(employer, code: str, n: int = 2) -> SimpleNamespace:
    level = Level.objects.get(code=code)
    kinds = CASES[code]["kinds"]
    plan = make_plan(employer, employer.admin, levels=(code,), kinds=kinds)
    regs = _candidates(plan, employer, code, n)
    for reg in regs:
        registration_review(actor=A(employer.admin), registration_id=reg.id, decision="approve")
    required = panel_rules.panel_requirements(plan)
    seats = {
        kind: [_assessor(employer, 10 * i + j, code) for j in range(required[kind][0])] for i, kind in enumerate(kinds)
    }
    for kind, users in seats.items():
        for user in users:
            panel_services.panel_assign(
                actor=A(employer.admin), plan_id=plan.id, kind=kind, appointment_id=user.appointment.id
            )
    assert all(p.ok for p in panel_rules.panel_status(plan))
    exams_held(plan)
    for kind, users in seats.items():
        for user in users:
            submit(user, plan, kind, {reg: 75 for reg in regs})
        scoring_services.component_lock(actor=A(employer.admin), plan_id=plan.id, kind=kind)
    start = datetime.date(2025, 9, 30)
    publication = publicity.publication_open(actor=A(employer.admin), plan_id=plan.id, today=start)
    publicity.plan_finalise(
        actor=A(employer.admin), plan_id=plan.id, today=publication.ends_on + datetime.timedelta(days=1)
    )
    return SimpleNamespace(plan=plan, regs=regs, level=level, required=required)


@pytest.mark.parametrize("code", ["XT", "TJ", "SX"])
def test_each_new_level_end_to_end(employer, issue, client, code):
    scene = _assessment(employer, code)
    assert {r.refresh_from_db() or r.outcome for r in scene.regs} == {Registration.Outcome.PASSED}

    batch = issue(scene.plan, employer.admin)
    assert batch.status == "done" and batch.done == len(scene.regs)
    certs = list(Certificate.objects.filter(registration__plan=scene.plan).order_by("number"))
    level = scene.level
    for cert in certs:
        # 22 characters, Y + 21 digits, the level's own digit at position 16, and readable back to the level.
        assert re.fullmatch(r"Y\d{21}", cert.number)
        assert cert.number.startswith(employer.number_prefix)
        assert cert.number[15] == level.number_digit
        assert level_for_number(cert.number) == level

        api = client.get(f"/api/v1/verify/{cert.token}").json()
        assert api["status"] == "valid"
        assert api["certificate"]["level"] == level.label == level.name
        page = client.get(f"/v/{cert.token}").content.decode()
        assert level.name in page

        assert level.label in render_html([certificate_view(cert)])
        achievement = credential_claims(cert)["credentialSubject"]["achievement"]
        assert achievement["name"] == f"电工 {level.label}" and achievement["id"].endswith(f"/{code}")
    assert [c.number[-6:] for c in certs] == ["000001", "000002"]


def test_special_technician_panels_follow_the_levels_staffing_data(employer):
    plan = make_plan(employer, employer.admin, levels=("TJ",), kinds=("skills", "review"))
    _candidates(plan, employer, "TJ", 2)
    Registration.objects.filter(plan=plan).update(status=Registration.Status.APPROVED)
    # staffing_by_level: 特级技师 review panels ≥5 and odd, larger than the general ≥3.
    assert panel_rules.panel_requirements(plan)["review"][0] == 5
    assert panel_rules.panel_requirements(plan)["skills"][0] == 5


def test_an_assessor_cleared_to_level_one_may_not_judge_special_technicians(employer):
    plan = make_plan(employer, employer.admin, levels=("TJ",), kinds=("skills", "review"))
    senior = _assessor(employer, 90, "1")
    with pytest.raises(Conflict) as exc:
        panel_services.panel_assign(
            actor=A(employer.admin), plan_id=plan.id, kind="review", appointment_id=senior.appointment.id
        )
    assert "特级技师" in str(exc.value.message)


def test_eligibility_for_the_new_levels_comes_from_the_standards_data(employer):
    plan = make_plan(employer, employer.admin, levels=("TJ", "SX", "XT"), kinds=("theory", "skills", "review"))
    (tj,) = _candidates(plan, employer, "TJ", 1)
    assert tj.eligibility_status == "needs_review"  # a declared 高级技师 certificate: checked by a reviewer
    assert tj.eligibility["met_route"] == "L1Y5"

    person = person_get_or_create(
        actor=A(employer.admin),
        name="资历不足",
        id_type="ric",
        id_number=make_ric(birth=datetime.date(1988, 1, 1), seq=801),
    )
    recent = {
        "work_years": 12,
        "prior_certificates": [{"occupation_code": "6-31-01-03", "level": "1", "issued_on": "2023-06-30"}],
    }
    too_soon = _create_registration(A(employer.admin), plan, plan.levels.get(code="TJ"), person, recent, source="bulk")
    assert too_soon.eligibility_status == "ineligible"
    assert "不满5年" in str(too_soon.eligibility)

    # 学徒工 without an apprenticeship and under six months in post: no route met.
    novice = person_get_or_create(
        actor=A(employer.admin),
        name="新入职",
        id_type="ric",
        id_number=make_ric(birth=datetime.date(2004, 1, 1), seq=802),
    )
    reg = _create_registration(
        A(employer.admin), plan, plan.levels.get(code="XT"), novice, {"work_years": 0.25}, source="bulk"
    )
    assert reg.eligibility_status == "ineligible"
    (apprentice,) = _candidates(plan, employer, "XT", 1)
    assert apprentice.eligibility_status == "eligible" and apprentice.eligibility["met_route"] == "XT_APPR"
    # A 学徒工 certificate is below 五级: it never counts as a 五级 certificate for 四级.
    assert Level.objects.get(code="XT").rank < Level.objects.get(code="5").rank


# --- Statistics, reports and imports count the new levels -------------------------------------------------


def test_statistics_reports_and_history_list_special_technicians(employer, issue, cc_officer):
    scene = _assessment(employer, "TJ")
    issue(scene.plan, employer.admin)
    history = client_for(employer.admin).get("/api/v1/certificates/history").json()["items"]
    assert [(h["level_code"], h["level"], h["count"]) for h in history] == [("TJ", "特级技师", 2)]

    r = client_for(cc_officer).get("/api/v1/certificates/report", {"format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(r.streaming_content).decode("utf-8-sig"))))
    assert [row[rows[0].index("等级")] for row in rows[1:]] == ["特级技师", "特级技师"]

    board = dashboard_for(actor=A(cc_officer), today=add_months(localdate(), 1))  # this month, whole
    assessments = board.panels["assessments"]
    level_column = [str(h) for h in assessments.headers].index("等级")
    assert [row[level_column] for row in assessments.rows] == ["特级技师"]


def test_an_imported_number_whose_level_digit_disagrees_with_the_level_is_refused(cc_officer):
    rows = [
        qualification_row(
            "Y000022000102207000001", 证书类别="职业技能等级证书", 等级="三级", 发证日期="2020-06-30"
        ),  # digit 7: 特级技师
        qualification_row(
            "Y000022000102207000002",
            证书类别="职业技能等级证书",
            等级="特级技师",
            发证日期="2020-06-30",
            证件号码=make_ric(birth=datetime.date(1986, 1, 2), seq=3),
            姓名="李特级",
        ),
    ]
    r = upload(cc_officer, rows)
    assert r.status_code == 422
    (error,) = r.json()["errors"]
    assert error["row"] == 2 and error["column"] == "证书编号"
    assert "等级位表示特级技师" in error["reason"] and "三级/高级工" in error["reason"]

    r = upload(cc_officer, rows[1:])
    assert r.status_code == 200, r.json()
    assert Certificate.objects.get(number="Y000022000102207000002").level.code == "TJ"


def test_an_unreadable_level_lists_every_level_the_data_holds(cc_officer):
    r = upload(cc_officer, [qualification_row(等级="特等")])
    (error,) = r.json()["errors"]
    assert "学徒工" in error["reason"] and "首席技师" in error["reason"] and "三级/高级工" in error["reason"]


def test_an_employer_registers_its_staff_for_special_technician_from_a_spreadsheet(employer):
    plan = make_plan(employer, employer.admin, levels=("TJ", "SX"), kinds=("skills", "review"))
    header = [
        "姓名",
        "证件类型",
        "证件号码",
        "手机号码",
        "申报等级",
        "工作年限",
        "已取得本职业证书等级",
        "证书编号",
        "发证日期",
    ]
    rows = [
        header,
        [
            "高师傅",
            "居民身份证",
            make_ric(birth=datetime.date(1986, 5, 5), seq=901),
            "",
            "特级技师",
            22,
            "国家职业资格一级(高级技师)",
            "",
            "2015-07-01",
        ],
        [
            "陈师傅",
            "居民身份证",
            make_ric(birth=datetime.date(1986, 5, 6), seq=902),
            "",
            "首席技师",
            25,
            "特级技师",
            "",
            "2019-07-01",
        ],
        ["王师傅", "居民身份证", make_ric(birth=datetime.date(1986, 5, 7), seq=903), "", "三级", 10, "", "", ""],
    ]
    report = registrations_import(actor=A(employer.admin), plan_id=plan.id, upload=xlsx(rows), partial=True)
    assert report.created == 2 and [e.row for e in report.errors] == [4]  # 三级 is not in this plan
    regs = {r.person.name: r for r in Registration.objects.filter(plan=plan).select_related("level", "person")}
    assert regs["高师傅"].level.code == "TJ" and regs["高师傅"].eligibility["met_route"] == "L1Y5"
    assert regs["陈师傅"].level.code == "SX" and regs["陈师傅"].eligibility["met_route"] == "TJY3"
    assert {r.eligibility_status for r in regs.values()} == {"needs_review"}  # declared, not yet checked


def test_an_apprentice_certificate_opens_the_way_to_level_five(employer, issue):
    """学徒工 is the step below 五级: the 2018 template's level-5 routes accept its certificate (XT_CERT)."""
    scene = _assessment(employer, "XT", n=1)
    issue(scene.plan, employer.admin)
    (apprentice,) = scene.regs
    five = make_plan(employer, employer.admin, levels=("5",), kinds=("theory", "skills"))
    reg = _create_registration(
        A(employer.admin), five, five.levels.get(code="5"), apprentice.person, {"work_years": 0.5}, source="bulk"
    )
    assert reg.eligibility_status == "eligible" and reg.eligibility["met_route"] == "XT_CERT"
    assert "学徒工证书" in reg.eligibility["summary"]
