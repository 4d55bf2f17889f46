"""The eligibility engine against the real rule data: every route of both templates, met exactly and missed
by a little, plus the distinctions a reviewer relies on (verified or declared, boundaries, related work)."""

import datetime
import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest

from assessments.eligibility import (
    TITLE_GRADES,
    Education,
    Evidence,
    HeldCertificate,
    HeldCredential,
    Status,
    Title,
    add_months,
    evaluate,
    fmt_date,
)

DATA = Path(__file__).resolve().parents[2] / "occupations" / "data"
TEMPLATES = json.loads((DATA / "eligibility_templates.json").read_text(encoding="utf-8"))["templates"]
LEVELS = json.loads((DATA / "levels.json").read_text(encoding="utf-8"))["levels"]
LEVEL_RANK = {lv["code"]: lv["rank"] for lv in LEVELS}
LEVEL_NAMES = {lv["code"]: lv["name"] for lv in LEVELS}

ON = datetime.date(2025, 6, 30)
DAY = datetime.timedelta(days=1)
ELECTRICIAN = "6-31-01-03"  # 电工
MAINTENANCE_FITTER = "6-31-01-02"  # 机修钳工, declared related to 电工 in these tests
WELDER = "6-18-02-04"  # 焊工, unrelated
EDUCATION_NAMES = {
    "technical_school": "技工学校",
    "secondary_vocational": "中等职业学校",
    "higher_vocational": "高等职业学校",
    "advanced_technical": "高级技工学校",
    "technician_college": "技师学院",
    "college": "大学专科",
    "bachelor": "大学本科",
    "master": "硕士研究生",
    "doctor": "博士研究生",
    "advanced_class": "技工院校高级工班",
}

ROUTES = [
    pytest.param(template, level, route, id=f"{template}-{level}-{route['code']}")
    for template, levels in TEMPLATES.items()
    for level, routes in levels.items()
    for route in routes
]
CONDITIONS = [
    pytest.param(template, level, route, index, id=f"{template}-{level}-{route['code']}-{index}-{cond['type']}")
    for template, levels in TEMPLATES.items()
    for level, routes in levels.items()
    for route in routes
    for index, cond in enumerate(route["all"])
]


def judge(routes, evidence, *, on=ON, related=(), occupation=ELECTRICIAN):
    return evaluate(
        routes,
        evidence,
        on=on,
        occupation_code=occupation,
        related_codes=related,
        level_rank=LEVEL_RANK,
        level_names=LEVEL_NAMES,
    )


def years_before(day: datetime.date, years: float) -> datetime.date:
    return add_months(day, -round(years * 12))


def lower_level(code: str) -> str | None:
    below = [c for c, rank in LEVEL_RANK.items() if rank < LEVEL_RANK[code]]
    return max(below, key=LEVEL_RANK.get) if below else None


def lower_grade(grade: str) -> str | None:
    below = [g for g, (rank, _) in TITLE_GRADES.items() if rank < TITLE_GRADES[grade][0]]
    return max(below, key=lambda g: TITLE_GRADES[g][0]) if below else None


def evidence_meeting(route: dict) -> Evidence:
    """A realistic candidate who meets the route exactly at its thresholds on ON, with verified documents."""
    evidence = Evidence(birth_date=datetime.date(1990, 5, 1), work_years=0.0)
    for cond in route["all"]:
        kind = cond["type"]
        if kind == "work_years":
            evidence = replace(evidence, work_years=max(evidence.work_years, float(cond["min"])))
        elif kind == "certificate":
            issued = years_before(ON, cond.get("min_years_since") or 3)
            cert = HeldCertificate(
                occupation_code=ELECTRICIAN, level_code=cond["level"], issued_on=issued, verified=True
            )
            evidence = replace(evidence, certificates=[*evidence.certificates, cert])
        elif kind == "certificate_kind":
            cred = HeldCredential(kind=cond["kind"], obtained_on=datetime.date(2022, 7, 1), verified=True)
            evidence = replace(evidence, certificate_kinds=[*evidence.certificate_kinds, cred])
        elif kind == "apprenticeship":
            evidence = replace(evidence, apprenticeship_completed=True)
        elif kind == "education":
            diploma = Education(kind=cond["kinds"][-1], in_field=True, graduated_on=datetime.date(2024, 7, 1))
            evidence = replace(evidence, education=[*evidence.education, diploma])
        elif kind == "age":
            evidence = replace(evidence, birth_date=years_before(ON, cond["min"]))
        elif kind == "title":
            obtained = years_before(ON, cond.get("min_years_since") or 3)
            evidence = replace(
                evidence, titles=[*evidence.titles, Title(grade=cond["grade"], obtained_on=obtained, verified=True)]
            )
        else:
            raise AssertionError(f"the data uses a condition type the test does not know: {kind}")
    return evidence


def evidence_missing(route: dict, index: int) -> tuple[Evidence, str]:
    """The exact-fit candidate, changed so that condition `index` fails by the smallest realistic margin,
    and the explanation the engine must give for it."""
    evidence = evidence_meeting(route)
    cond = route["all"][index]
    kind = cond["type"]
    if kind == "work_years":
        have = cond["min"] - 0.5
        return replace(evidence, work_years=have), f"工作年限{have:g}年,不足{cond['min']}年(还差6个月)"
    if kind == "certificate":
        level, name = cond["level"], LEVEL_NAMES[cond["level"]]
        others = [c for c in evidence.certificates if c.level_code != level]
        if cond.get("min_years_since"):
            n = cond["min_years_since"]
            issued = years_before(ON, n) + DAY
            cert = HeldCertificate(occupation_code=ELECTRICIAN, level_code=level, issued_on=issued, verified=True)
            expected = (
                f"持有本职业{name}证书({fmt_date(issued)}发证,平台核验),"
                f"发证不满{n}年({fmt_date(ON + DAY)}满{n}年,还差1天)"
            )
            return replace(evidence, certificates=[*others, cert]), expected
        lower = lower_level(level)
        if lower is None:
            return replace(evidence, certificates=others), f"未持有本职业{name}及以上证书"
        cert = HeldCertificate(
            occupation_code=ELECTRICIAN, level_code=lower, issued_on=years_before(ON, 8), verified=True
        )
        expected = f"未持有本职业{name}及以上证书(现持有本职业{LEVEL_NAMES[lower]}证书)"
        return replace(evidence, certificates=[*others, cert]), expected
    if kind == "certificate_kind":
        return replace(evidence, certificate_kinds=[]), "未持有预备技师证书"
    if kind == "apprenticeship":
        return replace(evidence, apprenticeship_completed=False), "未完成本职业学徒期"
    if kind == "education":
        school = cond["kinds"][-1]
        if not cond["final_year_ok"]:
            student = Education(kind=school, in_field=True, final_year_student=True)
            expected = f"{EDUCATION_NAMES[school]}在读应届毕业生,本路径须已取得毕业证书"
            return replace(evidence, education=[student]), expected
        other_field = Education(kind=school, in_field=False, graduated_on=datetime.date(2024, 7, 1))
        return replace(evidence, education=[other_field]), f"持有{EDUCATION_NAMES[school]}学历,但非本专业"
    if kind == "age":
        n = cond["min"]
        born = years_before(ON, n) + DAY
        expected = f"未满{n}周岁(现年{n - 1}岁,{fmt_date(ON + DAY)}年满{n}周岁,还差1天)"
        return replace(evidence, birth_date=born), expected
    if kind == "title":
        grade, name = cond["grade"], TITLE_GRADES[cond["grade"]][1]
        if cond.get("min_years_since"):
            n = cond["min_years_since"]
            obtained = years_before(ON, n) + DAY
            expected = f"取得{name}不满{n}年({fmt_date(obtained)}取得,{fmt_date(ON + DAY)}满{n}年,还差1天)"
            return replace(evidence, titles=[Title(grade=grade, obtained_on=obtained, verified=True)]), expected
        lower = lower_grade(grade)
        if lower is None:
            return replace(evidence, titles=[]), f"未取得{name.removesuffix('职称')}及以上职称"
        held = Title(grade=lower, obtained_on=years_before(ON, 6), verified=True)
        return replace(
            evidence, titles=[held]
        ), f"未取得{name.removesuffix('职称')}及以上职称(现有{TITLE_GRADES[lower][1]})"
    raise AssertionError(f"the data uses a condition type the test does not know: {kind}")


# --- every route of the data ----------------------------------------------------------------------------


def test_the_data_uses_only_condition_types_the_engine_knows():
    from assessments.eligibility import CONDITION_TYPES

    used = {c["type"] for levels in TEMPLATES.values() for routes in levels.values() for r in routes for c in r["all"]}
    assert used <= set(CONDITION_TYPES)
    assert set(TEMPLATES) == {"2018", "2023"}


@pytest.mark.parametrize(("template", "level", "route"), ROUTES)
def test_each_route_is_met_by_a_candidate_exactly_at_its_thresholds(template, level, route):
    result = judge([route], evidence_meeting(route))

    assert result.status == Status.ELIGIBLE
    assert result.met_route.code == route["code"]
    assert all(c.met and not c.needs_review for c in result.met_route.conditions)
    assert result.summary() == f"符合申报条件:{route['label']}"


@pytest.mark.parametrize(("template", "level", "route"), ROUTES)
def test_each_route_met_exactly_makes_its_whole_level_eligible(template, level, route):
    result = judge(TEMPLATES[template][level], evidence_meeting(route))

    assert result.status == Status.ELIGIBLE
    assert next(r for r in result.routes if r.code == route["code"]).met


@pytest.mark.parametrize(("template", "level", "route", "index"), CONDITIONS)
def test_each_condition_missed_by_a_little_fails_the_route_and_says_why(template, level, route, index):
    evidence, expected = evidence_missing(route, index)

    result = judge([route], evidence)

    assert result.status == Status.INELIGIBLE
    assert result.met_route is None
    checked = result.routes[0]
    assert not checked.met and not checked.needs_review
    assert checked.conditions[index].explanation == expected
    assert not checked.conditions[index].met
    assert all(c.met for i, c in enumerate(checked.conditions) if i != index)
    assert result.summary() == f"不符合任何申报路径:{route['label']}——{expected}"


# --- verified and declared evidence -----------------------------------------------------------------------


def l5w4():
    return next(r for r in TEMPLATES["2018"]["4"] if r["code"] == "L5W4")


def test_a_declared_certificate_makes_the_candidate_need_review_not_eligible():
    declared = HeldCertificate(
        occupation_code=ELECTRICIAN, level_code="5", issued_on=datetime.date(2019, 3, 15), verified=False
    )
    evidence = Evidence(birth_date=datetime.date(1995, 8, 8), work_years=4.5, certificates=[declared])

    result = judge(TEMPLATES["2018"]["4"], evidence)

    assert result.status == Status.NEEDS_REVIEW
    assert result.met_route.code == "L5W4"
    assert not result.met_route.met and result.met_route.needs_review
    cert = result.met_route.conditions[0]
    assert (cert.met, cert.needs_review) == (False, True)
    assert cert.explanation == "持有本职业五级证书(2019年3月15日发证,申报人自报,待审核),发证已满4年"
    assert result.summary() == (
        "待审核:申报材料经审核属实即符合申报条件:取得五级证书后,累计从事本职业或相关职业工作满4年"
        "(须审核:持有本职业五级证书(2019年3月15日发证,申报人自报,待审核),发证已满4年)"
    )


def test_a_verified_certificate_is_preferred_over_a_declared_one():
    declared = HeldCertificate(
        occupation_code=ELECTRICIAN, level_code="4", issued_on=datetime.date(2018, 1, 1), verified=False
    )
    checked = HeldCertificate(
        occupation_code=ELECTRICIAN, level_code="5", issued_on=datetime.date(2021, 6, 1), verified=True
    )
    evidence = Evidence(birth_date=datetime.date(1995, 8, 8), work_years=4, certificates=[declared, checked])

    result = judge([l5w4()], evidence)

    assert result.status == Status.ELIGIBLE
    assert result.met_route.conditions[0].explanation == "持有本职业五级证书(2021年6月1日发证,平台核验),发证已满4年"


def test_a_route_met_on_verified_facts_wins_over_an_earlier_route_needing_review():
    declared = HeldCertificate(
        occupation_code=ELECTRICIAN, level_code="5", issued_on=datetime.date(2019, 3, 15), verified=False
    )
    evidence = Evidence(birth_date=datetime.date(1990, 1, 1), work_years=6, certificates=[declared])

    result = judge(TEMPLATES["2018"]["4"], evidence)

    assert result.status == Status.ELIGIBLE
    assert result.met_route.code == "W6"
    assert result.routes[0].needs_review


def test_a_declared_title_needs_review():
    title = Title(grade="intermediate", obtained_on=datetime.date(2022, 9, 1), verified=False)
    evidence = Evidence(birth_date=datetime.date(1988, 2, 2), titles=[title])

    result = judge(TEMPLATES["2023"]["2"], evidence)

    assert result.status == Status.NEEDS_REVIEW
    assert result.met_route.code == "MID_TITLE_W1"
    assert result.met_route.to_review == ["取得中级职称(2022年9月1日取得,申报人自报,待审核),已满1年"]


def test_a_declared_fact_cannot_rescue_a_route_that_fails_elsewhere():
    declared = HeldCertificate(
        occupation_code=ELECTRICIAN, level_code="5", issued_on=datetime.date(2019, 3, 15), verified=False
    )
    evidence = Evidence(birth_date=datetime.date(1995, 8, 8), work_years=3.5, certificates=[declared])

    result = judge([l5w4()], evidence)

    assert result.status == Status.INELIGIBLE
    route = result.routes[0]
    assert not route.needs_review
    assert route.missing == ["工作年限3.5年,不足4年(还差6个月)"]
    assert route.to_review == ["持有本职业五级证书(2019年3月15日发证,申报人自报,待审核),发证已满4年"]


# --- boundaries -------------------------------------------------------------------------------------------


FOUR_YEARS_AFTER_L4 = {
    "code": "X",
    "label": "四级证书满4年",
    "all": [{"type": "certificate", "level": "4", "min_years_since": 4}],
}


def test_exactly_four_years_on_the_anniversary_counts():
    cert = HeldCertificate(
        occupation_code=ELECTRICIAN, level_code="4", issued_on=datetime.date(2021, 6, 1), verified=True
    )
    evidence = Evidence(certificates=[cert])

    on_the_day = judge([FOUR_YEARS_AFTER_L4], evidence, on=datetime.date(2025, 6, 1))
    day_before = judge([FOUR_YEARS_AFTER_L4], evidence, on=datetime.date(2025, 5, 31))

    assert on_the_day.status == Status.ELIGIBLE
    assert on_the_day.summary() == "符合申报条件:四级证书满4年"
    assert on_the_day.routes[0].conditions[0].explanation == "持有本职业四级证书(2021年6月1日发证,平台核验),发证已满4年"
    assert day_before.status == Status.INELIGIBLE
    assert day_before.routes[0].conditions[0].explanation == (
        "持有本职业四级证书(2021年6月1日发证,平台核验),发证不满4年(2025年6月1日满4年,还差1天)"
    )


def test_a_certificate_issued_on_29_february_comes_of_age_on_28_february():
    cert = HeldCertificate(
        occupation_code=ELECTRICIAN, level_code="4", issued_on=datetime.date(2020, 2, 29), verified=True
    )
    evidence = Evidence(certificates=[cert])

    assert judge([FOUR_YEARS_AFTER_L4], evidence, on=datetime.date(2024, 2, 28)).status == Status.INELIGIBLE
    assert judge([FOUR_YEARS_AFTER_L4], evidence, on=datetime.date(2024, 2, 29)).status == Status.ELIGIBLE
    one_year = {
        "code": "Y",
        "label": "四级证书满1年",
        "all": [{"type": "certificate", "level": "4", "min_years_since": 1}],
    }
    assert judge([one_year], evidence, on=datetime.date(2021, 2, 28)).status == Status.ELIGIBLE
    assert judge([one_year], evidence, on=datetime.date(2021, 2, 27)).status == Status.INELIGIBLE


def test_age_is_reached_on_the_birthday():
    age16 = TEMPLATES["2023"]["5"]
    evidence = Evidence(birth_date=datetime.date(2009, 7, 1))

    birthday = judge(age16, evidence, on=datetime.date(2025, 7, 1))
    eve = judge(age16, evidence, on=datetime.date(2025, 6, 30))

    assert birthday.status == Status.ELIGIBLE
    assert birthday.routes[0].conditions[0].explanation == "年满16周岁(现年16岁)"
    assert eve.status == Status.INELIGIBLE
    assert eve.routes[0].conditions[0].explanation == "未满16周岁(现年15岁,2025年7月1日年满16周岁,还差1天)"


def test_age_names_the_current_age_of_an_adult():
    result = judge(TEMPLATES["2023"]["5"], Evidence(birth_date=datetime.date(1996, 3, 2)))

    assert result.routes[0].conditions[0].explanation == "年满16周岁(现年29岁)"


def test_a_missing_birth_date_fails_the_age_condition_and_says_so():
    result = judge(TEMPLATES["2023"]["5"], Evidence())

    assert result.status == Status.INELIGIBLE
    assert result.routes[0].conditions[0].explanation == "未提供出生日期,无法核对年龄"


def test_work_years_at_the_minimum_count_and_fractions_are_named():
    assert judge([l5w4()], Evidence(work_years=4)).routes[0].conditions[1].explanation == "工作年限4年,已满4年"
    short = judge([l5w4()], Evidence(work_years=3.7)).routes[0].conditions[1]
    assert short.explanation == "工作年限3.7年,不足4年(还差4个月)"  # 0.3年 = 3.6个月, rounded up


def test_the_title_year_counts_from_the_date_obtained():
    jr = next(r for r in TEMPLATES["2023"]["3"] if r["code"] == "JR_TITLE_W1")
    title = Title(grade="junior", obtained_on=datetime.date(2024, 9, 1), verified=True)

    assert judge([jr], Evidence(titles=[title]), on=datetime.date(2025, 9, 1)).status == Status.ELIGIBLE
    early = judge([jr], Evidence(titles=[title]), on=datetime.date(2025, 8, 31))
    assert early.routes[0].conditions[0].explanation.startswith("取得初级职称不满1年")


def test_documents_dated_after_the_evaluation_day_do_not_count_yet():
    cert = HeldCertificate(occupation_code=ELECTRICIAN, level_code="5", issued_on=ON + DAY, verified=True)

    result = judge([l5w4()], Evidence(work_years=5, certificates=[cert]))

    assert result.routes[0].conditions[0].explanation == "未持有本职业五级及以上证书"


# --- certificates: related occupations and levels ---------------------------------------------------------


def test_a_certificate_of_a_related_occupation_counts_when_declared_related():
    cert = HeldCertificate(
        occupation_code=MAINTENANCE_FITTER, level_code="5", issued_on=datetime.date(2020, 5, 20), verified=True
    )
    evidence = Evidence(work_years=4, certificates=[cert])

    related = judge([l5w4()], evidence, related=[MAINTENANCE_FITTER])
    unrelated = judge([l5w4()], evidence)

    assert related.status == Status.ELIGIBLE
    assert (
        related.routes[0].conditions[0].explanation
        == "持有相关职业(6-31-01-02)五级证书(2020年5月20日发证,平台核验),发证已满4年"
    )
    assert unrelated.status == Status.INELIGIBLE
    assert unrelated.routes[0].conditions[0].explanation == "未持有本职业五级及以上证书"


def test_a_certificate_of_an_unrelated_occupation_never_counts():
    cert = HeldCertificate(occupation_code=WELDER, level_code="3", issued_on=datetime.date(2015, 5, 20), verified=True)

    result = judge([l5w4()], Evidence(work_years=10, certificates=[cert]), related=[MAINTENANCE_FITTER])

    assert result.routes[0].conditions[0].explanation == "未持有本职业或相关职业五级及以上证书"


def test_a_higher_level_certificate_satisfies_a_lower_requirement():
    cert = HeldCertificate(
        occupation_code=ELECTRICIAN, level_code="3", issued_on=datetime.date(2019, 1, 10), verified=True
    )

    result = judge([l5w4()], Evidence(work_years=4, certificates=[cert]))

    assert result.status == Status.ELIGIBLE
    assert result.routes[0].conditions[0].explanation == "持有本职业三级证书(2019年1月10日发证,平台核验),发证已满4年"


def test_a_lower_level_certificate_does_not_satisfy_and_is_named():
    l4w5 = TEMPLATES["2018"]["3"][0]
    cert = HeldCertificate(
        occupation_code=ELECTRICIAN, level_code="5", issued_on=datetime.date(2015, 1, 10), verified=True
    )

    result = judge([l4w5], Evidence(work_years=9, certificates=[cert]))

    assert result.routes[0].conditions[0].explanation == "未持有本职业四级及以上证书(现持有本职业五级证书)"


def test_a_level_added_as_data_ranks_by_its_rank():
    ranks = {**LEVEL_RANK, "T": 60}
    cert = HeldCertificate(
        occupation_code=ELECTRICIAN, level_code="T", issued_on=datetime.date(2018, 1, 1), verified=True
    )
    route = TEMPLATES["2018"]["1"][0]

    result = evaluate(
        [route],
        Evidence(work_years=4, certificates=[cert]),
        on=ON,
        occupation_code=ELECTRICIAN,
        level_rank=ranks,
        level_names={**LEVEL_NAMES, "T": "特级技师"},
    )

    assert result.status == Status.ELIGIBLE
    assert result.routes[0].conditions[0].explanation == "持有本职业特级技师证书(2018年1月1日发证,平台核验),发证已满4年"


def test_a_higher_title_satisfies_a_lower_one():
    sr = Title(grade="senior", obtained_on=datetime.date(2023, 12, 1), verified=True)
    route = next(r for r in TEMPLATES["2023"]["3"] if r["code"] == "JR_TITLE_W1")

    result = judge([route], Evidence(titles=[sr]))

    assert result.status == Status.ELIGIBLE
    assert result.routes[0].conditions[0].explanation == "取得副高级职称(2023年12月1日取得,平台核验),已满1年"


# --- education --------------------------------------------------------------------------------------------


def test_a_final_year_student_counts_where_the_route_allows_it():
    edu_voc = next(r for r in TEMPLATES["2018"]["4"] if r["code"] == "EDU_VOC")
    student = Education(kind="technical_school", in_field=True, final_year_student=True)

    result = judge([edu_voc], Evidence(birth_date=datetime.date(2007, 9, 1), education=[student]))

    assert result.status == Status.ELIGIBLE
    assert result.routes[0].conditions[0].explanation == "本专业技工学校在读应届毕业生"


def test_no_diploma_of_the_kinds_asked_names_them_all():
    edu_voc = next(r for r in TEMPLATES["2018"]["4"] if r["code"] == "EDU_VOC")
    bachelor = Education(kind="bachelor", in_field=True, graduated_on=datetime.date(2018, 7, 1))

    result = judge([edu_voc], Evidence(education=[bachelor]))

    assert result.routes[0].conditions[0].explanation == (
        "无本专业技工学校、中等职业学校、高等职业学校、高级技工学校或技师学院毕业证书(含在读应届毕业生)"
    )


# --- explanations and storage -----------------------------------------------------------------------------


def test_an_ineligible_candidate_is_told_what_each_route_lacks():
    result = judge(TEMPLATES["2018"]["4"], Evidence(birth_date=datetime.date(2000, 1, 1), work_years=2))

    assert result.status == Status.INELIGIBLE
    assert result.summary() == (
        "不符合任何申报路径:"
        "取得五级证书后,累计从事本职业或相关职业工作满4年——未持有本职业五级及以上证书,工作年限2年,不足4年(还差2年);"
        "累计从事本职业或相关职业工作满6年——工作年限2年,不足6年(还差4年);"
        "技工学校或中等及以上职业学校本专业毕业(含在读应届毕业生)——"
        "无本专业技工学校、中等职业学校、高等职业学校、高级技工学校或技师学院毕业证书(含在读应届毕业生)"
    )


def test_the_result_is_stored_as_plain_json():
    cert = HeldCertificate(
        occupation_code=ELECTRICIAN, level_code="5", issued_on=datetime.date(2021, 6, 1), verified=True
    )
    result = judge(TEMPLATES["2018"]["4"], Evidence(work_years=4, certificates=[cert]))

    stored = json.loads(json.dumps(result.as_dict(), ensure_ascii=False))

    assert stored["status"] == "eligible"
    assert stored["met_route"] == "L5W4"
    assert stored["evaluated_on"] == "2025-06-30"
    assert stored["occupation_code"] == ELECTRICIAN
    assert stored["related_codes"] == []
    assert stored["summary"] == "符合申报条件:取得五级证书后,累计从事本职业或相关职业工作满4年"
    assert [r["code"] for r in stored["routes"]] == ["L5W4", "W6", "EDU_VOC"]
    assert stored["routes"][0]["conditions"][0] == {
        "type": "certificate",
        "condition": {"type": "certificate", "level": "5", "min_years_since": 4},
        "met": True,
        "needs_review": False,
        "explanation": "持有本职业五级证书(2021年6月1日发证,平台核验),发证已满4年",
    }


def test_an_unknown_condition_type_fails_its_route_loudly(caplog):
    routes = [
        {"code": "NEW", "label": "新条件", "all": [{"type": "skill_contest", "rank": 3}]},
        {"code": "W1", "label": "工作满1年", "all": [{"type": "work_years", "min": 1}]},
    ]

    with caplog.at_level(logging.WARNING, logger="assessments.eligibility"):
        result = judge(routes, Evidence(work_years=0.5))

    assert result.status == Status.INELIGIBLE
    assert result.routes[0].conditions[0].explanation == "未知条件类型:skill_contest"
    assert not result.routes[0].met and not result.routes[0].needs_review
    assert "skill_contest" in caplog.text
    assert judge(routes, Evidence(work_years=1)).met_route.code == "W1"


def test_a_condition_with_a_missing_parameter_fails_its_route_loudly(caplog):
    routes = [{"code": "BAD", "label": "配置错误", "all": [{"type": "work_years"}]}]

    with caplog.at_level(logging.WARNING, logger="assessments.eligibility"):
        result = judge(routes, Evidence(work_years=30))

    assert result.status == Status.INELIGIBLE
    assert result.routes[0].conditions[0].explanation == "条件配置有误:work_years的参数min缺失或无效"
    assert "BAD" in caplog.text


def test_a_route_without_conditions_admits_nobody():
    result = judge([{"code": "EMPTY", "label": "空路径", "all": []}], Evidence(work_years=30))

    assert result.status == Status.INELIGIBLE


def test_a_level_without_routes_is_ineligible_and_says_so():
    result = judge([], Evidence(work_years=30))

    assert result.status == Status.INELIGIBLE
    assert result.summary() == "不符合任何申报路径:该等级未配置申报条件"
