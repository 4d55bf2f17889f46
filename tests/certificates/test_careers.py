"""贯通: skill-level certificates → professional titles, as dated data, on the worker's page and API."""

import datetime
from decimal import Decimal

import pytest

from accounts.models import Role
from certificates.careers import eligible_from, pathways_for
from certificates.models import Certificate
from occupations.models import EquivalenceRule, Level
from occupations.services import reference_load
from tests.conftest import client_for
from tests.factories import PersonFactory, member

pytestmark = pytest.mark.django_db

D = datetime.date
TODAY = D(2026, 11, 29)


def certificate(person, level: str, issued_on: datetime.date, *, imported: bool = False, region="220102", **kw):
    n = Certificate.objects.count() + 1
    return Certificate.objects.create(
        number=f"S00002200010226{level}{n:06d}",
        person=person,
        level=Level.objects.get(code=level),
        holder_name=person.name,
        id_type="居民身份证",
        id_number=person.id_number,
        occupation_name="电工",
        organisation_name="长春测试评价机构",
        issued_on=issued_on,
        region_code=region,
        imported=imported,
        token=f"token-{n}",
        **kw,
    )


def test_the_reference_data_holds_the_2020_rules_and_loading_again_changes_nothing():
    rules = {r.code: r for r in EquivalenceRule.objects.filter(target="title")}
    assert (rules["L3_TO_ASSISTANT_ENGINEER"].target_title, rules["L3_TO_ASSISTANT_ENGINEER"].min_years) == (
        "助理工程师",
        Decimal("2"),
    )
    assert (rules["L2_TO_ENGINEER"].target_title, rules["L2_TO_ENGINEER"].min_years) == ("工程师", Decimal("3"))
    assert (rules["L1_TO_SENIOR_ENGINEER"].target_title, rules["L1_TO_SENIOR_ENGINEER"].min_years) == (
        "高级工程师",
        Decimal("0"),
    )
    assert all("96号" in r.basis for r in rules.values())
    assert EquivalenceRule.objects.filter(target="skill_level", source="title").count() == 4
    assert not reference_load()


def test_an_imported_high_level_certificate_makes_its_holder_eligible_two_years_after_issue():
    person = PersonFactory()
    certificate(person, "3", D(2022, 3, 15), imported=True)
    [path] = pathways_for(person, today=TODAY)
    assert (path.target, path.eligible_from, path.eligible_now) == ("助理工程师", D(2024, 3, 15), True)
    assert path.certificate_imported and path.rule_code == "L3_TO_ASSISTANT_ENGINEER"
    assert "2024年3月15日" in path.explanation and "96号" in path.basis


def test_a_certificate_older_than_the_rule_counts_from_the_day_the_rule_took_effect():
    person = PersonFactory()
    certificate(person, "3", D(2017, 6, 1))
    [path] = pathways_for(person, today=TODAY)
    assert path.eligible_from == D(2020, 12, 17)


def test_a_recent_certificate_shows_the_future_date():
    person = PersonFactory()
    certificate(person, "2", D(2025, 7, 1))
    paths = {p.target: p for p in pathways_for(person, today=TODAY)}
    # A 技师 has passed 高级工 too, so it also leads to 助理工程师 (2 years), and to 工程师 after 3.
    assert (paths["助理工程师"].eligible_from, paths["助理工程师"].eligible_now) == (D(2027, 7, 1), False)
    assert paths["工程师"].eligible_from == D(2028, 7, 1)
    assert "高级工程师" not in paths


def test_the_earliest_certificate_wins_for_each_title():
    person = PersonFactory()
    certificate(person, "3", D(2021, 1, 10))
    certificate(person, "1", D(2026, 1, 5))
    paths = {p.target: p for p in pathways_for(person, today=TODAY)}
    assert paths["助理工程师"].eligible_from == D(2023, 1, 10)
    assert (paths["高级工程师"].eligible_from, paths["高级工程师"].eligible_now) == (D(2026, 1, 5), True)


def test_revoked_certificates_and_lower_levels_lead_nowhere():
    person = PersonFactory()
    certificate(person, "3", D(2020, 1, 1), status=Certificate.Status.REVOKED)
    certificate(person, "4", D(2015, 1, 1))
    assert pathways_for(person, today=TODAY) == []


def test_a_superseded_rule_answers_before_its_end_and_its_successor_after():
    """Jilin replaces the national 2-year rule with a 3-year one from 2026: the date a certificate becomes usable
    decides which rule applies, and a certificate the old rule never reached is judged by the new one."""
    national = EquivalenceRule.objects.get(code="L3_TO_ASSISTANT_ENGINEER")
    national.effective_to = D(2025, 12, 31)
    national.save()
    EquivalenceRule.objects.create(
        code="JL_L3_TO_ASSISTANT_ENGINEER",
        label="吉林:取得三级证书后满3年,可申报助理工程师",
        source="skill_level",
        source_level=Level.objects.get(code="3"),
        min_years=3,
        target="title",
        target_title="助理工程师",
        scope="22",
        basis="吉人社规〔2025〕示例",
        effective_from=D(2026, 1, 1),
    )
    early, late, elsewhere = PersonFactory(), PersonFactory(), PersonFactory()
    certificate(early, "3", D(2023, 5, 1))
    certificate(late, "3", D(2024, 6, 1))
    certificate(elsewhere, "3", D(2024, 6, 1), region="110105")
    [p_early] = pathways_for(early, today=TODAY)
    assert (p_early.rule_code, p_early.eligible_from) == ("L3_TO_ASSISTANT_ENGINEER", D(2025, 5, 1))
    [p_late] = pathways_for(late, today=TODAY)
    assert (p_late.rule_code, p_late.eligible_from) == ("JL_L3_TO_ASSISTANT_ENGINEER", D(2027, 6, 1))
    assert pathways_for(elsewhere, today=TODAY) == []  # the national rule ended; Jilin's does not reach Beijing


def test_eligible_from_never_precedes_the_rule_and_a_rule_that_ended_first_gives_nothing():
    rule = EquivalenceRule(min_years=2, effective_from=D(2020, 12, 17), effective_to=D(2022, 12, 31))
    assert eligible_from(rule, D(2018, 1, 1)) == D(2020, 12, 17)
    assert eligible_from(rule, D(2020, 12, 31)) == D(2022, 12, 31)
    assert eligible_from(rule, D(2021, 1, 1)) is None


def test_the_worker_sees_their_paths_on_the_page_and_in_the_api():
    person = PersonFactory()
    certificate(person, "3", D(2022, 3, 15), imported=True)
    other = PersonFactory()
    certificate(other, "2", D(2015, 3, 15))
    worker = member(Role.WORKER, person=person)
    page = client_for(worker).get("/certificates/careers/")
    assert page.status_code == 200
    html = page.content.decode()
    assert (
        "助理工程师" in html
        and "2024年3月15日" in html
        and "历史证书" in html
        and "工程师" not in html.replace("助理工程师", "")
    )
    api = client_for(worker).get("/api/v1/careers/mine")
    assert api.status_code == 200
    assert [(p["target"], p["eligible_from"]) for p in api.json()] == [("助理工程师", "2024-03-15")]


def test_a_worker_without_certificates_sees_an_empty_state_and_an_account_without_identity_is_refused():
    worker = member(Role.WORKER, person=PersonFactory())
    assert "尚不对应可申报的职称" in client_for(worker).get("/certificates/careers/").content.decode()
    assert client_for(worker).get("/api/v1/careers/mine").json() == []
    nobody = member(Role.WORKER)
    response = client_for(nobody).get("/api/v1/careers/mine")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert client_for().get("/certificates/careers/").status_code == 302
    assert client_for().get("/api/v1/careers/mine").status_code == 401


def test_an_operator_adds_a_rule_in_the_admin_it_is_validated_and_audited(operator):
    from core.models import AuditEntry

    c = client_for(operator)
    base = {
        "code": "JL_L2_TO_ENGINEER",
        "label": "吉林:技师满2年可申报工程师",
        "source": "skill_level",
        "source_education_kinds": "[]",
        "min_years": "2",
        "target": "title",
        "extra_conditions": "[]",
        "standard_templates": "[]",
        "scope": "22",
        "basis": "吉人社规示例",
        "effective_from": "2027-01-01",
    }
    refused = c.post("/admin/occupations/equivalencerule/add/", base)
    assert refused.status_code == 200 and not EquivalenceRule.objects.filter(code="JL_L2_TO_ENGINEER").exists()
    assert "请选择所持技能等级" in refused.content.decode() and "请填写可申报的职称" in refused.content.decode()
    level = Level.objects.get(code="2")
    response = c.post(
        "/admin/occupations/equivalencerule/add/", {**base, "source_level": level.id, "target_title": "工程师"}
    )
    assert response.status_code == 302
    rule = EquivalenceRule.objects.get(code="JL_L2_TO_ENGINEER")
    assert AuditEntry.objects.filter(object_type="occupations.equivalencerule", object_id=str(rule.pk)).exists()
