"""The pages of issue 16's remainders: a worker declares a certificate held outside the platform and the bureau of
the region verifies it; a bureau officer reads the fund's budget (committed, paid, remaining) and records a
supplement. From each side: the owner, another region's officer, another worker, the anonymous visitor."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from core.models import AuditEntry, Notification
from subsidies import budgets, records
from subsidies.models import BudgetSupplement, Claim, DeclaredCertificate, FundBudget
from tests.conftest import client_for

from .conftest import A, make_certificate, valid_person, worker_user
from .test_money import approved_claim

pytestmark = pytest.mark.django_db
D = datetime.date

DECLARATION = {
    "occupation_code": "6-31-01-03",
    "level_code": "3",
    "number": "GD2020123456",
    "issuer": "广东省职业技能鉴定指导中心",
    "issued_on": "2020-06-01",
    "region_code": "220102",
}


@pytest.fixture
def declarant():
    return worker_user(valid_person())


def declare(user, **changes) -> DeclaredCertificate:
    return records.declared_certificate_declare(actor=A(user), **{**DECLARATION, **changes})


# --- The worker's declaration page ---------------------------------------------------------------------------------


def test_a_worker_declares_a_certificate_and_sees_it_pending(declarant):
    c = client_for(declarant)
    assert c.get("/subsidies/declared/").status_code == 200
    r = c.post("/subsidies/declared/", DECLARATION)
    declared = DeclaredCertificate.objects.get()
    assert r.status_code == 302 and r["Location"] == "/subsidies/declared/"
    assert declared.person == declarant.person and declared.status == "pending"
    assert declared.region.code == "220102" and declared.recorded_by == declarant
    html = c.get("/subsidies/declared/").content.decode()
    assert "GD2020123456" in html and "待核实" in html and f"/subsidies/declared/{declared.id}/withdraw/" in html
    entry = AuditEntry.objects.get(action="subsidy_declared_certificate.declare")
    assert entry.actor == declarant and entry.object_id == str(declared.id)


def test_every_wrong_field_is_named_beside_it_and_nothing_is_saved(declarant):
    future = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    r = client_for(declarant).post(
        "/subsidies/declared/",
        {"occupation_code": "9-99-99-99", "level_code": "", "number": "", "issued_on": future, "region_code": ""},
    )
    html = r.content.decode()
    assert r.status_code == 422 and not DeclaredCertificate.objects.exists()
    assert "请修改以下5处后重新提交" in html
    for field, message in [
        ("occupation_code", "请选择职业"),
        ("level_code", "请选择证书等级"),
        ("number", "请填写证书编号"),
        ("issued_on", "发证日期不能晚于今天"),
        ("region_code", "请选择参保地"),
    ]:
        assert f'id="{field}-error">{message}' in html, field
    # What was typed stays in the form.
    assert f'value="{future}"' in html


def test_a_malformed_date_and_a_number_declared_twice_are_refused_by_field(declarant):
    declare(declarant)
    r = client_for(declarant).post("/subsidies/declared/", {**DECLARATION, "issued_on": "2020-13-45"})
    html = r.content.decode()
    assert r.status_code == 422 and DeclaredCertificate.objects.count() == 1
    assert 'id="issued_on-error">发证日期格式应为' in html and 'id="number-error">该人员已登记过此证书编号' in html


def test_a_worker_sees_only_their_own_declarations(declarant):
    mine = declare(declarant)
    other = worker_user(valid_person())
    theirs = declare(other, number="ZJ2019000001")
    html = client_for(declarant).get("/subsidies/declared/").content.decode()
    assert mine.number in html and theirs.number not in html
    assert client_for(declarant).get(f"/subsidies/declared/{theirs.id}/").status_code == 404
    assert client_for(declarant).get(f"/subsidies/declared/{mine.id}/").status_code == 200


def test_a_worker_withdraws_only_a_pending_declaration_of_their_own(declarant, cc_officer):
    mine = declare(declarant)
    other = worker_user(valid_person())
    theirs = declare(other, number="ZJ2019000001")
    c = client_for(declarant)
    c.post(f"/subsidies/declared/{theirs.id}/withdraw/")
    assert DeclaredCertificate.objects.filter(pk=theirs.id).exists()
    r = c.post(f"/subsidies/declared/{mine.id}/withdraw/")
    assert r.status_code == 302 and not DeclaredCertificate.objects.filter(pk=mine.id).exists()
    withdrawn = AuditEntry.objects.get(action="subsidy_declared_certificate.withdraw")
    assert withdrawn.before["number"] == mine.number
    # Once decided, it stays.
    records.declared_certificate_decide(actor=A(cc_officer), declared_id=theirs.id, verified=True, verification="一致")
    client_for(other).post(f"/subsidies/declared/{theirs.id}/withdraw/", follow=True)
    assert DeclaredCertificate.objects.get(pk=theirs.id).status == "verified"


def test_an_unbound_account_and_the_anonymous_visitor_cannot_declare(cc_officer):
    r = client_for(None).get("/subsidies/declared/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    assert client_for(None).post("/subsidies/declared/", DECLARATION).status_code == 302
    assert client_for(cc_officer).get("/subsidies/declared/").status_code == 403
    assert not DeclaredCertificate.objects.exists()


# --- The bureau's review -------------------------------------------------------------------------------------------


def test_the_officer_of_the_region_finds_and_decides_a_declaration(declarant, cc_officer):
    declared = declare(declarant)
    declare(worker_user(valid_person(name="王芳")), number="ZJ2019000001")
    c = client_for(cc_officer)
    html = c.get("/subsidies/declared/review/").content.decode()
    assert "GD2020123456" in html and "ZJ2019000001" in html
    found = c.get("/subsidies/declared/review/", {"q": "GD2020"}).content.decode()
    assert "GD2020123456" in found and "ZJ2019000001" not in found
    by_id = c.get("/subsidies/declared/review/", {"q": declarant.person.id_number}).content.decode()
    assert "GD2020123456" in by_id and "ZJ2019000001" not in by_id
    detail = c.get(f"/subsidies/declared/{declared.id}/").content.decode()
    assert declarant.person.id_number in detail and 'id="decide-form"' in detail

    r = c.post(f"/subsidies/declared/{declared.id}/", {"decision": "verified", "verification": "全国联网查询,信息一致"})
    declared.refresh_from_db()
    assert r.status_code == 302 and r["Location"] == "/subsidies/declared/review/"
    assert declared.status == "verified" and declared.verified_by == cc_officer
    assert declared.verification == "全国联网查询,信息一致"
    entry = AuditEntry.objects.get(action="subsidy_declared_certificate.verify")
    assert entry.before["status"] == "pending" and entry.after["status"] == "verified"
    assert Notification.objects.filter(user=declarant, title__contains="已核实").exists()
    # Decided ones leave the default (pending) list, and the holder reads the result.
    assert "GD2020123456" not in c.get("/subsidies/declared/review/").content.decode()
    mine = client_for(declarant).get("/subsidies/declared/").content.decode()
    assert "已核实" in mine and "全国联网查询,信息一致" in mine


def test_a_decision_needs_a_conclusion_and_how_it_was_checked(declarant, cc_officer):
    declared = declare(declarant)
    c = client_for(cc_officer)
    r = c.post(f"/subsidies/declared/{declared.id}/", {"verification": "查询"})
    assert r.status_code == 422 and 'id="decision-error"' in r.content.decode()
    r = c.post(f"/subsidies/declared/{declared.id}/", {"decision": "rejected", "verification": "  "})
    assert r.status_code == 422 and 'id="verification-error">请写明核实方式与结果' in r.content.decode()
    declared.refresh_from_db()
    assert declared.status == "pending" and not AuditEntry.objects.filter(action__endswith=".reject").exists()


def test_another_regions_officer_gets_404_and_a_worker_cannot_decide(declarant, jlc_officer):
    declared = declare(declarant)
    c = client_for(jlc_officer)
    assert "GD2020123456" not in c.get("/subsidies/declared/review/").content.decode()
    assert c.get(f"/subsidies/declared/{declared.id}/").status_code == 404
    assert (
        c.post(f"/subsidies/declared/{declared.id}/", {"decision": "verified", "verification": "x"}).status_code == 404
    )
    client_for(declarant).post(f"/subsidies/declared/{declared.id}/", {"decision": "verified", "verification": "x"})
    assert DeclaredCertificate.objects.get().status == "pending"
    assert client_for(declarant).get("/subsidies/declared/review/").status_code == 403
    r = client_for(None).get("/subsidies/declared/review/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")


def test_the_review_queue_pages_and_has_an_empty_state(cc_officer):
    c = client_for(cc_officer)
    assert "没有待核实的平台外证书申报" in c.get("/subsidies/declared/review/").content.decode()
    for n in range(31):
        declare(worker_user(valid_person()), number=f"GD20200000{n:02d}")
    first = c.get("/subsidies/declared/review/").content.decode()
    second = c.get("/subsidies/declared/review/", {"page": 2}).content.decode()
    assert first.count("data-declared=") == 30 and second.count("data-declared=") == 1
    assert "第 1 / 2 页" in first


# --- The fund's budget ---------------------------------------------------------------------------------------------


@pytest.fixture
def budget(cc_officer) -> FundBudget:
    return budgets.budget_set(actor=A(cc_officer), year=2026, amount="5000", basis="长财社〔2026〕1号(示例)")


def test_the_budget_page_shows_committed_paid_and_remaining(cc_officer, budget):
    approved_claim(1500)
    approved_claim(1000, status=Claim.Status.IN_PAYMENT)
    approved_claim(2000, status=Claim.Status.PAID)
    html = client_for(cc_officer).get("/subsidies/budgets/", {"year": 2026}).content.decode()
    row = html[html.index(f'data-budget="{budget.id}"') :]
    row = row[: row.index("</tr>")]
    assert "5,000.00" in row and "2,500.00" in row and "2,000.00" in row and "500.00" in row
    use = budgets.budget_use(budget)
    assert (use.committed, use.paid, use.remaining) == (Decimal(2500), Decimal(2000), Decimal(500))
    detail = client_for(cc_officer).get(f"/subsidies/budgets/{budget.id}/").content.decode()
    assert 'id="budget-remaining">500.00' in detail and "登记年度预算" in detail


def test_a_supplement_raises_what_remains_and_joins_the_history(cc_officer, cc_officer2, budget):
    approved_claim(4800)
    c = client_for(cc_officer2)
    r = c.post(f"/subsidies/budgets/{budget.id}/", {"amount": "3000", "basis": "长财社〔2026〕9号 追加"})
    assert r.status_code == 302
    supplement = BudgetSupplement.objects.get()
    assert supplement.amount == Decimal(3000) and supplement.recorded_by == cc_officer2
    assert budgets.budget_use(budget).remaining == Decimal(3200)
    html = c.get(f"/subsidies/budgets/{budget.id}/").content.decode()
    assert 'id="budget-remaining">3,200.00' in html and "长财社〔2026〕9号 追加" in html and "追加预算" in html
    assert AuditEntry.objects.filter(action="subsidy_budget.supplement", object_id=str(budget.id)).exists()


def test_a_supplement_form_names_the_wrong_field(cc_officer, budget):
    c = client_for(cc_officer)
    r = c.post(f"/subsidies/budgets/{budget.id}/", {"amount": "三千", "basis": "x"})
    assert r.status_code == 422 and 'id="amount-error">应填写数字' in r.content.decode()
    r = c.post(f"/subsidies/budgets/{budget.id}/", {"amount": "0", "basis": "x"})
    assert r.status_code == 422 and 'id="amount-error">追加金额应大于0' in r.content.decode()
    r = c.post(f"/subsidies/budgets/{budget.id}/", {"amount": "100", "basis": ""})
    assert r.status_code == 422 and 'id="basis-error">请填写依据' in r.content.decode()
    assert not BudgetSupplement.objects.exists()


def test_another_bureaus_budget_is_404_and_not_listed(budget, jlc_officer, declarant):
    c = client_for(jlc_officer)
    assert c.get(f"/subsidies/budgets/{budget.id}/").status_code == 404
    assert c.post(f"/subsidies/budgets/{budget.id}/", {"amount": "1", "basis": "x"}).status_code == 404
    assert not BudgetSupplement.objects.exists()
    html = c.get("/subsidies/budgets/", {"year": 2026}).content.decode()
    assert f'data-budget="{budget.id}"' not in html and "2026年尚未登记补贴资金预算" in html
    assert client_for(declarant).get(f"/subsidies/budgets/{budget.id}/").status_code == 403
    r = client_for(None).get("/subsidies/budgets/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")


def test_an_officer_records_a_years_budget_on_the_page(cc_officer):
    c = client_for(cc_officer)
    r = c.post("/subsidies/budgets/", {"year": "2027", "amount": "", "basis": "", "warn_percent": "80"})
    html = r.content.decode()
    assert r.status_code == 422 and not FundBudget.objects.exists() and 'id="amount-error"' in html
    r = c.post(
        "/subsidies/budgets/", {"year": "2027", "amount": "800000", "basis": "长财社〔2027〕1号", "warn_percent": "80"}
    )
    assert r.status_code == 302 and r["Location"] == "/subsidies/budgets/?year=2027"
    assert FundBudget.objects.get().region.code == "220100"


def test_the_budget_warning_links_to_the_budget_page(cc_officer, budget):
    approved_claim(3900)
    claim = approved_claim(200, status=Claim.Status.PUBLICITY)
    claim.decided_on = None
    claim.save()
    use = budgets.budget_use(budget)
    budgets.budget_after_approval(use, Decimal(200))
    note = Notification.objects.filter(user=cc_officer).latest("id")
    assert note.link == f"/subsidies/budgets/{budget.id}/"


def test_the_menus_lead_to_the_new_pages(declarant, cc_officer):
    worker_home = client_for(declarant).get("/subsidies/").content.decode()
    assert 'href="/subsidies/declared/"' in worker_home
    officer_home = client_for(cc_officer).get("/subsidies/queue/").content.decode()
    assert 'href="/subsidies/declared/review/"' in officer_home and 'href="/subsidies/budgets/"' in officer_home


def test_a_verified_declaration_blocks_a_lower_level_claim(declarant, cc_officer):
    """The page's decision is what the eligibility rules read: nothing written twice."""
    from .test_rules_2025 import decide, failed

    declared = declare(declarant)
    cert = make_certificate(declarant.person, level="4", issued_on=D(2026, 2, 1))
    assert "no_lower" not in failed(decide(cert, claimed_on=D(2026, 5, 6)))
    client_for(cc_officer).post(f"/subsidies/declared/{declared.id}/", {"decision": "verified", "verification": "一致"})
    assert "no_lower" in failed(decide(cert, claimed_on=D(2026, 5, 6)))


def test_the_api_declares_lists_decides_and_withdraws_through_the_same_services(declarant, cc_officer, jlc_officer):
    import json

    api = "/api/v1/subsidies/declared-certificates"
    worker = client_for(declarant)
    bad = worker.post(f"{api}/declare", json.dumps({**DECLARATION, "level_code": "9"}), content_type="application/json")
    assert bad.status_code == 422 and bad.json()["details"]["field"] == "level_code"
    made = worker.post(f"{api}/declare", json.dumps(DECLARATION), content_type="application/json")
    assert made.status_code == 201 and made.json()["status"] == "pending" and made.json()["region"] == "220102"
    declared_id = made.json()["id"]
    other = worker_user(valid_person())
    assert client_for(other).get(api).json()["count"] == 0
    assert worker.get(api).json()["count"] == 1 and client_for(cc_officer).get(api).json()["count"] == 1
    assert client_for(jlc_officer).get(api).json()["count"] == 0

    body = json.dumps({"decision": "rejected", "verification": "全国联网查询无此证书"})
    assert (
        client_for(jlc_officer).post(f"{api}/{declared_id}/decide", body, content_type="application/json").status_code
        == 404
    )
    assert worker.post(f"{api}/{declared_id}/decide", body, content_type="application/json").status_code == 403
    decided = client_for(cc_officer).post(f"{api}/{declared_id}/decide", body, content_type="application/json")
    assert decided.status_code == 200 and decided.json()["status"] == "rejected"
    assert worker.post(f"{api}/{declared_id}/withdraw").status_code == 409
    again = client_for(cc_officer).post(f"{api}/{declared_id}/decide", body, content_type="application/json")
    assert again.status_code == 409

    second = worker.post(f"{api}/declare", json.dumps({**DECLARATION, "number": "X1"}), content_type="application/json")
    assert client_for(other).post(f"{api}/{second.json()['id']}/withdraw").status_code == 404
    assert worker.post(f"{api}/{second.json()['id']}/withdraw").status_code == 204
    assert list(DeclaredCertificate.objects.values_list("number", flat=True)) == ["GD2020123456"]


def test_the_officers_home_counts_declarations_waiting_for_them(declarant, cc_officer, jlc_officer):
    declare(declarant)

    def count(user) -> str:
        html = client_for(user).get("/").content.decode()
        row = html[html.index('data-todo="declared"') :]
        return row[: row.index("</li>")]

    assert 'todo-count">1<' in count(cc_officer) and 'href="/subsidies/declared/review/"' in count(cc_officer)
    assert 'todo-count">0<' in count(jlc_officer)
