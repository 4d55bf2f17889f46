"""数据上报 (bureau report), an organisation's issuance history, and the import of historical certificates."""

import csv
import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from accounts.models import Person
from certificates.models import Certificate
from certificates.reporting import REPORT_HEADERS
from core.models import AuditEntry
from tests.certificates.test_credentials import verify_jwt
from tests.conftest import client_for
from tests.factories import make_ric

pytestmark = pytest.mark.django_db

REPORT = "/api/v1/certificates/report"
HISTORY = "/api/v1/certificates/history"
IMPORT = "/api/v1/certificates/import"
IMPORT_HEADERS = [
    "证书编号",
    "证书类别",
    "姓名",
    "证件类型",
    "证件号码",
    "职业编码",
    "职业名称",
    "等级",
    "发证机构",
    "发证日期",
    "有效期至",
]
OLD_ID = make_ric(region="220102", birth=datetime.date(1986, 3, 9), seq=17)


@pytest.fixture
def certs(finalised_plan, org_admin, issue) -> list[Certificate]:
    issue(finalised_plan, org_admin)
    return list(Certificate.objects.order_by("number"))


def workbook(rows: list[list], headers: list[str] = IMPORT_HEADERS) -> SimpleUploadedFile:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("历史证书.xlsx", buf.getvalue())


def qualification_row(number: str = "2201000300012345", **changes) -> list:
    row = {
        "证书编号": number,
        "证书类别": "职业资格证书",
        "姓名": "赵德明",
        "证件类型": "居民身份证",
        "证件号码": OLD_ID,
        "职业编码": "6-31-01-03",
        "职业名称": "维修电工",
        "等级": "高级",
        "发证机构": "吉林省职业技能鉴定指导中心",
        "发证日期": "2012-06-30",
        "有效期至": "",
    }
    row.update(changes)
    return [row[h] for h in IMPORT_HEADERS]


def upload(user, rows: list[list], **data):
    return client_for(user).post(IMPORT, {"file": workbook(rows), **data})


def csv_rows(response) -> tuple[bytes, list[list[str]]]:
    body = b"".join(response.streaming_content)
    return body, list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


# --- 数据上报 ----------------------------------------------------------------------------------------------


def test_the_bureau_report_is_a_csv_with_bom_and_full_id_numbers(certs, cc_officer):
    r = client_for(cc_officer).get(REPORT, {"format": "csv"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert "attachment" in r["Content-Disposition"]
    body, rows = csv_rows(r)
    assert body.startswith(b"\xef\xbb\xbf")
    assert rows[0] == REPORT_HEADERS
    by_number = {row[0]: dict(zip(REPORT_HEADERS, row, strict=True)) for row in rows[1:]}
    assert set(by_number) == {c.number for c in certs}
    c = certs[0]
    line = by_number[c.number]
    assert line["证件号码"] == c.id_number and "*" not in line["证件号码"]
    assert line["姓名"] == c.holder_name and line["证件类型"] == "居民身份证"
    assert line["职业编码"] == "6-31-01-03" and line["职业名称"] == "电工"
    assert line["等级"] in ("三级/高级工", "四级/中级工") and line["状态"] == "有效"
    assert line["评价机构名称"] == "长春测试评价机构" and line["统一社会信用代码"] == c.organisation.credit_code
    assert line["发证日期"] == c.issued_on.isoformat()
    assert AuditEntry.objects.filter(action="certificate.report_export").count() == 1


def test_the_xlsx_report_opens_in_openpyxl(certs, cc_officer):
    r = client_for(cc_officer).get(REPORT, {"format": "xlsx", "region": "220100"})
    assert r.status_code == 200 and r["Content-Type"].endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(r.content), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == REPORT_HEADERS
    assert sorted(row[0] for row in rows[1:]) == sorted(c.number for c in certs)
    assert {row[3] for row in rows[1:]} == {c.id_number for c in certs}


def test_a_changchun_officer_reports_only_changchun(certs, cc_officer, jlc_officer):
    assert upload(jlc_officer, [qualification_row()]).status_code == 200  # registered in 吉林市
    jilin = Certificate.objects.get(number="2201000300012345")
    assert jilin.region_code == "220200"

    _body, rows = csv_rows(client_for(cc_officer).get(REPORT, {"format": "csv"}))
    numbers = {row[0] for row in rows[1:]}
    assert numbers == {c.number for c in certs} and jilin.number not in numbers

    _body, rows = csv_rows(client_for(jlc_officer).get(REPORT, {"format": "csv"}))
    assert [row[0] for row in rows[1:]] == [jilin.number]

    for region in ("220200", "220202", "999999"):
        r = client_for(cc_officer).get(REPORT, {"format": "csv", "region": region})
        assert r.status_code == 404 and r.json()["code"] == "not_found", region


def test_the_report_filters_by_issue_date(certs, cc_officer):
    today = timezone.localdate()
    c = client_for(cc_officer)
    _body, rows = csv_rows(c.get(REPORT, {"format": "csv", "since": today.isoformat(), "until": today.isoformat()}))
    assert len(rows) == 1 + len(certs)
    tomorrow = (today + datetime.timedelta(days=1)).isoformat()
    _body, rows = csv_rows(c.get(REPORT, {"format": "csv", "since": tomorrow}))
    assert rows == [REPORT_HEADERS]
    r = c.get(REPORT, {"since": tomorrow, "until": today.isoformat()})
    assert r.status_code == 422 and r.json()["code"] == "validation_failed"
    assert c.get(REPORT, {"format": "pdf"}).status_code == 422


def test_only_bureau_staff_get_the_report(client, certs, org_admin):
    r = client_for(org_admin).get(REPORT, {"format": "csv"})
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    assert certs[0].id_number not in r.content.decode()
    assert client.get(REPORT).status_code == 401


def test_spreadsheet_formulas_are_neutralised(cc_officer):
    assert upload(cc_officer, [qualification_row(发证机构="+SUM(1,2)鉴定站")]).status_code == 200
    r = client_for(cc_officer).get(REPORT, {"format": "xlsx"})
    cell = next(load_workbook(io.BytesIO(r.content)).worksheets[0].iter_rows(min_row=2))[8]
    assert (cell.value, cell.data_type) == ("+SUM(1,2)鉴定站", "s")  # text, exactly as recorded; not a formula
    csv_text = client_for(cc_officer).get(REPORT, {"format": "csv"}).getvalue().decode("utf-8-sig")
    assert "'+SUM(1,2)鉴定站" in csv_text  # CSV has no cell types: a leading apostrophe


# --- issuance history ---------------------------------------------------------------------------------------


def test_an_organisation_sees_its_issuance_by_month_and_level(certs, org, org_admin):
    r = client_for(org_admin).get(HISTORY)
    assert r.status_code == 200
    month = timezone.localdate().strftime("%Y-%m")
    assert r.json() == {
        "items": [
            {"organisation_id": org.id, "month": month, "level": "三级/高级工", "level_code": "3", "count": 3},
            {"organisation_id": org.id, "month": month, "level": "四级/中级工", "level_code": "4", "count": 4},
        ],
        "count": 2,
    }
    assert "id_number" not in r.content.decode()


def test_history_of_another_organisation_is_hidden(client, certs, org, other_org_admin, cc_officer):
    r = client_for(other_org_admin).get(HISTORY)
    assert r.status_code == 200 and r.json() == {"items": [], "count": 0}
    assert client_for(other_org_admin).get(HISTORY, {"organisation_id": org.id}).status_code == 404
    assert client_for(cc_officer).get(HISTORY).status_code == 403
    assert client.get(HISTORY).status_code == 401


# --- historical imports ---------------------------------------------------------------------------------------


def test_historical_certificates_are_imported_and_verify_as_valid(client, cc_officer):
    skill_id = make_ric(region="220102", birth=datetime.date(1985, 11, 2), seq=44)
    rows = [
        qualification_row(),
        qualification_row(
            "22010024000102",
            证书类别="职业技能等级证书",
            姓名="钱小红",
            证件号码=skill_id,
            职业编码="",
            职业名称="中式烹调师",
            等级="四级",
            发证机构="",
            发证日期="2021/9/1",
            有效期至="",
        ),
    ]
    rows.append(qualification_row("2201000200009876", 等级="国家职业资格二级\uff08技师\uff09"))
    r = upload(cc_officer, rows, organisation_name="长春市职业技能鉴定中心")
    assert r.status_code == 200, r.json()
    assert r.json() == {"total": 3, "created": 3, "errors": []}
    assert Certificate.objects.get(number="2201000200009876").level.code == "2"

    old = Certificate.objects.select_related("level", "occupation").get(number="2201000300012345")
    assert old.imported and old.kind == Certificate.Kind.QUALIFICATION and old.organisation is None
    assert old.region_code == "220100" and old.level.code == "3" and old.occupation.code == "6-31-01-03"
    assert old.organisation_name == "吉林省职业技能鉴定指导中心" and old.issued_on == datetime.date(2012, 6, 30)
    new = Certificate.objects.select_related("level").get(number="22010024000102")
    assert new.kind == Certificate.Kind.SKILL_LEVEL and new.level.code == "4" and new.occupation is None
    assert new.organisation_name == "长春市职业技能鉴定中心"  # the form's default for an empty 发证机构
    assert Person.objects.filter(id_number__in=[OLD_ID, skill_id]).count() == 2

    data = client.get(f"/api/v1/verify/{old.token}").json()
    assert data["status"] == "valid"
    assert data["certificate"]["imported"] is True and data["certificate"]["kind"] == "职业资格证书(改革前)"
    assert data["certificate"]["level"] == "三级/高级工" and data["certificate"]["id_number"] != OLD_ID
    page = client.get(f"/v/{old.token}").content.decode()
    assert 'data-status="valid"' in page and "继续作为能力水平的证明" in page
    assert AuditEntry.objects.filter(action="certificate.import").count() == 1


def test_an_imported_certificate_exports_as_a_credential(client, cc_officer):
    assert upload(cc_officer, [qualification_row()]).status_code == 200
    cert = Certificate.objects.get(number="2201000300012345")
    r = client_for(cc_officer).get(f"/api/v1/certificates/{cert.id}/credential", HTTP_ACCEPT="application/json")
    assert r.status_code == 200
    _header, vc = verify_jwt(client, r.json()["jwt"])
    assert vc["issuer"]["name"] == "吉林省职业技能鉴定指导中心" and vc["iss"] == vc["issuer"]["id"]
    assert "改革前" in vc["credentialSubject"]["achievement"]["description"]


def test_bad_rows_are_reported_and_nothing_is_saved(certs, cc_officer):
    existing = certs[0]
    Person.objects.create(name="孙立", id_type="ric", id_number=make_ric(birth=datetime.date(1987, 1, 1), seq=5))
    people_before = Person.objects.count()
    rows = [
        qualification_row(),  # 2: good
        qualification_row("2201000300012346", 证件号码=OLD_ID[:-1] + ("0" if OLD_ID[-1] != "0" else "1")),  # 3
        qualification_row("2201000300012347", 等级="特等"),  # 4
        qualification_row(existing.number),  # 5: already registered
        qualification_row("2201000300012345"),  # 6: same number as row 2
        qualification_row("2201000300012348", 证件号码=make_ric(birth=datetime.date(1987, 1, 1), seq=5)),  # 7
        qualification_row("2201000300012349", 发证日期="2099-01-01"),  # 8
        qualification_row("2201000300012350", 证书类别="培训合格证"),  # 9
        qualification_row("abc-123"),  # 10
        qualification_row("2201000300012351", 姓名="赵德民"),  # 11: same ID as row 2, other name
    ]
    r = upload(cc_officer, rows)
    assert r.status_code == 422
    report = r.json()
    assert report["total"] == 10 and report["created"] == 0
    errors = {e["row"]: e for e in report["errors"]}
    assert sorted(errors) == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert "校验位" in errors[3]["reason"] and errors[3]["column"] == "证件号码"
    assert "特等" in errors[4]["reason"] and errors[4]["column"] == "等级"
    assert "已在平台登记" in errors[5]["reason"]
    assert "第2行" in errors[6]["reason"]
    assert "另一姓名" in errors[7]["reason"]
    assert "晚于今天" in errors[8]["reason"]
    assert errors[9]["column"] == "证书类别"
    assert errors[10]["column"] == "证书编号"
    assert "第2行" in errors[11]["reason"] and errors[11]["column"] == "姓名"
    assert not Certificate.objects.filter(imported=True).exists()
    assert Person.objects.count() == people_before


def test_a_missing_column_or_a_wrong_file_is_refused(cc_officer):
    r = client_for(cc_officer).post(IMPORT, {"file": workbook([["x"]], headers=["证书编号"])})
    assert r.status_code == 422 and "证书类别" in r.json()["message"]
    r = client_for(cc_officer).post(IMPORT, {"file": SimpleUploadedFile("a.csv", b"a,b\n1,2\n")})
    assert r.status_code == 422 and "xlsx" in r.json()["message"]


def test_only_bureau_staff_import(client, org_admin, cc_officer):
    r = upload(org_admin, [qualification_row()])
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    assert client.post(IMPORT, {"file": workbook([qualification_row()])}).status_code == 401
    r = upload(cc_officer, [qualification_row()], region="220200")
    assert r.status_code == 404  # 吉林市 is not 长春's to register in
    assert not Certificate.objects.exists()
    template = client_for(cc_officer).get("/api/v1/certificates/import/template")
    assert template.status_code == 200
    headers = next(load_workbook(io.BytesIO(template.content)).worksheets[0].iter_rows(values_only=True))
    assert "证书编号" in headers and "有效期至" in headers
    assert client_for(org_admin).get("/api/v1/certificates/import/template").status_code == 403
