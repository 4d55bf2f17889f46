"""Pages and API from each user's side: the owner, another tenant, the anonymous visitor; masked personal data."""

import datetime
import json
import re

import pytest
from django.utils import timezone

from accounts.models import Role
from subsidies import payments, services
from subsidies.models import Claim, Objection
from tests.conftest import client_for
from tests.factories import OrganisationFactory, member, region

from .conftest import ACCOUNT, A, make_certificate, shortage, submit, valid_person, worker_user, xlsx

pytestmark = [pytest.mark.django_db]
D = datetime.date
API = "/api/v1/subsidies"


def masked(id_number: str) -> str:
    return id_number[:6] + "*" * 8 + id_number[-4:]


@pytest.fixture
def claim(holder):
    return submit(holder, holder.cert)


# --- The worker's pages ----------------------------------------------------------------------------------


def test_the_worker_claims_from_the_certificate_page(holder):
    cert, c = holder.cert, client_for(holder)
    html = c.get("/subsidies/").content.decode()
    assert cert.number in html and f"/subsidies/certificates/{cert.id}/claim/" in html
    r = c.get(f"/subsidies/certificates/{cert.id}/claim/")
    html = r.content.decode()
    assert r.status_code == 200 and cert.holder_name in html and masked(cert.id_number) in html
    assert cert.id_number not in html
    assert "资格预审" in html and "参保条件" in html
    # Nothing declared yet: the only rule left to the officer is 证岗相适 (长春's 2026 demo version checks it).
    assert html.count('badge warn">待核实') == 1 and "转经办人员核实" in html
    r = c.post(
        f"/subsidies/certificates/{cert.id}/claim/",
        {
            "category": "employee",
            "insurance_months": "24",
            "account_kind": "bank_card",
            "account_number": ACCOUNT,
            "bank_name": "中国银行",
            "region_code": "220102",
        },
    )
    claim = Claim.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/subsidies/claims/{claim.id}/"
    html = c.get(r["Location"]).content.decode()
    assert "待核定" in html and "*" * 15 + "4567" in html and ACCOUNT not in html
    assert masked(cert.id_number) in html and cert.id_number not in html
    assert 'class="rule rule-insurance"' in html and "待核实" in html
    assert "撤回申请" in html and 'id="officer-actions"' not in html


def test_preview_does_not_submit_and_refusal_shows_why(holder):
    c, cert = client_for(holder), holder.cert
    url = f"/subsidies/certificates/{cert.id}/claim/"
    r = c.post(url, {"preview": "1", "category": "student", "insurance_months": "24"})
    assert r.status_code == 200 and "全日制在校学生不在补贴范围内" in r.content.decode()
    r = c.post(
        url, {"category": "student", "insurance_months": "24", "account_kind": "bank_card", "account_number": ACCOUNT}
    )
    assert r.status_code == 409 and "不符合补贴条件" in r.content.decode()
    assert not Claim.objects.exists()


def test_other_people_and_visitors_get_nothing(claim, holder, issued):
    stranger = client_for(worker_user())
    assert stranger.get(f"/subsidies/claims/{claim.id}/").status_code == 404
    assert stranger.get(f"/subsidies/certificates/{holder.cert.id}/claim/").status_code == 404
    assert stranger.post(f"/subsidies/claims/{claim.id}/withdraw/").status_code == 404
    assert Claim.objects.get(pk=claim.id).status == "submitted"
    anonymous = client_for()
    for url in ("/subsidies/", f"/subsidies/claims/{claim.id}/", "/subsidies/queue/", "/subsidies/employer/"):
        r = anonymous.get(url)
        assert r.status_code == 302 and r["Location"].startswith("/login/"), url


def test_the_officer_sees_the_full_id_number_and_acts(claim, holder, cc_officer, cc_officer2, jlc_officer):
    officer = client_for(cc_officer)
    html = officer.get(f"/subsidies/claims/{claim.id}/").content.decode()
    assert holder.cert.id_number in html and ACCOUNT not in html and 'id="officer-actions"' in html
    officer.post(f"/subsidies/claims/{claim.id}/review/", {"decision": "pass", "reason": "材料齐全"})
    assert Claim.objects.get(pk=claim.id).status == "reviewed"
    html = officer.get(f"/subsidies/claims/{claim.id}/").content.decode()
    assert "复核须由另一名工作人员办理" in html
    r = officer.post(f"/subsidies/claims/{claim.id}/second-review/", {"decision": "pass"}, follow=True)
    assert "核定人以外的另一名工作人员" in r.content.decode()
    assert Claim.objects.get(pk=claim.id).status == "reviewed"
    client_for(cc_officer2).post(f"/subsidies/claims/{claim.id}/second-review/", {"decision": "pass"})
    assert Claim.objects.get(pk=claim.id).status == "publicity"
    assert client_for(jlc_officer).get(f"/subsidies/claims/{claim.id}/").status_code == 404
    assert client_for(jlc_officer).post(f"/subsidies/claims/{claim.id}/reject/", {"reason": "x"}).status_code == 404


def test_the_queue_highlights_overdue_claims(worker, cc_officer, jlc_officer):
    late = submit(worker, make_certificate(worker.person, issued_on=D(2025, 6, 2)), today=D(2025, 9, 26))
    html = client_for(cc_officer).get("/subsidies/queue/").content.decode()
    assert f'<tr class="overdue" data-claim="{late.id}">' in html and "已超期" in html
    assert f'data-claim="{late.id}"' not in client_for(jlc_officer).get("/subsidies/queue/").content.decode()
    assert client_for(worker).get("/subsidies/queue/").status_code == 403
    only = client_for(cc_officer).get("/subsidies/queue/?overdue=1").content.decode()
    assert f'data-claim="{late.id}"' in only


# --- The employer ----------------------------------------------------------------------------------------


@pytest.fixture
def employer_admin():
    org = OrganisationFactory(name="长春测试汽车零部件有限公司", kind="Y", region=region("220104"))
    user = member(Role.ORG_ADMIN, organisation=org)
    user.org = org
    return user


def test_the_employer_page_reports_bad_rows(employer_admin, org_admin):
    cert = make_certificate(valid_person(), issued_on=timezone.localdate() - datetime.timedelta(days=20))
    c = client_for(employer_admin)
    assert c.get("/subsidies/employer/").status_code == 200
    header = ["证书编号", "姓名", "证件号码", "失业保险缴费月数", "账号"]
    r = c.post(
        "/subsidies/employer/",
        {"file": xlsx([header, [cert.number, cert.holder_name, cert.id_number, 24, "123"]])},
    )
    assert r.status_code == 422 and 'id="import-errors"' in r.content.decode() and "12—30位数字" in r.content.decode()
    r = c.post(
        "/subsidies/employer/", {"file": xlsx([header, [cert.number, cert.holder_name, cert.id_number, 24, ACCOUNT]])}
    )
    assert r.status_code == 302 and Claim.objects.get().filed_by_organisation == employer_admin.org
    html = c.get(r["Location"]).content.decode()
    assert masked(cert.id_number) in html and ACCOUNT not in html
    assert client_for(org_admin).get("/subsidies/employer/").status_code == 403  # a social organisation (S)
    assert client_for(org_admin).get(f"/subsidies/employer/{employer_admin.org.id}/").status_code == 404
    assert c.get("/subsidies/bulk-template.xlsx")["Content-Type"].startswith("application/vnd.openxml")


# --- Payments, statistics --------------------------------------------------------------------------------


@pytest.fixture
def paid_batch(worker, cc_officer, cc_officer2):
    cert = make_certificate(worker.person, issued_on=D(2025, 6, 2))
    claim = submit(worker, cert, today=D(2025, 9, 26))
    services.claim_review(actor=A(cc_officer), claim_id=claim.id, decision="pass", today=D(2025, 9, 28))
    services.claim_second_review(actor=A(cc_officer2), claim_id=claim.id, decision="pass", today=D(2025, 9, 29))
    services.claim_approve(actor=A(cc_officer), claim_id=claim.id, today=D(2025, 10, 14))
    batch = payments.batch_create(actor=A(cc_officer), month="2025-10")
    batch.claim = claim
    return batch


def test_batch_pages_mask_accounts_and_the_bank_file_has_them(paid_batch, cc_officer, jlc_officer):
    c = client_for(cc_officer)
    html = c.get(f"/subsidies/batches/{paid_batch.id}/").content.decode()
    assert "*" * 15 + "4567" in html and ACCOUNT not in html
    r = c.get(f"/subsidies/batches/{paid_batch.id}/bank.xlsx")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxml")
    r = c.post(f"/subsidies/batches/{paid_batch.id}/claims/{paid_batch.claim.id}/paid/", {"bank_reference": "ICBC-1"})
    assert r.status_code == 302 and Claim.objects.get(pk=paid_batch.claim.id).status == "paid"
    assert client_for(jlc_officer).get(f"/subsidies/batches/{paid_batch.id}/").status_code == 404
    assert client_for(jlc_officer).get(f"/subsidies/batches/{paid_batch.id}/bank.xlsx").status_code == 404


def test_statistics_draw_their_own_chart(paid_batch, cc_officer, worker):
    r = client_for(cc_officer).get("/subsidies/statistics/?year=2025")
    html = r.content.decode()
    assert r.status_code == 200 and '<svg class="chart" id="chart-month"' in html
    assert re.findall(r"<script[^>]*>", html) == [
        '<script src="/static/js/site.js" defer>',
        '<script src="/static/js/picker.js" defer>',
    ]  # the site's own only
    assert "四级/中级工" in html and "1950" in html
    assert client_for(worker).get("/subsidies/statistics/").status_code == 403


# --- Public pages ----------------------------------------------------------------------------------------


def test_publicity_is_public_and_masked_and_takes_objections(worker, cc_officer, cc_officer2):
    today = timezone.localdate()
    cert = make_certificate(worker.person, issued_on=today - datetime.timedelta(days=30))
    claim = submit(worker, cert, today=today - datetime.timedelta(days=2))
    services.claim_review(actor=A(cc_officer), claim_id=claim.id, decision="pass", today=today)
    services.claim_second_review(actor=A(cc_officer2), claim_id=claim.id, decision="pass", today=today)
    anonymous = client_for()
    html = anonymous.get("/subsidies/publicity/").content.decode()
    name = worker.person.name
    assert f"{name[0]}{'*' * (len(name) - 1)}" in html and name not in html
    assert masked(worker.person.id_number) in html and worker.person.id_number not in html
    r = anonymous.post(f"/subsidies/publicity/{claim.id}/object/", {"text": "请核实", "contact": ""})
    assert r.status_code == 302 and Objection.objects.get().claim == claim
    api = anonymous.get(f"{API}/publicity").json()
    assert api["items"][0]["name"].endswith("*") and "*" in api["items"][0]["id_number"]
    # A national list, filtered with the region picker: by code, or by what was typed (its best match).
    assert 'data-picker="region"' in html
    for typed in ("220100", "长春市", "ccs"):
        assert masked(worker.person.id_number) in anonymous.get("/subsidies/publicity/", {"region": typed}).text
    for typed in ("220200", "吉林市"):
        assert masked(worker.person.id_number) not in anonymous.get("/subsidies/publicity/", {"region": typed}).text


def test_policies_are_public(client):
    html = client.get("/subsidies/policies/").content.decode()
    assert "厦门市技能提升补贴" in html and "700" in html and "急需紧缺职业(工种)补贴标准上浮30%" in html
    data = client.get(f"{API}/policies").json()
    xiamen = next(p for p in data if p["code"] == "xm-2024")
    assert [a["amount"] for a in xiamen["amounts"]] == ["3000.00", "2000.00", "1500.00", "1000.00", "700.00"]


# --- API -------------------------------------------------------------------------------------------------


def test_api_claim_lifecycle_for_owner_other_and_anonymous(holder, issued, cc_officer):
    cert, c = holder.cert, client_for(holder)
    shortage("6-31-01-03", timezone.localdate().year)
    preview = c.get(f"{API}/claims/preview", {"certificate_id": cert.id, "insurance_months": 24}).json()
    assert preview["assessment"]["eligible"] is True and preview["assessment"]["amount"] == "1950"
    body = {"certificate_id": cert.id, "insurance_months": 24, "account_kind": "bank_card", "account_number": ACCOUNT}
    r = c.post(f"{API}/claims", json.dumps(body), content_type="application/json")
    assert r.status_code == 201, r.content
    data = r.json()
    assert data["account_number"] == "*" * 15 + "4567" and data["id_number"] == masked(cert.id_number)
    assert data["assessment"]["policy"]["code"] == "cc-2026-demo" and data["current"]["calculation"]["amount"] == "1950"
    again = c.post(f"{API}/claims", json.dumps(body), content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "not_eligible"
    assert any(not rule["met"] for rule in again.json()["details"]["assessment"]["rules"])
    url = f"{API}/claims/{data['id']}"
    assert c.get(url).status_code == 200
    other = client_for(worker_user()).get(url)
    assert other.status_code == 404 and other.json()["code"] == "not_found"
    anonymous = client_for().get(url)
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "not_authenticated"
    assert client_for(cc_officer).get(f"{API}/queue").json()["items"][0]["id"] == data["id"]
    student = {**body, "certificate_id": issued[1].id}
    r = client_for(worker_user(issued[1].person)).post(
        f"{API}/claims", json.dumps({**student, "category": "student"}), content_type="application/json"
    )
    assert r.status_code == 409 and r.json()["details"]["assessment"]["eligible"] is False


def test_api_review_by_another_officer_only(claim, cc_officer, cc_officer2, jlc_officer):
    review = {"decision": "pass", "reason": ""}
    r = client_for(jlc_officer).post(f"{API}/claims/{claim.id}/review", review, content_type="application/json")
    assert r.status_code == 404
    c = client_for(cc_officer)
    assert c.post(f"{API}/claims/{claim.id}/review", review, content_type="application/json").status_code == 200
    r = c.post(f"{API}/claims/{claim.id}/second-review", review, content_type="application/json")
    assert r.status_code == 403 and r.json()["code"] == "same_officer"
    r = client_for(cc_officer2).post(f"{API}/claims/{claim.id}/second-review", review, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "publicity"
    r = c.post(f"{API}/claims/{claim.id}/approve", {"reason": ""}, content_type="application/json")
    assert r.status_code == 409 and r.json()["code"] == "publicity_running"


def test_api_bulk_and_statistics(employer_admin, cc_officer):
    cert = make_certificate(valid_person(), issued_on=timezone.localdate() - datetime.timedelta(days=20))
    c = client_for(employer_admin)
    header = ["证书编号", "姓名", "证件号码", "账号", "失业保险缴费月数"]
    org_id = employer_admin.org.id
    no_months = xlsx([header, [cert.number, cert.holder_name, cert.id_number, ACCOUNT, None]])
    bad = c.post(f"{API}/claims/bulk", {"organisation_id": org_id, "file": no_months})
    assert bad.status_code == 422 and bad.json()["errors"][0]["row"] == 2
    assert "未提供失业保险缴费月数" in bad.json()["errors"][0]["reason"]
    good_file = xlsx([header, [cert.number, cert.holder_name, cert.id_number, ACCOUNT, 13]])
    good = c.post(f"{API}/claims/bulk", {"organisation_id": org_id, "file": good_file})
    assert good.status_code == 200 and good.json()["created"] == 1
    assert c.get(f"{API}/claims").json()["items"][0]["account_number"].endswith("4567")
    stats = client_for(cc_officer).get(f"{API}/statistics").json()
    assert stats["total"] == 1 and stats["approved"] == 0
    assert c.get(f"{API}/statistics").status_code == 403
