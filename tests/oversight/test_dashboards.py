"""Dashboards for bureau staff: their region only, charts drawn as inline SVG, each panel exported to xlsx."""

import datetime
import io
import re

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from accounts.actors import Actor
from certificates.models import Certificate, VerificationLog
from core.dates import add_months
from core.errors import NotFound
from core.models import AuditEntry
from oversight import dashboards, reports
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def _complaint(region_code: str):
    return reports.complaint_submit(
        actor=Actor.anonymous(),
        kind="guazheng",
        description="单位使用挂靠证书申报资质,持证人从未到岗。",
        subject_name="某建筑公司",
        region_code=region_code,
    )[0]


@pytest.fixture
def issued(finalised_plan, org_admin, issue):
    issue(finalised_plan, org_admin)
    return list(Certificate.objects.order_by("number"))


def test_a_changchun_officer_sees_changchun_only(cc_officer, jlc_officer, issued):
    _complaint("220102")
    _complaint("220202")
    now = timezone.now()
    VerificationLog.objects.bulk_create(
        [
            VerificationLog(at=now, channel="scan", result="valid", region_code="220102"),
            VerificationLog(at=now, channel="scan", result="revoked", region_code="220102"),
            VerificationLog(at=now, channel="scan", result="valid", region_code="220202"),
        ]
    )
    # The board covers whole months before the current one: seen from next month, this month is the last column.
    later = add_months(timezone.localdate(), 1)
    board = dashboards.dashboard_for(actor=Actor.for_user(cc_officer), today=later)
    assert board.figures["complaints_open"] == 1
    this_month = f"{timezone.localdate():%Y-%m}"
    certificates = dict(board.panels["certificates"].rows)
    assert certificates[this_month] == len(issued) == 7
    verifications = {row[0]: row for row in board.panels["verifications"].rows}[this_month]
    assert verifications[1] == 1 and verifications[2] == 1 and verifications[-1] == 2
    statuses = dict(board.panels["organisations"].rows)
    assert statuses == {"已备案": 1}
    # Another city's officer sees its own numbers, and none of these.
    other = dashboards.dashboard_for(actor=Actor.for_user(jlc_officer), today=later)
    assert other.figures["complaints_open"] == 1
    assert dict(other.panels["certificates"].rows)[this_month] == 0


def test_pass_rates_by_occupation_and_level(cc_officer, org, org_admin, cc_officer_filed_plan):
    board = dashboards.dashboard_for(actor=Actor.for_user(cc_officer), today=add_months(timezone.localdate(), 1))
    rows = board.panels["assessments"].rows
    # finalise(passed=5) of 7 candidates: levels 4 (4 people) then 3 (3 people), in registration order.
    by_level = {r[2]: r for r in rows}
    assert by_level["四级"][3:] == [4, 4, 0, 0, 100.0]
    assert by_level["三级"][3:] == [3, 1, 2, 0, 33.3]
    assert "<svg" in str(board.panels["assessments"].chart)


def test_the_page_draws_its_own_charts_and_exports_each_panel(cc_officer, issued):
    last_month = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    Certificate.objects.update(issued_on=last_month)  # the board shows whole months, this one not yet
    c = client_for(cc_officer)
    html = c.get("/oversight/dashboard/").content.decode()
    assert html.count("<svg") >= 4 and "cdn" not in html.lower()
    # drawn on the server: the only script is the site's own file (tests/config/test_csp.py), none for charts
    assert re.findall(r"<script[^>]*>", html) == [
        '<script src="/static/js/site.js" defer>',
        '<script src="/static/js/picker.js" defer>',
    ]
    r = c.get("/oversight/dashboard/certificates.xlsx?months=3")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(r.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("月份", "发证数") and len(rows) == 4 and rows[-1][1] == 7
    assert AuditEntry.objects.filter(action="dashboard.export", object_id="certificates").exists()
    api = c.get("/api/v1/oversight/dashboard?months=6").json()
    assert {p["key"] for p in api["panels"]} == set(dashboards.PANELS)
    assert c.get("/api/v1/oversight/dashboard/oversight.xlsx").status_code == 200


def test_exported_text_cannot_run_as_a_formula(cc_officer, monkeypatch):
    panel = dashboards.Panel(key="oversight", title="t", headers=["事项", "数量"], rows=[["=HYPERLINK(1)", 1]])
    monkeypatch.setattr(
        dashboards,
        "dashboard_for",
        lambda **kw: dashboards.Dashboard(
            region=None,
            scope_label="",
            since=timezone.localdate(),
            until=timezone.localdate(),
            panels={"oversight": panel},
        ),
    )
    data, _name = dashboards.panel_export(actor=Actor.for_user(cc_officer), panel="oversight")
    cell = load_workbook(io.BytesIO(data)).active["A2"]
    assert (cell.value, cell.data_type) == ("=HYPERLINK(1)", "s")


def test_a_region_outside_the_jurisdiction_is_not_found(cc_officer, province_officer):
    with pytest.raises(NotFound):
        dashboards.dashboard_for(actor=Actor.for_user(cc_officer), region_code="220200")
    assert client_for(cc_officer).get("/oversight/dashboard/?region=220200").status_code == 404
    assert client_for(cc_officer).get("/api/v1/oversight/dashboard?region=220200").status_code == 404
    board = dashboards.dashboard_for(actor=Actor.for_user(province_officer), region_code="220200")
    assert board.region.code == "220200"


def test_dashboards_are_for_bureau_staff(client, org_admin):
    assert client_for(org_admin).get("/oversight/dashboard/").status_code == 403
    assert client_for(org_admin).get("/api/v1/oversight/dashboard").status_code == 403
    assert client.get("/oversight/dashboard/").status_code == 302


def test_subsidy_spend_is_skipped_gracefully_without_the_subsidies_tables(cc_officer, monkeypatch):
    monkeypatch.setattr(dashboards, "_claim_model", lambda: None)
    board = dashboards.dashboard_for(actor=Actor.for_user(cc_officer))
    panel = board.panels["subsidies"]
    assert not panel.available and "暂不可用" in panel.note
    html = client_for(cc_officer).get("/oversight/dashboard/").content.decode()
    assert "补贴数据暂不可用" in html


@pytest.fixture
def cc_officer_filed_plan(org, org_admin, cc_officer):
    from tests.assessments.conftest import file_organisation, make_candidates, make_plan
    from tests.certificates.conftest import finalise

    file_organisation(org, org_admin, cc_officer)
    plan = make_plan(org, org_admin)
    make_candidates(plan, org_admin, "4", 4)
    make_candidates(plan, org_admin, "3", 3, start=10)
    return finalise(plan, passed=5)


def test_the_window_is_the_last_whole_months_and_says_so(cc_officer):
    board = dashboards.dashboard_for(actor=Actor.for_user(cc_officer), today=datetime.date(2026, 12, 7))
    assert (board.since, board.until) == (datetime.date(2025, 12, 1), datetime.date(2026, 11, 30))
    assert [r[0] for r in board.panels["certificates"].rows] == ["2025-12", *[f"2026-{m:02d}" for m in range(1, 12)]]
    board = dashboards.dashboard_for(actor=Actor.for_user(cc_officer), months=3, today=datetime.date(2026, 3, 31))
    assert (board.since, board.until) == (datetime.date(2025, 12, 1), datetime.date(2026, 2, 28))
    html = client_for(cc_officer).get("/oversight/dashboard/?months=12").content.decode()
    window = re.search(r'id="board-window">(.*?)</p>', html, re.S).group(1)
    since, until = dashboards.full_months(timezone.localdate(), 12)
    assert f"近12个月:{since:%Y-%m-%d} — {until:%Y-%m-%d}" in window and "不含本月" in window


def test_verifications_are_charted_by_result_and_overdue_in_the_warning_colour(cc_officer):
    later = add_months(timezone.localdate(), 1)
    now = timezone.now()
    VerificationLog.objects.bulk_create(
        [
            VerificationLog(at=now, channel="scan", result="valid", region_code="220102"),
            VerificationLog(at=now, channel="scan", result="valid", region_code="220102"),
            VerificationLog(at=now, channel="scan", result="revoked", region_code="220102"),
        ]
    )
    board = dashboards.dashboard_for(actor=Actor.for_user(cc_officer), today=later)
    chart = str(board.panels["verifications"].chart)
    assert 'class="bar ok"><title>' in chart and "有效:2" in chart
    assert 'class="bar danger"><title>' in chart and "已撤销:1" in chart
    assert "已暂停" not in chart  # a result that never happened has no series
    _complaint("220102")
    from oversight.models import Complaint

    Complaint.objects.update(due_on=timezone.localdate() - datetime.timedelta(days=1))
    oversight = str(dashboards.dashboard_for(actor=Actor.for_user(cc_officer)).panels["oversight"].chart)
    overdue_bar = oversight[oversight.index("超期未答复举报") :]
    assert overdue_bar.index('class="bar warn"') < overdue_bar.index("</rect>")
    open_bar = oversight[oversight.index("未办结举报") :]
    assert open_bar.index('class="bar"') < open_bar.index("</rect>")


def test_a_province_officer_compares_its_cities(province_officer, cc_officer):
    _complaint("220102")
    _complaint("220202")
    _complaint("220203")
    board = dashboards.dashboard_for(actor=Actor.for_user(province_officer))
    cities = {row[0]: row for row in board.panels["cities"].rows}
    assert cities["长春市"][1] == 1 and cities["吉林市"][1] == 2
    assert "<svg" in str(board.panels["cities"].chart)
    html = client_for(province_officer).get("/oversight/dashboard/").content.decode()
    assert 'id="panel-cities"' in html and "各市对比" in html
    assert client_for(province_officer).get("/oversight/dashboard/cities.xlsx").status_code == 200
    # A city's officer has no cities to compare.
    assert "cities" not in dashboards.dashboard_for(actor=Actor.for_user(cc_officer)).panels
    assert client_for(cc_officer).get("/oversight/dashboard/cities.xlsx").status_code == 404
