import datetime

import pytest
from django.core.exceptions import ValidationError

from certificates.issuance import allocate_numbers
from certificates.models import NumberCounter
from core.errors import Conflict
from core.models import AuditEntry
from occupations.levels import level_for_number, level_from_text, level_spellings, number_format
from occupations.models import Level

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("3", "3"),
        ("三级", "3"),
        ("高级工", "3"),
        ("高级", "3"),
        ("三级/高级工", "3"),
        ("国家职业资格三级（高级）", "3"),
        (" 四级 ", "4"),
        ("技师", "2"),
        ("高级技师", "1"),
    ],
)
def test_every_spelling_people_write_is_read(text, code):
    assert level_from_text(text, level_spellings()).code == code


def test_an_unknown_level_is_none():
    assert level_from_text("特级大师", level_spellings()) is None
    assert level_from_text(None, level_spellings()) is None


# --- The eight-level system and each level's certificate number format (data) -----------------------------


@pytest.mark.parametrize(("text", "code"), [("学徒工", "XT"), ("特级技师", "TJ"), ("首席技师", "SX"), ("TJ", "TJ")])
def test_the_new_levels_are_read_from_spreadsheets(text, code):
    assert level_from_text(text, level_spellings()).code == code


def test_eight_levels_in_order_each_with_a_valid_format_and_its_own_digit():
    levels = list(Level.objects.order_by("rank"))
    assert [lv.label for lv in levels] == [
        "学徒工",
        "五级/初级工",
        "四级/中级工",
        "三级/高级工",
        "二级/技师",
        "一级/高级技师",
        "特级技师",
        "首席技师",
    ]
    for lv in levels:
        lv.full_clean()
    assert len({lv.number_digit for lv in levels}) == 8
    assert {lv.code: lv.organisation_kinds for lv in levels if not lv.is_standard} == {"XT": "Y", "TJ": "Y", "SX": "Y"}
    assert all(lv.organisation_kinds == "YS" for lv in levels if lv.is_standard)


@pytest.mark.parametrize(("code", "digit"), [("5", "5"), ("1", "1"), ("XT", "6"), ("TJ", "7"), ("SX", "8")])
def test_numbers_are_written_and_read_back_by_each_levels_format(code, digit):
    level = Level.objects.get(code=code)
    number = number_format(level, prefix="Y000022000102", year="26", serial=42)
    assert number == f"Y00002200010226{digit}000042"
    assert len(number) == 22 and number[15] == digit
    assert level_for_number(number) == level
    assert level_for_number(number.lower()) == level


def test_numbers_in_no_levels_format_name_no_level():
    assert level_for_number("2201000300012345") is None  # an old 职业资格 number
    assert level_for_number("Y00002200010226900004") is None  # one digit short
    assert level_for_number("Y000022000102269000042") is None  # 9 is no level's digit
    assert level_for_number("X000022000102263000042") is None


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{prefix}{digit}{serial:06d}", "缺少字段:year"),
        ("{prefix}{year}{digit}{serial:06d}{region}", "未知字段:region"),
        ("{prefix}{year}{digit}{serial}", "{serial:06d}"),
        ("{prefix}{year}{digit}-{serial:06d}-{digit}", "只能出现一次"),
        ("{prefix}{year}{digit}tj{serial:06d}", "大写字母"),
        ("{prefix}{year}{digit}-{serial:06d}", "大写字母"),
        ("{prefix}{year}{digit}{serial:6d}", "{serial:06d}"),
        ("{prefix}{year}{digit}ZHUANYEJINENGTJ{serial:09d}", "不能超过32位"),
        ("{prefix}{year}{digit}{serial:06d", "花括号"),
    ],
)
def test_a_number_format_that_could_not_write_unique_numbers_is_refused(template, problem):
    level = Level.objects.get(code="TJ")
    level.number_format = template
    with pytest.raises(ValidationError) as exc:
        level.full_clean()
    assert any(problem in m for m in exc.value.message_dict["number_format"])


def test_a_province_changing_a_levels_format_changes_issuance_and_reading():
    level = Level.objects.get(code="TJ")
    level.number_format = "{prefix}{year}TJ{digit}{serial:04d}"
    level.full_clean()
    level.save()
    first, second = allocate_numbers("Y000022000102", datetime.date(2026, 5, 1), level, 2)
    assert (first, second) == ("Y00002200010226TJ70001", "Y00002200010226TJ70002")
    assert level_for_number(second) == level
    # A four-digit serial runs out at 9999: a clear refusal, never a number in another format.
    NumberCounter.objects.filter(prefix="Y000022000102", year="26", level_digit="7").update(last_serial=9999)
    with pytest.raises(Conflict):
        allocate_numbers("Y000022000102", datetime.date(2026, 5, 1), level, 1)


def test_bad_level_data_is_refused_when_loading_reference_data(monkeypatch):
    from occupations import services

    real = services._read

    def broken(name):
        data = real(name)
        if name == "levels.json":
            data = {**data, "levels": [{**lv, "number_format": "{prefix}{serial:06d}"} for lv in data["levels"]]}
        return data

    monkeypatch.setattr(services, "_read", broken)
    with pytest.raises(ValidationError):
        services.reference_load(update=True)
    assert Level.objects.get(code="5").number_format == Level.NATIONAL_NUMBER_FORMAT


def test_an_operator_edits_a_levels_format_in_the_admin_and_a_bad_one_is_refused(admin_client):
    level = Level.objects.get(code="TJ")
    url = f"/admin/occupations/level/{level.id}/change/"
    form = {
        "code": "TJ",
        "rank": level.rank,
        "name": level.name,
        "title": "",
        "number_digit": "7",
        "number_format": "{prefix}{digit}{serial:06d}",
        "organisation_kinds": "Y",
    }
    r = admin_client.post(url, form)
    assert r.status_code == 200 and "证书编号格式缺少字段:year" in r.content.decode()
    assert Level.objects.get(code="TJ").number_format == Level.NATIONAL_NUMBER_FORMAT

    r = admin_client.post(url, {**form, "number_format": "{prefix}{year}{digit}{serial:05d}", "number_digit": "5"})
    assert r.status_code == 200 and "errorlist" in r.content.decode()  # 5 is 五级's digit
    assert Level.objects.get(code="TJ").number_digit == "7"

    r = admin_client.post(url, {**form, "number_format": "{prefix}{year}{digit}{serial:05d}"})
    assert r.status_code == 302
    assert Level.objects.get(code="TJ").number_format == "{prefix}{year}{digit}{serial:05d}"
    assert AuditEntry.objects.filter(action="admin.change", object_id=str(level.id)).exists()
