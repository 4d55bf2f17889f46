"""The 2025 limits as data with dates, each on both sides of its boundary, alone and combined with the older rules:
holding a higher certificate (issued, imported, declared and verified), subsidy already paid elsewhere (transfers),
military service as insured time, 证岗相适; and policies that end, with their document basis."""

import datetime
from decimal import Decimal

import pytest

from occupations.models import Level, Occupation
from subsidies.eligibility import assess
from subsidies.models import (
    Claim,
    DeclaredCertificate,
    InsuranceRecord,
    MilitaryServiceRecord,
    OtherRegionExtract,
    OtherRegionSubsidyRecord,
    SubsidyPolicy,
)
from tests.factories import PersonFactory, region

from .conftest import make_certificate, no_shortage
from .test_eligibility import draft, failed, past_claim, rule

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def person():
    return PersonFactory()


def decide(cert, **kw):
    claim = draft(cert, claimed_on=kw.pop("claimed_on"), **{k: kw.pop(k) for k in list(kw) if k in ("months",)})
    for key, value in kw.items():
        setattr(claim, key, value)
    return assess([claim], today=claim.claimed_on)[0]


def occ(code: str) -> Occupation:
    return Occupation.objects.get(code=code)


# --- Holding a higher certificate (2025 wording) --------------------------------------------------------------


def test_a_higher_certificate_held_blocks_the_lower_claim_under_the_2025_wording(person):
    lower = make_certificate(person, level="4", issued_on=D(2025, 2, 1))
    higher = make_certificate(person, level="3", issued_on=D(2025, 4, 1))
    d = decide(lower, claimed_on=D(2025, 5, 6))
    assert failed(d) == {"no_lower"}
    facts = rule(d, "no_lower").facts
    assert higher.number in facts and "平台核发" in facts and "三级/高级工" in facts and "2025-04-01" in facts


def test_the_higher_certificate_counts_only_from_its_issue_date(person):
    lower = make_certificate(person, level="4", issued_on=D(2025, 2, 1))
    make_certificate(person, level="3", issued_on=D(2025, 5, 7))
    assert decide(lower, claimed_on=D(2025, 5, 6)).eligible
    assert "no_lower" in failed(decide(lower, claimed_on=D(2025, 5, 7)))


def test_under_the_2024_wording_only_a_subsidised_higher_level_blocks(person):
    lower = make_certificate(person, level="4", issued_on=D(2024, 2, 1))
    higher = make_certificate(person, level="3", issued_on=D(2024, 4, 1))
    d = decide(lower, claimed_on=D(2024, 6, 3))
    assert d.eligible and d.policy.code == "cc-2024"
    past_claim(higher, Claim.Status.PAID, D(2024, 5, 1))
    assert failed(decide(lower, claimed_on=D(2024, 6, 3))) == {"no_lower"}


def test_a_higher_certificate_of_another_occupation_or_a_lower_one_does_not_block(person):
    claimed = make_certificate(person, level="4", issued_on=D(2025, 2, 1))
    make_certificate(person, occupation="6-18-02-04", level="2", issued_on=D(2025, 3, 1))
    make_certificate(person, level="5", issued_on=D(2024, 3, 1))
    d = decide(claimed, claimed_on=D(2025, 5, 6))
    assert d.eligible, d.summary
    assert "未持有电工更高等级证书" in rule(d, "no_lower").facts


def test_a_revoked_higher_certificate_is_not_held(person):
    lower = make_certificate(person, level="4", issued_on=D(2025, 2, 1))
    make_certificate(person, level="3", issued_on=D(2025, 3, 1), status="revoked")
    assert decide(lower, claimed_on=D(2025, 5, 6)).eligible


def test_an_imported_historical_certificate_counts_and_says_so(person):
    lower = make_certificate(person, level="4", issued_on=D(2025, 2, 1))
    old = make_certificate(person, level="3", issued_on=D(2019, 6, 1))
    type(old).objects.filter(pk=old.pk).update(imported=True)
    facts = rule(decide(lower, claimed_on=D(2025, 5, 6)), "no_lower").facts
    assert "历史证书导入" in facts and old.number in facts


def test_a_declared_certificate_blocks_only_once_verified(person):
    lower = make_certificate(person, level="4", issued_on=D(2025, 2, 1))
    declared = DeclaredCertificate.objects.create(
        person=person,
        occupation=occ("6-31-01-03"),
        level=Level.objects.get(code="2"),
        number="JS2019000123",
        issuer="外省职业技能鉴定中心",
        issued_on=D(2019, 5, 1),
    )
    pending = decide(lower, claimed_on=D(2025, 5, 6))
    assert pending.eligible
    no_lower = rule(pending, "no_lower")
    assert not no_lower.verified and "JS2019000123待核实" in no_lower.facts
    declared.status, declared.verification = DeclaredCertificate.Status.VERIFIED, "全国联网查询核实一致"
    declared.save()
    d = decide(lower, claimed_on=D(2025, 5, 6))
    assert failed(d) == {"no_lower"}
    assert "本人申报,已核实:全国联网查询核实一致" in rule(d, "no_lower").facts
    declared.status = DeclaredCertificate.Status.REJECTED
    declared.save()
    assert decide(lower, claimed_on=D(2025, 5, 6)).eligible


def test_holding_higher_combines_with_the_yearly_cap(person):
    """Two rules failing at once are both named."""
    lower = make_certificate(person, level="4", issued_on=D(2025, 2, 1))
    make_certificate(person, level="3", issued_on=D(2025, 3, 1))
    no_shortage("4-03-02-07", 2025)
    other = make_certificate(person, occupation="4-03-02-07", level="5", issued_on=D(2025, 1, 5))
    past_claim(other, Claim.Status.APPROVED, D(2025, 1, 20))
    no_shortage("6-31-01-03", 2025)
    d = decide(lower, claimed_on=D(2025, 5, 6))
    assert failed(d) == {"no_lower", "yearly_cap"}


# --- Paid elsewhere, and transfers -----------------------------------------------------------------------------


def _extract(source: str, as_of: datetime.date) -> OtherRegionExtract:
    return OtherRegionExtract.objects.create(source_region=region(source), as_of=as_of, region=region("220100"))


def test_a_subsidy_paid_in_another_region_for_the_same_level_blocks(person):
    cert = make_certificate(person, level="4", issued_on=D(2025, 2, 1))
    extract = _extract("350200", D(2025, 4, 30))
    OtherRegionSubsidyRecord.objects.create(
        extract=extract, person=person, occupation=occ("6-31-01-03"), level=cert.level, paid_on=D(2025, 3, 20)
    )
    d = decide(cert, claimed_on=D(2025, 5, 6))
    assert failed(d) == {"elsewhere"}
    assert "厦门市记录:已于2025-03-20享受电工" in rule(d, "elsewhere").facts


def test_a_higher_level_paid_elsewhere_blocks_the_lower_even_under_2024(person):
    cert = make_certificate(person, level="4", issued_on=D(2024, 2, 1))
    OtherRegionSubsidyRecord.objects.create(
        extract=_extract("350200", D(2024, 4, 30)),
        person=person,
        occupation=occ("6-31-01-03"),
        level=Level.objects.get(code="3"),
        paid_on=D(2024, 3, 20),
    )
    d = decide(cert, claimed_on=D(2024, 6, 3))
    assert failed(d) == {"no_lower"} and "在厦门市享受" in rule(d, "no_lower").facts


def test_a_transfer_must_declare_and_is_verified_against_the_extract(person):
    cert = make_certificate(person, level="4", issued_on=D(2025, 2, 1))
    xiamen = region("350200")
    undeclared = decide(cert, claimed_on=D(2025, 5, 6), transferred_from=xiamen)
    assert failed(undeclared) == {"elsewhere"} and "须声明未在厦门市享受" in rule(undeclared, "elsewhere").facts
    declared = decide(cert, claimed_on=D(2025, 5, 6), transferred_from=xiamen, declares_not_paid_elsewhere=True)
    assert declared.eligible
    assert not rule(declared, "elsewhere").verified and "尚未导入厦门市的记录" in rule(declared, "elsewhere").facts
    _extract("350000", D(2025, 4, 30))  # the province's extract covers 厦门
    verified = decide(cert, claimed_on=D(2025, 5, 6), transferred_from=xiamen, declares_not_paid_elsewhere=True)
    assert rule(verified, "elsewhere").verified
    assert "已核对福建省记录(截至2025-04-30),无该补贴" in rule(verified, "elsewhere").facts


def test_a_version_that_does_not_check_transfers_takes_no_declaration(person):
    SubsidyPolicy.objects.filter(code="cc-2025").update(checks_other_regions=False)
    cert = make_certificate(person, level="4", issued_on=D(2025, 2, 1))
    d = decide(cert, claimed_on=D(2025, 5, 6), transferred_from=region("350200"))
    assert d.eligible and "不要求转入人员另行核实" in rule(d, "elsewhere").facts


# --- Military service as insured time ---------------------------------------------------------------------------


def _insured(person, months: int) -> None:
    InsuranceRecord.objects.create(person=person, months=months, as_of=D(2025, 4, 30), region=region("220100"))


@pytest.mark.parametrize(("served", "eligible"), [(6, True), (5, False)])
def test_military_service_tops_up_insured_time_where_the_version_counts_it(person, served, eligible):
    SubsidyPolicy.objects.filter(code="cc-2025").update(counts_military_service=True)
    _insured(person, 6)
    MilitaryServiceRecord.objects.create(
        person=person, months=served, discharged_on=D(2024, 9, 1), region=region("220100"), source="退役军人事务局"
    )
    cert = make_certificate(person, level="4", issued_on=D(2025, 2, 1))
    d = decide(cert, claimed_on=D(2025, 5, 6), months=None)
    assert d.eligible is eligible
    facts = rule(d, "insurance").facts
    assert f"服役记录{served}个月" in facts and f"合计{6 + served}个月" in facts


def test_military_service_does_not_count_where_the_version_says_nothing(person):
    _insured(person, 6)
    MilitaryServiceRecord.objects.create(
        person=person, months=36, discharged_on=D(2024, 9, 1), region=region("220100"), source="退役军人事务局"
    )
    cert = make_certificate(person, level="4", issued_on=D(2025, 2, 1))
    d = decide(cert, claimed_on=D(2025, 5, 6), months=None)
    assert failed(d) == {"insurance"} and "服役" not in rule(d, "insurance").facts


def test_declared_service_counts_but_is_marked_for_the_officer(person):
    SubsidyPolicy.objects.filter(code="cc-2025").update(counts_military_service=True)
    cert = make_certificate(person, level="4", issued_on=D(2025, 2, 1))
    d = decide(cert, claimed_on=D(2025, 5, 6), months=4, military_months_declared=8)
    assert d.eligible and not rule(d, "insurance").verified
    assert "本人申报服役8个月" in rule(d, "insurance").facts


# --- 证岗相适 -----------------------------------------------------------------------------------------------------


def _job_fit(source: str, match: str = "occupation") -> None:
    SubsidyPolicy.objects.filter(code="cc-2025").update(job_fit_source=source, job_fit_match=match)


def test_job_fit_is_not_checked_unless_the_version_asks(person):
    cert = make_certificate(person, level="4", issued_on=D(2025, 2, 1))
    d = decide(cert, claimed_on=D(2025, 5, 6), job_occupation=occ("4-03-02-07"))
    assert d.eligible and "不核查" in rule(d, "job_fit").facts


def test_the_employers_statement_must_fit_the_certificate(person):
    _job_fit("employer")
    cert = make_certificate(person, level="4", issued_on=D(2025, 2, 1))
    fits = decide(cert, claimed_on=D(2025, 5, 6), job_occupation=occ("6-31-01-03"))
    assert fits.eligible and "用人单位说明岗位:电工" in rule(fits, "job_fit").facts
    misfit = decide(cert, claimed_on=D(2025, 5, 6), job_occupation=occ("4-03-02-07"))
    assert failed(misfit) == {"job_fit"} and "不相适" in rule(misfit, "job_fit").facts


def test_the_minor_group_reading_accepts_a_neighbouring_occupation(person):
    """机修钳工 6-31-01-02 and 电工 6-31-01-03 share the 小类 6-31-01; 焊工 6-18-02-04 does not."""
    _job_fit("employer", "minor_group")
    cert = make_certificate(person, level="4", issued_on=D(2025, 2, 1))
    assert decide(cert, claimed_on=D(2025, 5, 6), job_occupation=occ("6-31-01-02")).eligible
    assert "job_fit" in failed(decide(cert, claimed_on=D(2025, 5, 6), job_occupation=occ("6-18-02-04")))


def test_the_insurance_records_job_is_read_and_none_at_all_goes_to_review(person):
    _job_fit("insurance")
    cert = make_certificate(person, level="4", issued_on=D(2025, 2, 1))
    unknown = decide(cert, claimed_on=D(2025, 5, 6), job_occupation=occ("4-03-02-07"))
    assert unknown.eligible and not rule(unknown, "job_fit").verified
    assert "转经办人员核实" in rule(unknown, "job_fit").facts
    InsuranceRecord.objects.create(
        person=person, months=24, as_of=D(2025, 4, 30), region=region("220100"), job_occupation=occ("6-18-02-04")
    )
    d = decide(cert, claimed_on=D(2025, 5, 6))
    assert failed(d) == {"job_fit"} and "参保登记岗位:焊工" in rule(d, "job_fit").facts


def test_job_fit_combined_with_insurance_short(person):
    _job_fit("either")
    InsuranceRecord.objects.create(
        person=person, months=5, as_of=D(2025, 4, 30), region=region("220100"), job_occupation=occ("6-18-02-04")
    )
    cert = make_certificate(person, level="4", issued_on=D(2025, 2, 1))
    assert failed(decide(cert, claimed_on=D(2025, 5, 6))) == {"job_fit", "insurance"}


# --- Policies that end, and their basis -----------------------------------------------------------------------


@pytest.mark.no_demo_policies
def test_a_claim_after_the_2025_notice_ended_is_refused_with_what_to_do(person):
    cert = make_certificate(person, level="4", issued_on=D(2025, 10, 1))
    assert decide(cert, claimed_on=D(2025, 12, 31)).eligible
    d = decide(cert, claimed_on=D(2026, 1, 1))
    assert not d.eligible and "policy" in failed(d)
    facts = rule(d, "policy").facts
    assert "南关区在2026-01-01没有施行中的技能提升补贴政策" in facts
    assert "已于2025-12-31到期" in facts and "新政策发布施行后" in facts


def test_the_demo_continuation_decides_2026_and_says_it_is_a_demonstration(person):
    cert = make_certificate(person, level="4", issued_on=D(2025, 10, 1))
    d = decide(cert, claimed_on=D(2026, 1, 1))
    assert d.policy.code == "cc-2026-demo"
    assert "演示政策,非正式文件" in rule(d, "policy").facts
    assert d.as_dict()["policy"]["is_demonstration"] is True


def test_a_version_without_document_is_marked_and_with_one_cites_it(person):
    cert = make_certificate(person, level="4", issued_on=D(2025, 2, 1))
    d = decide(cert, claimed_on=D(2025, 5, 6))
    assert "未登记文件依据" in rule(d, "policy").facts and d.as_dict()["policy"]["has_basis"] is False
    SubsidyPolicy.objects.filter(code="cc-2025").update(
        document_number="长人社联〔2025〕9号", document_date=D(2025, 3, 1)
    )
    d = decide(cert, claimed_on=D(2025, 5, 6))
    assert "长人社联〔2025〕9号,2025-03-01印发" in rule(d, "policy").facts
    assert d.as_dict()["policy"]["has_basis"] is True
    assert d.amount == Decimal(1500) or d.amount == Decimal(1950)


# --- Warnings before a policy ends ------------------------------------------------------------------------------


def test_officers_see_from_sixty_days_before_that_the_region_has_no_next_policy(cc_officer):
    from accounts.actors import Actor
    from subsidies.selectors import policy_lapses

    officer = Actor.for_user(cc_officer)
    assert policy_lapses(officer, today=D(2026, 10, 31)) == []  # 61 days before 2026-12-31
    lapses = policy_lapses(officer, today=D(2026, 11, 1))
    assert [lapse.region_code for lapse in lapses] == ["220100"]
    assert "将于2026-12-31到期(还有60天),2027-01-01起本地区尚无政策" in lapses[0].message
    assert "届时的申请将被拒绝" in lapses[0].message
    successor = SubsidyPolicy.objects.create(
        code="cc-2027",
        name="长春市技能提升补贴(2027年版)",
        region=region("220100"),
        effective_from=D(2027, 1, 1),
    )
    assert policy_lapses(officer, today=D(2026, 11, 2)) == []
    successor.delete()
    assert policy_lapses(Actor.anonymous(), today=D(2026, 11, 2)) == []


def test_the_daily_job_tells_each_lapse_once(cc_officer):
    from core.models import Notification
    from subsidies.services import policies_warn_lapse

    assert policies_warn_lapse(today=D(2026, 12, 1))["warned"] == 2  # 吉林省 and 长春市 demo versions
    assert Notification.objects.filter(user=cc_officer, title__contains="即将到期").exists()
    assert policies_warn_lapse(today=D(2026, 12, 2))["warned"] == 0


def test_the_queue_and_policies_pages_show_the_lapse_and_the_demo_mark(client, cc_officer):
    from tests.conftest import client_for

    c = client_for(cc_officer)
    html = c.get("/subsidies/queue/").content.decode()
    assert 'id="policy-lapses"' in html and "2026-12-31到期" in html
    public = client.get("/subsidies/policies/").content.decode()
    assert "演示政策,非正式文件" in public and 'id="policy-lapses"' not in public


# --- The records the rules read, imported ---------------------------------------------------------------------


def test_military_and_other_region_records_import_and_are_read(cc_officer, person):
    from accounts.actors import Actor
    from subsidies import records

    from .conftest import valid_person, xlsx

    worker = valid_person()
    officer = Actor.for_user(cc_officer)
    report = records.military_records_import(
        actor=officer,
        upload=xlsx([["姓名", "证件号码", "服役月数", "退役日期"], [worker.name, worker.id_number, 24, "2024-09-01"]]),
    )
    assert report.ok and report.created == 1
    assert MilitaryServiceRecord.objects.get(person=worker).months == 24
    bad = records.other_region_records_import(
        actor=officer,
        source_region_code="350200",
        upload=xlsx(
            [
                ["姓名", "证件号码", "职业编码", "等级", "发放日期"],
                [worker.name, worker.id_number, "6-31-01-03", "四级", "2025-03-20"],
                [worker.name, worker.id_number, "9-99-99-99", "四级", "2025-03-20"],
            ]
        ),
    )
    assert not bad.ok and [(e.row, e.column) for e in bad.errors] == [(3, "职业编码")]
    assert not OtherRegionExtract.objects.exists()  # all or nothing
    good = records.other_region_records_import(
        actor=officer,
        source_region_code="350200",
        as_of=D(2025, 4, 30),
        upload=xlsx(
            [
                ["姓名", "证件号码", "职业编码", "等级", "发放日期"],
                [worker.name, worker.id_number, "6-31-01-03", "四级", "2025-03-20"],
            ]
        ),
    )
    assert good.ok and OtherRegionSubsidyRecord.objects.get().extract.source_region.code == "350200"
    cert = make_certificate(worker, level="4", issued_on=D(2025, 2, 1))
    assert "elsewhere" in failed(decide(cert, claimed_on=D(2025, 5, 6)))


def test_declared_certificates_through_the_api_for_officers_only(cc_officer, person):
    import json

    from tests.conftest import client_for

    from .conftest import valid_person, worker_user

    holder = valid_person()
    body = {
        "id_number": holder.id_number,
        "occupation_code": "6-31-01-03",
        "level_code": "3",
        "number": "GD2020123456",
        "issued_on": "2020-06-01",
        "verified": True,
        "verification": "全国联网查询一致",
    }
    worker = client_for(worker_user())
    denied = worker.post("/api/v1/subsidies/declared-certificates", json.dumps(body), content_type="application/json")
    assert denied.status_code == 403 and not DeclaredCertificate.objects.exists()
    c = client_for(cc_officer)
    r = c.post("/api/v1/subsidies/declared-certificates", json.dumps(body), content_type="application/json")
    assert r.status_code == 201 and r.json()["status"] == "verified"
    again = c.post("/api/v1/subsidies/declared-certificates", json.dumps(body), content_type="application/json")
    assert again.status_code == 422
    cert = make_certificate(holder, level="4", issued_on=D(2026, 2, 1))
    assert "no_lower" in failed(decide(cert, claimed_on=D(2026, 5, 6)))


def test_a_worker_who_moved_in_declares_on_the_claim_form(person):
    from tests.conftest import client_for

    from .conftest import worker_user

    user = worker_user(person)
    cert = make_certificate(person, level="4", issued_on=D(2026, 6, 1))
    c = client_for(user)
    page = c.get(f"/subsidies/certificates/{cert.id}/claim/?transferred_from=350200").content.decode()
    assert "须声明未在厦门市享受" in page
    page = c.get(
        f"/subsidies/certificates/{cert.id}/claim/?transferred_from=350200&declares_not_paid_elsewhere=1"
    ).content.decode()
    assert "尚未导入厦门市的记录,待核实" in page
