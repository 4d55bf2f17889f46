"""Bureau forms pick a region with the picker, offered only inside the officer's jurisdiction (the reference API's
`within`), and the server refuses a region outside it however the code arrives (typed by hand, or a forged post).

The forms: the dashboard filter, the inspection draw, the 挂证 insurance import, the subsidy payment batch, the four
record imports and the budget. Before, several were <select>s of every prefecture in the jurisdiction: ~370 rows
for an operator."""

import re

import pytest

from accounts.models import Role
from oversight.models import Inspection, InsuranceImport
from subsidies.models import FundBudget, InsuranceRecord, PaymentBatch
from tests.conftest import client_for
from tests.factories import member

pytestmark = pytest.mark.django_db

OUTSIDE = ("220200", "440100")  # 吉林市 (same province), 广州市 (another)
RECORD_KINDS = ("insurance", "training", "military", "other_region")
PAGES = (
    "/oversight/dashboard/",
    "/oversight/inspections/",
    "/oversight/guazheng/",
    "/subsidies/batches/",
    "/subsidies/records/",
    "/subsidies/budgets/",
)


def _pickers(html: str) -> list[dict]:
    """Every region picker on the page: its field name and the parameters it sends the API."""
    return [
        {"name": m.group(1), "params": m.group(2)}
        for m in re.finditer(
            r'name="([a-z_]+)" value="[^"]*" data-picker="region" data-api="[^"]+" data-params="([^"]*)"', html
        )
    ]


def _region_selects(html: str) -> list[str]:
    return re.findall(r'<select name="([a-z_]*region[a-z_]*)"', html)


@pytest.fixture
def two_bureau_officer(changchun_bureau, jilin_city_bureau):
    user = member(Role.BUREAU_STAFF, bureau=changchun_bureau)
    return member(Role.BUREAU_STAFF, bureau=jilin_city_bureau, user=user)


@pytest.mark.parametrize("path", PAGES)
def test_no_region_select_is_left_and_the_pickers_stay_inside_the_jurisdiction(path, two_bureau_officer, operator):
    html = client_for(two_bureau_officer).get(path).content.decode()
    assert _region_selects(html) == []
    scoped = [p for p in _pickers(html) if p["name"] != "source_region_code"]  # 原参保地: any region, by design
    assert scoped, "the officer of two bureaus must choose the region"
    assert all(p["params"] == "within=220100%2C220200" for p in scoped)
    # An operator may pick any region: the picker is unrestricted (the dashboard's select listed ~370 rows).
    html = client_for(operator).get(path).content.decode()
    assert _region_selects(html) == [] and _pickers(html)
    assert all(p["params"] == "" for p in _pickers(html))


def test_an_officer_of_one_bureau_is_offered_only_its_own_region(cc_officer):
    c = client_for(cc_officer)
    for path in ("/oversight/dashboard/", "/oversight/inspections/"):
        pickers = _pickers(c.get(path).content.decode())
        assert [p["params"] for p in pickers] == ["within=220100"]
    # Where the only region is the default, the form does not ask.
    assert _pickers(c.get("/subsidies/batches/").content.decode()) == []


def test_the_api_lists_only_regions_within_the_given_ones(client):
    def codes(**params):
        r = client.get("/api/v1/reference/regions", {"limit": 100, **params})
        assert r.status_code == 200
        return [i["code"] for i in r.json()["items"]]

    assert codes(q="区", within="220100") and all(c.startswith("2201") for c in codes(q="区", within="220100"))
    both = codes(q="区", within="220100,220200")
    assert {c[:4] for c in both} == {"2201", "2202"}
    assert codes(q="广州", within="220100,220200") == []
    assert codes(q="长春", within="999999") == []  # no known region: nothing, not everything
    assert client.get("/api/v1/reference/regions", {"within": "22" * 40}).status_code == 422


@pytest.mark.parametrize("code", OUTSIDE)
def test_a_dashboard_region_outside_the_jurisdiction_is_404_even_typed_as_a_name(code, cc_officer):
    c = client_for(cc_officer)
    assert c.get(f"/oversight/dashboard/?region={code}").status_code == 404
    assert c.get("/oversight/dashboard/?region=吉林市").status_code == 404  # typed without picking: its best match
    r = c.get("/oversight/dashboard/?region=南关区")  # inside: the filter means 220102
    assert r.status_code == 200 and "吉林省长春市南关区" in r.content.decode()


@pytest.mark.parametrize("code", OUTSIDE)
def test_forms_refuse_a_region_typed_by_hand_outside_the_jurisdiction(code, cc_officer, tmp_path):
    c = client_for(cc_officer)
    refused = "不在本部门辖区内的地区"

    r = c.post(
        "/oversight/inspections/draw/",
        {"count": 1, "scheduled_on": "2026-12-20", "region_code": code},
        follow=True,
    )
    assert refused in r.content.decode() and not Inspection.objects.exists()

    sheet = tmp_path / "x.xlsx"
    sheet.write_bytes(b"not read: the region is checked first")
    with sheet.open("rb") as f:
        r = c.post(
            "/oversight/guazheng/",
            {"period_from": "2026-01", "period_to": "2026-06", "region_code": code, "file": f},
            follow=True,
        )
    assert refused in r.content.decode() and not InsuranceImport.objects.exists()

    r = c.post("/subsidies/batches/", {"month": "2026-11", "region_code": code}, follow=True)
    assert refused in r.content.decode() and not PaymentBatch.objects.exists()

    for kind in RECORD_KINDS:
        with sheet.open("rb") as f:
            data = {"kind": kind, "region_code": code, "file": f}
            if kind == "other_region":
                data |= {"source_region_code": "110105", "as_of": "2026-11-30"}
            r = c.post("/subsidies/records/", data, follow=True)
        assert refused in r.content.decode(), kind
    assert not InsuranceRecord.objects.exists()

    r = c.post(
        "/subsidies/budgets/",
        {"year": 2026, "amount": "100000", "basis": "长人社〔2026〕1号", "region_code": code, "warn_percent": 80},
    )
    assert refused in r.content.decode() and not FundBudget.objects.exists()


def test_a_county_inside_the_jurisdiction_is_accepted(cc_officer):
    r = client_for(cc_officer).post(
        "/subsidies/budgets/",
        {"year": 2026, "amount": "100000", "basis": "南关人社〔2026〕1号", "region_code": "220102", "warn_percent": 80},
    )
    assert r.status_code == 302
    assert FundBudget.objects.get().region.full_name == "吉林省长春市南关区"
