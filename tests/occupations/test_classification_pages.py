"""Pages and APIs over the whole 大典 and every division: search by code, name or pinyin initials, the tree, the
region lists, and honesty about which occupations have a national standard loaded."""

import datetime

import pytest
from django.utils import timezone

from accounts.actors import Actor
from accreditation import services as filing_services
from assessments import plans
from core.errors import ValidationFailed
from occupations.models import Occupation

pytestmark = pytest.mark.django_db

API = "/api/v1/reference"


def codes(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [x["code"] for x in response.json()["items"]]


def test_occupations_are_found_by_initials_by_code_prefix_and_by_name(client):
    assert codes(client.get(f"{API}/occupations?q=dg&limit=5"))[0] == "6-31-01-03"
    by_code = codes(client.get(f"{API}/occupations?q=6-31&limit=10"))
    assert "6-31-01-03" in by_code and all(c.startswith("6-31") for c in by_code)
    assert codes(client.get(f"{API}/occupations?q=6-31-01-03"))[0] == "6-31-01-03"
    assert codes(client.get(f"{API}/occupations?q=中式烹调师"))[0] == "4-03-02-01"
    assert codes(client.get(f"{API}/occupations?q=人工智能训练"))[0] == "4-04-05-05"
    assert codes(client.get(f"{API}/occupations?q=zspts"))[0] == "4-03-02-01"


def test_the_occupation_list_is_paginated_and_says_whether_a_standard_is_loaded(client):
    page = client.get(f"{API}/occupations?limit=50&offset=100").json()
    assert page["count"] == 1674 and len(page["items"]) == 50
    electrician = client.get(f"{API}/occupations?q=6-31-01-03").json()["items"][0]
    assert electrician["has_standard"] is True and electrician["label"] == "6-31-01-03 电工"
    engineer = client.get(f"{API}/occupations?q=2-02-38-01").json()["items"][0]
    assert engineer["has_standard"] is False and engineer["category_code"] == "2-02-38"
    with_standard = client.get(f"{API}/occupations?with_standard=true&limit=200").json()
    assert with_standard["count"] == 24
    announced = client.get(f"{API}/occupations?q=4-04-05-13").json()["items"][0]
    assert announced["announced_year"] == 2024 and announced["source"] == "2024新职业(人社部公告)"


def test_regions_by_initials_parent_and_within(client):
    assert codes(client.get(f"{API}/regions?q=ccs"))[0] == "220100"
    assert codes(client.get(f"{API}/regions?q=南关"))[0] == "220102"
    changchun = codes(client.get(f"{API}/regions?parent=220100&limit=200"))
    assert "220102" in changchun and all(c.startswith("2201") for c in changchun)
    assert len(codes(client.get(f"{API}/regions?kind=province&limit=200"))) == 34
    beijing = codes(client.get(f"{API}/regions?parent=110000&limit=200"))
    assert "110105" in beijing  # counties of a municipality hang from it directly
    within = client.get(f"{API}/regions?within=220000&q=cy").json()["items"]
    assert within and all(r["code"].startswith("22") for r in within)
    assert client.get(f"{API}/regions?within=999999").json()["count"] == 0
    item = client.get(f"{API}/regions?q=220102").json()["items"][0]
    assert item["full_name"] == "吉林省长春市南关区" and item["parent_code"] == "220100"


def test_the_tree_is_browsable_from_major_to_occupation(client):
    page = client.get("/reference/occupations/").content.decode()
    assert page.count('href="/reference/occupations/?in=') == 8
    assert "生产制造及有关人员" in page
    page = client.get("/reference/occupations/?in=6").content.decode()
    assert "?in=6-31" in page and "中类" in page
    page = client.get("/reference/occupations/?in=6-31").content.decode()
    assert "?in=6-31-01" in page
    page = client.get("/reference/occupations/?in=6-31-01").content.decode()
    assert "电工" in page and "已载入规则数据" in page and "尚无国家标准,不能备案或认定" in page


def test_the_occupation_page_says_plainly_when_no_standard_is_loaded(client):
    page = client.get("/reference/occupations/2-02-38-01/").content.decode()
    assert "人工智能工程技术人员" in page and "尚无施行中的国家职业技能标准" in page
    assert "2-02-10-09" in page  # the 2019 code that maps to it
    page = client.get("/reference/occupations/6-31-01-03/").content.decode()
    assert "已载入" in page and "2015年版大典" in page and "特种作业人员" in page
    assert client.get("/reference/occupations/9-99-99-99/").status_code == 404
    assert "没有匹配的职业" in client.get("/reference/occupations/?q=不存在的职业").content.decode()
    listed = client.get("/reference/occupations/?standard=none&q=dg").content.decode()
    assert "6-31-01-03" not in listed


def test_the_catalogue_says_what_is_not_confirmed_and_finds_by_initials(client):
    page = client.get("/reference/catalogue/").content.decode()
    assert 'id="unconfirmed"' in page and "未核实" in page and "来源:" in page
    page = client.get("/reference/catalogue/?q=tzzyry").content.decode()
    assert "特种作业人员" in page and "心理咨询师" not in page


def test_scopes_and_plans_refuse_an_occupation_without_a_standard_with_that_reason(org, org_admin):
    assert Occupation.objects.get(code="2-02-38-01").standard_on(timezone.localdate()) is None
    with pytest.raises(ValidationFailed) as exc:
        filing_services.filing_create(
            actor=Actor.for_user(org_admin),
            organisation_id=org.id,
            scope=[{"occupation_code": "2-02-38-01", "levels": ["5"]}],
        )
    assert "尚无施行中的国家职业技能标准" in exc.value.message
    today = timezone.localdate()
    with pytest.raises(ValidationFailed) as exc:
        plans.plan_create(
            actor=Actor.for_user(org_admin),
            organisation_id=org.id,
            occupation_code="2-02-38-01",
            levels=["5"],
            title="人工智能工程技术人员认定",
            venue="长春",
            capacity=10,
            registration_opens=today,
            registration_closes=today + datetime.timedelta(days=10),
            components=[],
        )
    assert "尚无施行中的国家职业技能标准" in exc.value.message


def test_the_filing_form_lists_what_can_be_filed_and_counts_the_rest(client, org, org_admin):
    from tests.conftest import client_for

    page = client_for(org_admin).get(f"/accreditation/organisations/{org.id}/filings/new/").content.decode()
    assert "6-31-01-03" in page and "消防设施操作员" in page and "2-02-38-01" not in page
    assert 'id="without-standard"' in page
