"""Dashboards for bureau staff: their region only, charts drawn as inline SVG, each panel exported to xlsx."""

import io
import re

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from accounts.actors import Actor
from certificates.models import Certificate, VerificationLog
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
    board = dashboards.dashboard_for(actor=Actor.for_user(cc_officer))
    assert board.figures["complaints_open"] == 1
    this_month = f"{timezone.localdate():%Y-%m}"
    certificates = dict(board.panels["certificates"].rows)
    assert certificates[this_month] == len(issued) == 7
    verifications = {row[0]: row for row in board.panels["verifications"].rows}[this_month]
    assert verifications[1] == 1 and verifications[2] == 1 and verifications[-1] == 2
    statuses = dict(board.panels["organisations"].rows)
    assert statuses == {"已备案": 1}
    # Another city's officer sees its own numbers, and none of these.
    other = dashboards.dashboard_for(actor=Actor.for_user(jlc_officer))
    assert other.figures["complaints_open"] == 1
    assert dict(other.panels["certificates"].rows)[this_month] == 0


def test_pass_rates_by_occupation_and_level(cc_officer, org, org_admin, cc_officer_filed_plan):
    board = dashboards.dashboard_for(actor=Actor.for_user(cc_officer))
    rows = board.panels["assessments"].rows
    # finalise(passed=5) of 7 candidates: levels 4 (4 people) then 3 (3 people), in registration order.
    by_level = {r[2]: r for r in rows}
    assert by_level["四级"][3:] == [4, 4, 0, 0, 100.0]
    assert by_level["三级"][3:] == [3, 1, 2, 0, 33.3]
    assert "<svg" in str(board.panels["assessments"].chart)


def test_the_page_draws_its_own_charts_and_exports_each_panel(cc_officer, issued):
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
