"""Statistics a province asks for: cities side by side, levels and occupations, the shortage share, claim-to-payment
median and 90th percentile, against each city's budget; the xlsx export neutralises formulas; scoped by region."""

import datetime
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from subsidies import budgets
from subsidies.models import Claim
from subsidies.statistics import city_statistics, city_statistics_workbook, percentile
from tests.conftest import client_for
from tests.factories import PersonFactory, region

from .conftest import A, make_certificate

pytestmark = pytest.mark.django_db
D = datetime.date


def granted(region_code: str, amount: int, *, days: int | None, level="4", shortage=False, occupation="6-31-01-03"):
    person = PersonFactory()
    cert = make_certificate(
        person, level=level, occupation=occupation, issued_on=D(2026, 1, 5), region_code=region_code
    )
    paid = days is not None
    return Claim.objects.create(
        certificate=cert,
        person=person,
        occupation=cert.occupation,
        level=cert.level,
        region=region(region_code),
        account_kind="bank_card",
        account_number="6222020200001234567",
        claimed_on=D(2026, 2, 1),
        status=Claim.Status.PAID if paid else Claim.Status.APPROVED,
        amount=Decimal(amount),
        is_shortage=shortage,
        decided_on=D(2026, 3, 1),
        paid_on=D(2026, 2, 1) + datetime.timedelta(days=days) if paid else None,
    )


def test_percentiles_interpolate_between_ranks():
    assert percentile([], 50) is None
    assert percentile([10], 90) == 10
    assert percentile([10, 20, 30, 40], 50) == 25
    assert percentile(list(range(1, 11)), 90) == pytest.approx(9.1)


def test_the_province_sees_two_cities_side_by_side(province_officer, cc_officer, jlc_officer):
    for days in (20, 30, 40, 50, 100):
        granted("220102", 1950, days=days, shortage=True)
    granted("220104", 1500, days=None)
    granted("220202", 1500, days=60, occupation="6-18-02-04", level="3")
    granted("220202", 2000, days=None, level="3")
    budgets.budget_set(actor=A(cc_officer), year=2026, amount="20000", basis="示例", region_code="220100")
    stats = city_statistics(A(province_officer), year=2026)
    changchun, jilin = stats["cities"]
    assert (changchun.code, jilin.code) == ("220100", "220200")
    assert (changchun.claims, changchun.granted, changchun.paid) == (6, 6, 5)
    assert changchun.granted_amount == Decimal(1950 * 5 + 1500) and changchun.paid_amount == Decimal(1950 * 5)
    assert changchun.median_days == 40 and changchun.p90_days == pytest.approx(80)
    assert changchun.shortage_share == pytest.approx(1950 * 5 / (1950 * 5 + 1500) * 100)
    assert changchun.budget_total == Decimal(20000) and changchun.budget_used == Decimal(11250)
    assert (jilin.granted, jilin.paid, jilin.median_days, jilin.budget_total) == (2, 1, 60, None)
    assert stats["total"].claims == 8 and stats["total"].median_days == 45
    levels = {e["label"]: e for e in stats["by_level"]}
    assert levels["三级/高级工"]["cities"] == [(0, Decimal(0)), (2, Decimal(3500))]
    # A city officer sees their city only; another city's officer the other one.
    assert [c.code for c in city_statistics(A(cc_officer), year=2026)["cities"]] == ["220100"]
    assert [c.code for c in city_statistics(A(jlc_officer), year=2026)["cities"]] == ["220200"]


def test_the_export_is_the_same_table_with_formulas_neutralised(province_officer):
    from occupations.models import Region

    Region.objects.filter(code="220200").update(name='=HYPERLINK("http://x")')
    granted("220102", 1950, days=30)
    granted("220202", 1500, days=60)
    data = city_statistics_workbook(A(province_officer), year=2026)
    sheet = load_workbook(io.BytesIO(data)).active
    header = [c.value for c in sheet[1]]
    assert header[:2] == ["指标", "长春市"] and header[-1] == "合计"
    cell = sheet.cell(row=1, column=3)
    assert cell.value == '=HYPERLINK("http://x")' and cell.data_type == "s"
    rows = {r[0].value: [c.value for c in r[1:]] for r in sheet.iter_rows(min_row=2)}
    assert rows["申请至支付天数中位数"] == ["30.0", "60.0", "45.0"]


def test_the_page_and_the_api_show_the_cities(province_officer, worker):
    granted("220102", 1950, days=30)
    granted("220202", 1500, days=60)
    c = client_for(province_officer)
    html = c.get("/subsidies/statistics/?year=2026").content.decode()
    assert 'id="city-table"' in html and "长春市" in html and "吉林市" in html
    api = c.get("/api/v1/subsidies/statistics/cities?year=2026").json()
    assert [city["code"] for city in api["cities"]] == ["220100", "220200"]
    export = c.get("/subsidies/statistics/cities.xlsx?year=2026")
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxmlformats")
    assert client_for(worker).get("/api/v1/subsidies/statistics/cities").status_code == 403
