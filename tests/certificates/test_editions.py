"""A historical certificate carries the code of its own 大典 edition; eligibility and 贯通 read the 2022 occupation
that the mapping table (occupations/data/code_mappings.csv) links it to, and nothing when no link is known."""

import datetime

import pytest

from certificates.models import Certificate
from occupations.editions import edition_from_text, occupation_for_code
from occupations.models import OccupationCodeMapping
from tests.certificates.test_reporting import IMPORT_HEADERS, qualification_row, workbook
from tests.conftest import client_for
from tests.factories import make_ric

pytestmark = pytest.mark.django_db

HEADERS = [*IMPORT_HEADERS, "大典版本"]


def row(number: str, code: str, name: str, edition: str, seq: int) -> list:
    base = qualification_row(
        number,
        职业编码=code,
        职业名称=name,
        证件号码=make_ric(region="220102", birth=datetime.date(1986, 3, 9), seq=seq),
    )
    return [*base, edition]


def upload(user, rows):
    return client_for(user).post(
        "/api/v1/certificates/import", {"file": workbook(rows, HEADERS), "organisation_name": "长春市职业技能鉴定中心"}
    )


def test_an_earlier_editions_code_is_kept_and_read_as_its_2022_occupation(cc_officer):
    r = upload(
        cc_officer,
        [
            row("2201000300020001", "2-02-10-09", "人工智能工程技术人员", "2015", 21),
            row("2201000300020002", "6-30-99-00", "工业机器人系统操作员", "2015年版", 22),
            row("2201000300020003", "4-10-01-02", "育婴员", "2015", 23),  # no known 2022 counterpart
            row("2201000300020004", "6-31-01-03", "电工", "", 24),  # no edition: the current one
        ],
    )
    assert r.status_code == 200, r.json()
    assert r.json()["created"] == 4
    ai = Certificate.objects.select_related("occupation").get(number="2201000300020001")
    assert (ai.occupation_code, ai.occupation_edition, ai.occupation.code) == ("2-02-10-09", "2015", "2-02-38-01")
    robot = Certificate.objects.get(number="2201000300020002")
    assert (robot.occupation_edition, robot.occupation.code) == ("2015", "6-31-07-03")
    unmapped = Certificate.objects.get(number="2201000300020003")
    assert (unmapped.occupation_code, unmapped.occupation_edition, unmapped.occupation) == ("4-10-01-02", "2015", None)
    current = Certificate.objects.get(number="2201000300020004")
    assert (current.occupation_edition, current.occupation.code) == ("2022", "6-31-01-03")


def test_a_code_the_2022_edition_lacks_asks_for_the_edition_and_an_unknown_edition_is_refused(cc_officer):
    r = upload(
        cc_officer,
        [
            row("2201000300020011", "2-02-10-09", "人工智能工程技术人员", "", 31),
            row("2201000300020012", "6-31-01-03", "电工", "2016", 32),
        ],
    )
    assert r.status_code == 422
    messages = " ".join(e["reason"] for e in r.json()["errors"])
    assert "不在2022年版职业分类大典中" in messages and "请填写大典版本" in messages
    assert "大典版本应为2022、2015、1999之一" in messages
    assert not Certificate.objects.filter(number__startswith="22010003000200").exists()


def test_the_certificate_page_shows_the_edition_and_the_2022_reading(cc_officer):
    upload(cc_officer, [row("2201000300020021", "2-02-10-09", "人工智能工程技术人员", "2015", 41)])
    cert = Certificate.objects.get(number="2201000300020021")
    page = client_for(cc_officer).get(f"/certificates/{cert.id}/").content.decode()
    assert "职业编码 2-02-10-09(2015年版职业分类大典)" in page
    assert "对应2022年版 2-02-38-01 人工智能工程技术人员" in page


def test_reading_codes_directly():
    assert edition_from_text("1999年版") == "1999" and edition_from_text("") == "2022"
    assert occupation_for_code("6-31-01-03", "2022").occupation.name == "电工"
    read = occupation_for_code("6-31-01-03", "2015")
    assert read.mapping.relation == OccupationCodeMapping.Relation.SAME and read.occupation.code == "6-31-01-03"
    assert occupation_for_code("6-07-06-05", "1999").occupation is None
