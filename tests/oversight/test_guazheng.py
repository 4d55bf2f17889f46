"""挂证 detection: declarations by employers against imported social-insurance records, flags with evidence, and
the case that suspends or revokes the certificate and sanctions the employer."""

import datetime

import pytest

from accounts.actors import Actor
from accounts.models import Role
from certificates.models import Certificate
from core.errors import Conflict, NotFound, ValidationFailed
from core.models import AuditEntry
from oversight import guazheng, reports
from oversight.models import GuazhengFlag, InsuranceImport, InsuranceRecord, Sanction
from tests.conftest import client_for
from tests.factories import OrganisationFactory, make_uscc, member, region

from .conftest import xlsx

pytestmark = pytest.mark.django_db

D = datetime.date
HEADER = ["证件号码", "姓名", "参保单位统一社会信用代码", "参保单位名称", "起始月份", "截止月份"]


@pytest.fixture
def cert(finalised_plan, org_admin, issue) -> Certificate:
    issue(finalised_plan, org_admin)
    return Certificate.objects.order_by("number").first()


@pytest.fixture
def employer_a():
    """A construction company in 长春 that is not an evaluation organisation."""
    org = OrganisationFactory(name="长春甲建筑有限公司", kind="Y", region=region("220104"))
    org.admin = member(Role.ORG_ADMIN, organisation=org)
    return org


@pytest.fixture
def employer_b(org, org_admin):
    """The filed evaluation organisation itself, also relying on certificates (so its filing can be suspended)."""
    org.admin = org_admin
    return org


def declare(employer, cert, start, end=None):
    return guazheng.reliance_declare(
        actor=Actor.for_user(employer.admin),
        employer_id=employer.id,
        certificate_number=cert.number,
        holder_name=cert.holder_name,
        purpose="qualification_filing",
        start=start,
        end=end,
    )


def insured(officer, rows, period=(D(2025, 1, 1), D(2025, 12, 1)), capture=None):
    upload = xlsx([HEADER, *rows])
    report, batch = guazheng.insurance_import(
        actor=Actor.for_user(officer), upload=upload, period_from=period[0], period_to=period[1]
    )
    assert report.ok, report.as_dict()
    return batch


def row(cert, employer, start="2025-01", end="2025-12"):
    return [cert.id_number, cert.holder_name, employer.credit_code, employer.name, start, end]


# --- Importing records ------------------------------------------------------------------------------------------------


def test_an_import_saves_every_row_or_none_and_names_each_bad_row(cc_officer, cert, employer_a):
    upload = xlsx(
        [
            HEADER,
            row(cert, employer_a),
            ["220102199001011230", "错号", employer_a.credit_code, employer_a.name, "2025-01", ""],
            [cert.id_number, cert.holder_name, "91220101MA0000000X", "某公司", "2025-01", ""],
            [cert.id_number, cert.holder_name, employer_a.credit_code, employer_a.name, "2025-06", "2025-02"],
            [cert.id_number, cert.holder_name, employer_a.credit_code, employer_a.name, "去年", ""],
        ]
    )
    report, batch = guazheng.insurance_import(
        actor=Actor.for_user(cc_officer), upload=upload, period_from=D(2025, 1, 1), period_to=D(2025, 12, 1)
    )
    assert batch is None and not report.ok
    assert [(e.row, e.column) for e in report.errors] == [
        (3, "证件号码"),
        (4, "参保单位统一社会信用代码"),
        (5, "截止月份"),
        (6, "起始月份"),
    ]
    assert not InsuranceRecord.objects.exists() and not InsuranceImport.objects.exists()


def test_months_are_read_as_people_type_them():
    assert guazheng.parse_month("2025/3") == D(2025, 3, 1)
    assert guazheng.parse_month("202503") == D(2025, 3, 1)
    assert guazheng.parse_month("2025年3月") == D(2025, 3, 1)
    assert guazheng.parse_month(datetime.datetime(2025, 3, 17, 8, 0)) == D(2025, 3, 1)
    with pytest.raises(ValueError, match="无法识别"):
        guazheng.parse_month("March")


def test_the_import_api_reports_row_errors_with_422(cc_officer, cert, employer_a):
    c = client_for(cc_officer)
    bad = xlsx([HEADER, [cert.id_number, "", employer_a.credit_code, employer_a.name, "2025-01", ""]])
    r = c.post("/api/v1/oversight/insurance-imports", {"period_from": "2025-01", "period_to": "2025-12", "file": bad})
    assert r.status_code == 422 and r.json()["errors"][0]["column"] == "姓名"
    good = xlsx([HEADER, row(cert, employer_a)])
    r = c.post("/api/v1/oversight/insurance-imports", {"period_from": "2025-01", "period_to": "2025-12", "file": good})
    assert r.status_code == 200 and r.json()["created"] == 1 and r.json()["batch_id"]
    assert (
        client_for(member(Role.ORG_ADMIN, organisation=employer_a))
        .post("/api/v1/oversight/insurance-imports", {"period_from": "2025-01", "period_to": "2025-12", "file": good})
        .status_code
        == 403
    )


# --- The rules --------------------------------------------------------------------------------------------------------


def test_two_employers_relying_on_one_certificate_at_once_are_flagged(cc_officer, cert, employer_a, employer_b):
    insured(cc_officer, [row(cert, employer_a)])
    a = declare(employer_a, cert, D(2025, 1, 1), D(2025, 12, 31))
    b = declare(employer_b, cert, D(2025, 6, 1))
    multiple = GuazhengFlag.objects.get(rule="multiple_employers")
    assert {multiple.employer, multiple.other_employer} == {employer_a, employer_b}
    assert (multiple.period_start, multiple.period_end) == (D(2025, 6, 1), D(2025, 12, 31))
    evidence = multiple.evidence
    assert {d["id"] for d in evidence["declarations"]} == {a.id, b.id}
    assert evidence["overlap"] == ["2025-06-01", "2025-12-31"]
    assert evidence["insurance_records"][0]["credit_code"] == employer_a.credit_code
    assert cert.id_number not in str(evidence)  # masked, even in the bureau's evidence
    # Employer B pays no insurance for the holder in the months the data covers: a second flag, for B only.
    unpaid = GuazhengFlag.objects.get(rule="no_insurance")
    assert unpaid.employer == employer_b and unpaid.reliance == b
    assert unpaid.evidence["unpaid_months"] == [["2025-06", "2025-12"]]
    assert (unpaid.period_start, unpaid.period_end) == (D(2025, 6, 1), D(2025, 12, 31))
    assert "甲建筑" in unpaid.evidence["summary"]  # who does pay
    assert GuazhengFlag.objects.count() == 2
    assert AuditEntry.objects.filter(action="guazheng.flag_raise").count() == 2


def test_an_employer_that_does_not_pay_the_holders_insurance_is_flagged(cc_officer, cert, employer_a, employer_b):
    insured(cc_officer, [row(cert, employer_a, "2025-01", "2025-04"), row(cert, employer_b, "2025-05", "")])
    declare(employer_a, cert, D(2025, 1, 1), D(2025, 9, 30))
    flag = GuazhengFlag.objects.get()
    assert flag.rule == "no_insurance" and flag.employer == employer_a
    assert flag.evidence["unpaid_months"] == [["2025-05", "2025-09"]]
    assert flag.evidence["checked_months"] == [["2025-01", "2025-09"]]


def test_no_flag_when_declarations_and_insurance_agree(cc_officer, cert, employer_a, employer_b):
    insured(cc_officer, [row(cert, employer_a, "2025-01", "2025-06"), row(cert, employer_b, "2025-07", "")])
    declare(employer_a, cert, D(2025, 1, 1), D(2025, 6, 30))
    declare(employer_b, cert, D(2025, 7, 1))
    assert not GuazhengFlag.objects.exists()


def test_months_no_import_covers_are_not_held_against_anyone(cc_officer, cert, employer_a):
    insured(cc_officer, [row(cert, employer_a, "2025-01", "")])
    declare(employer_a, cert, D(2023, 1, 1))  # 2023–2024 are outside the imported period
    assert not GuazhengFlag.objects.exists()


def test_no_insurance_flags_need_data_from_the_employers_own_region(jlc_officer, cert, employer_a):
    # 吉林市's records say nothing about a 长春 employer's payroll.
    insured(jlc_officer, [[cert.id_number, cert.holder_name, make_uscc(901, "220202"), "吉林某公司", "2025-01", ""]])
    declare(employer_a, cert, D(2025, 1, 1))
    assert not GuazhengFlag.objects.exists()


def test_new_records_clear_a_flag_that_no_longer_holds(
    cc_officer, cert, employer_a, django_capture_on_commit_callbacks
):
    insured(cc_officer, [row(cert, employer_a, "2025-01", "2025-03")])
    declare(employer_a, cert, D(2025, 1, 1), D(2025, 6, 30))
    flag = GuazhengFlag.objects.get()
    assert flag.evidence["unpaid_months"] == [["2025-04", "2025-06"]]
    with django_capture_on_commit_callbacks(execute=True):
        insured(cc_officer, [row(cert, employer_a, "2025-04", "2025-12")])
    flag.refresh_from_db()
    assert flag.status == "cleared"
    assert AuditEntry.objects.filter(action="guazheng.flag_clear", object_id=str(flag.id)).exists()


def test_ending_a_declaration_rescans_the_certificate(cc_officer, cert, employer_a, employer_b):
    insured(cc_officer, [row(cert, employer_a), row(cert, employer_b, "2025-08", "")])
    a = declare(employer_a, cert, D(2025, 1, 1))
    declare(employer_b, cert, D(2025, 8, 1))
    assert GuazhengFlag.objects.get(rule="multiple_employers").status == "open"
    guazheng.reliance_end(actor=Actor.for_user(employer_a.admin), reliance_id=a.id, end=D(2025, 7, 31))
    assert GuazhengFlag.objects.get(rule="multiple_employers").status == "cleared"


def test_a_declaration_needs_the_holders_name_and_a_valid_certificate(cert, employer_a, other_org_admin):
    with pytest.raises(ValidationFailed, match="不匹配"):
        guazheng.reliance_declare(
            actor=Actor.for_user(employer_a.admin),
            employer_id=employer_a.id,
            certificate_number=cert.number,
            holder_name="别人",
            purpose="bidding",
            start=D(2025, 1, 1),
        )
    with pytest.raises(NotFound):
        guazheng.reliance_declare(
            actor=Actor.for_user(other_org_admin),
            employer_id=employer_a.id,
            certificate_number=cert.number,
            holder_name=cert.holder_name,
            purpose="bidding",
            start=D(2025, 1, 1),
        )
    Certificate.objects.filter(pk=cert.pk).update(status="revoked")
    with pytest.raises(Conflict, match="撤销"):
        declare(employer_a, cert, D(2025, 1, 1))


def test_employers_declare_through_the_api_and_see_only_their_own(cert, employer_a, employer_b):
    c = client_for(employer_a.admin)
    r = c.post(
        "/api/v1/oversight/reliances",
        {
            "employer_id": employer_a.id,
            "certificate_number": cert.number.lower(),
            "holder_name": cert.holder_name,
            "purpose": "bidding",
            "start": "2025-03-01",
        },
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["certificate_number"] == cert.number
    declare(employer_b, cert, D(2025, 1, 1))
    assert c.get("/api/v1/oversight/reliances").json()["count"] == 1
    assert client_for(employer_b.admin).get("/api/v1/oversight/reliances").json()["count"] == 1


# --- From flag to case to measures -----------------------------------------------------------------------------------


def test_a_flag_becomes_a_case_whose_outcome_revokes_the_certificate_and_sanctions_the_employers(
    client, cc_officer, cert, employer_a, employer_b
):
    insured(cc_officer, [row(cert, employer_a)])
    declare(employer_a, cert, D(2025, 1, 1))
    declare(employer_b, cert, D(2025, 3, 1))
    flag = GuazhengFlag.objects.get(rule="multiple_employers")
    officer = client_for(cc_officer)
    assert officer.get(f"/oversight/guazheng/flags/{flag.id}/").status_code == 200
    r = officer.post(f"/oversight/guazheng/flags/{flag.id}/investigate/")
    flag.refresh_from_db()
    case = flag.complaint
    assert r.status_code == 302 and r["Location"] == f"/oversight/complaints/{case.id}/"
    assert flag.status == "investigating" and case.kind == "guazheng" and case.source == "detection"
    assert case.status == "investigating" and case.assigned_to == cc_officer and case.tracking_hash is None
    act = Actor.for_user(cc_officer)
    reports.complaint_sanction(
        actor=act, complaint_id=case.id, kind="certificate_revoked", reason="证书出借挂靠", certificate_id=cert.id
    )
    reports.complaint_sanction(
        actor=act, complaint_id=case.id, kind="criticism", reason="使用挂靠证书申报资质", organisation_id=employer_a.id
    )
    reports.complaint_sanction(
        actor=act, complaint_id=case.id, kind="filing_suspended", reason="使用挂靠证书", organisation_id=employer_b.id
    )
    # A non-evaluation employer has no filing to suspend.
    with pytest.raises(Conflict, match="没有有效的备案"):
        reports.complaint_sanction(
            actor=act, complaint_id=case.id, kind="filing_suspended", reason="x", organisation_id=employer_a.id
        )
    verify = client.get(f"/api/v1/verify/{cert.token}").json()
    assert verify["status"] == "revoked" and case.number in verify["status_reason"]
    directory = client.get(f"/api/v1/directory/{employer_b.id}").json()
    assert directory["status"] == "suspended" and case.number in directory["status_reason"]
    assert Sanction.objects.filter(complaint=case).count() == 3
    reports.complaint_close(
        actor=act,
        complaint_id=case.id,
        outcome="substantiated",
        finding="证书持有人与两家单位均无劳动关系,证书被出借用于资质申报。",
        measures="撤销证书;对两家单位通报批评,暂停其中评价机构的备案。",
        reply="—",
        publish=True,
    )
    flag.refresh_from_db()
    assert flag.status == "confirmed"
    html = client.get("/oversight/exposures/").content.decode()
    detail = client.get(f"/oversight/exposures/{case.exposure.id}/").content.decode()
    assert "撤销证书" in detail and cert.holder_name not in detail and cert.holder_name[0] + "*" in detail
    assert cert.id_number not in html + detail


def test_a_dismissed_flag_needs_a_reason_and_stays_dismissed_on_rescan(cc_officer, cert, employer_a):
    declare(employer_a, cert, D(2025, 1, 1), D(2025, 3, 31))
    insured(cc_officer, [row(cert, employer_a, "2025-02", "2025-12")])
    guazheng.guazheng_scan(actor=Actor.for_user(cc_officer))
    flag = GuazhengFlag.objects.get()
    with pytest.raises(ValidationFailed):
        guazheng.flag_dismiss(actor=Actor.for_user(cc_officer), flag_id=flag.id, reason="")
    guazheng.flag_dismiss(actor=Actor.for_user(cc_officer), flag_id=flag.id, reason="1月为试用期,次月起参保")
    guazheng.guazheng_scan(actor=Actor.for_user(cc_officer))
    flag.refresh_from_db()
    assert flag.status == "dismissed"


def test_flags_are_for_the_employers_bureaus_only(
    client, cc_officer, jlc_officer, province_officer, cert, employer_a, employer_b
):
    insured(cc_officer, [row(cert, employer_b)])
    declare(employer_a, cert, D(2025, 1, 1), D(2025, 6, 30))
    flag = GuazhengFlag.objects.get()
    assert client_for(jlc_officer).get(f"/oversight/guazheng/flags/{flag.id}/").status_code == 404
    assert client_for(jlc_officer).get("/api/v1/oversight/guazheng/flags").json()["count"] == 0
    with pytest.raises(NotFound):
        guazheng.flag_investigate(actor=Actor.for_user(jlc_officer), flag_id=flag.id)
    assert client_for(province_officer).get(f"/api/v1/oversight/guazheng/flags/{flag.id}").status_code == 200
    assert client_for(employer_a.admin).get(f"/api/v1/oversight/guazheng/flags/{flag.id}").status_code == 404
    assert client.get("/oversight/guazheng/").status_code == 302
