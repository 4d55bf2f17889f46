"""An employer's bulk claim (every bad row reported, nothing saved unless all are good) and the records the
bureau imports (insurance contributions and training subsidies, matched by ID number)."""

import datetime

import pytest
from django.utils import timezone

from accounts.models import Role
from core.errors import NotFound, PermissionDenied, ValidationFailed
from core.models import AuditEntry, Notification
from subsidies import records, services
from subsidies.models import Claim, InsuranceRecord, TrainingSubsidyRecord
from tests.factories import OrganisationFactory, PersonFactory, make_ric, member, region

from .conftest import A, make_certificate, valid_person, worker_user, xlsx

pytestmark = pytest.mark.django_db
D = datetime.date
HEADER = ["证书编号", "姓名", "证件号码", "人员类别", "失业保险缴费月数", "账户类型", "账号", "开户银行"]


@pytest.fixture
def employer():
    return OrganisationFactory(name="长春测试汽车零部件有限公司", kind="Y", region=region("220104"))


@pytest.fixture
def employer_admin(employer):
    return member(Role.ORG_ADMIN, organisation=employer)


@pytest.fixture
def staff():
    """Three employees with 长春 certificates issued two months ago."""
    issued = timezone.localdate() - datetime.timedelta(days=60)
    return [make_certificate(valid_person(), level=lv, issued_on=issued) for lv in ("5", "4", "3")]


def row(cert, **over):
    values = {
        "number": cert.number,
        "name": cert.holder_name,
        "id": cert.id_number,
        "category": "企业职工",
        "months": 24,
        "kind": "银行卡",
        "account": "6217000010001234567",
        "bank": "中国建设银行",
    }
    values.update(over)
    return list(values.values())


def upload(admin, org, rows):
    return services.claims_bulk_submit(actor=A(admin), organisation_id=org.id, upload=xlsx([HEADER, *rows]))


def test_a_good_file_claims_for_every_employee(employer, employer_admin, staff):
    holder = worker_user(staff[0].person)
    report = upload(employer_admin, employer, [row(c) for c in staff])
    assert report.ok and report.created == 3
    claims = Claim.objects.order_by("level__rank")
    assert [c.status for c in claims] == ["submitted"] * 3
    assert all(c.filed_by_organisation == employer and c.filed_by == employer_admin for c in claims)
    assert all(c.decisions.get().step == "submit" for c in claims)
    assert AuditEntry.objects.get(action="subsidy_claim.bulk_submit").organisation_id == employer.id
    assert Notification.objects.filter(user=holder, title="单位已为您申请技能提升补贴").exists()


def test_bad_rows_are_each_reported_and_nothing_is_saved(employer, employer_admin, staff):
    stranger = make_certificate(valid_person(), issued_on=timezone.localdate() - datetime.timedelta(days=30))
    report = upload(
        employer_admin,
        employer,
        [
            row(staff[0]),
            row(staff[1], category="在校学生"),
            row(staff[2], account="12ab"),
            ["S000000000000000000000", "某某", staff[0].id_number, "企业职工", 24, "银行卡", "6217000010001234567", ""],
            row(stranger, id=staff[0].id_number),
            row(staff[0]),
            row(staff[2], months="一年"),
        ],
    )
    assert not report.ok and report.created == 0
    problems = {e.row: (e.column, e.reason) for e in report.errors}
    assert sorted(problems) == [3, 4, 5, 6, 7, 8]
    assert "全日制在校学生不在补贴范围内" in problems[3][1]
    assert problems[4] == ("账号", "账号应为12—30位数字")
    assert "证书编号S000000000000000000000不存在" in problems[5][1]
    assert problems[6][1] == "姓名或证件号码与证书持有人不一致"
    assert "与第2行" in problems[7][1]
    assert problems[8][0] == "失业保险缴费月数"
    assert not Claim.objects.exists()
    assert report.as_dict()["errors"][0] == {"row": 3, "column": "", "reason": problems[3][1]}


def test_a_row_already_claimed_is_reported(employer, employer_admin, staff):
    holder = worker_user(staff[1].person)
    services.claim_submit(
        actor=A(holder),
        certificate_id=staff[1].id,
        category="employee",
        insurance_months=24,
        account_kind="bank_card",
        account_number="6217000010001234000",
    )
    report = upload(employer_admin, employer, [row(c) for c in staff])
    assert [e.row for e in report.errors] == [3] and "已有" in report.errors[0].reason
    assert Claim.objects.count() == 1


def test_only_employers_claim_for_staff(staff, org, org_admin, employer, other_org_admin):
    with pytest.raises(PermissionDenied, match="用人单位"):
        upload(org_admin, org, [row(staff[0])])  # a social evaluation organisation (S)
    with pytest.raises(NotFound):
        upload(other_org_admin, employer, [row(staff[0])])
    assessor = member(Role.ASSESSOR, organisation=employer)
    with pytest.raises(PermissionDenied):
        upload(assessor, employer, [row(staff[0])])


def test_a_file_that_is_not_a_spreadsheet_is_refused(employer, employer_admin):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with pytest.raises(ValidationFailed, match="xlsx"):
        services.claims_bulk_submit(
            actor=A(employer_admin), organisation_id=employer.id, upload=SimpleUploadedFile("a.csv", b"a,b\n")
        )
    with pytest.raises(ValidationFailed, match="表头缺少列"):
        services.claims_bulk_submit(actor=A(employer_admin), organisation_id=employer.id, upload=xlsx([["姓名"]]))


# --- Records the bureau imports ----------------------------------------------------------------------------

INSURANCE = ["姓名", "证件号码", "失业保险累计缴费月数", "截至日期", "领取失业保险金"]


def test_insurance_records_match_people_by_id_number(cc_officer):
    known = valid_person()
    other = PersonFactory.build(id_number=make_ric(region="220104", birth=datetime.date(1988, 3, 3), seq=7))
    report = records.insurance_records_import(
        actor=A(cc_officer),
        upload=xlsx(
            [
                INSURANCE,
                [known.name, known.id_number, 18, "2026-10-31", "否"],
                [other.name, other.id_number, 30, "2026-10-31", ""],
            ]
        ),
    )
    assert report.ok and (report.created, report.unmatched) == (1, 1)
    record = InsuranceRecord.objects.get()
    assert (record.person, record.months, record.region.code) == (known, 18, "220100")
    again = records.insurance_records_import(
        actor=A(cc_officer), upload=xlsx([INSURANCE, [known.name, known.id_number, 19, "2026-10-31", "是"]])
    )
    assert again.ok and InsuranceRecord.objects.get().months == 19
    assert InsuranceRecord.objects.get().receives_unemployment_benefit


def test_bad_insurance_rows_save_nothing(cc_officer):
    known = valid_person()
    future = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    report = records.insurance_records_import(
        actor=A(cc_officer),
        upload=xlsx(
            [
                INSURANCE,
                [known.name, known.id_number, 18, "2026-10-31", "否"],
                ["错误姓名", known.id_number, 18, "2026-10-31", "否"],
                [known.name, "220102199013011234", 18, "2026-10-31", "否"],
                [known.name, known.id_number, "十八", "2026-10-31", "否"],
                [known.name, known.id_number, 18, future, "否"],
                [known.name, known.id_number, 18, "2026-10-31", "也许"],
            ]
        ),
    )
    assert [e.row for e in report.errors] == [3, 4, 5, 6, 7] and report.created == 0
    assert not InsuranceRecord.objects.exists()


def test_only_bureau_staff_import_records(org_admin, jlc_officer, cc_officer):
    with pytest.raises(PermissionDenied):
        records.insurance_records_import(actor=A(org_admin), upload=xlsx([INSURANCE]))
    with pytest.raises(NotFound):
        records.insurance_records_import(actor=A(jlc_officer), upload=xlsx([INSURANCE]), region_code="220100")


def test_an_imported_training_subsidy_blocks_the_same_skill(cc_officer):
    worker = worker_user(valid_person())
    cert = make_certificate(worker.person, level="4", issued_on=timezone.localdate() - datetime.timedelta(days=10))
    report = records.training_subsidies_import(
        actor=A(cc_officer),
        upload=xlsx(
            [
                ["姓名", "证件号码", "职业编码", "等级", "享受日期", "金额"],
                [worker.person.name, worker.person.id_number, "6-31-01-03", "四级", "2026-05-20", 1200],
                [worker.person.name, worker.person.id_number, "9-99-99-99", "", "2026-05-20", ""],
            ]
        ),
    )
    assert [e.row for e in report.errors] == [3]
    report = records.training_subsidies_import(
        actor=A(cc_officer),
        upload=xlsx(
            [
                ["姓名", "证件号码", "职业编码", "等级", "享受日期", "金额"],
                [worker.person.name, worker.person.id_number, "6-31-01-03", "四级/中级工", "2026-05-20", 1200],
            ]
        ),
    )
    assert report.ok and TrainingSubsidyRecord.objects.get().level.code == "4"
    _claim, decision = services.claim_preview(actor=A(worker), certificate_id=cert.id, insurance_months=24)
    assert [r.code for r in decision.failures] == ["training_subsidy"]
