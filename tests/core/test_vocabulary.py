"""One vocabulary: dates, money, masked ID numbers and the audit log in words, each from one filter."""

import datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import timezone

from accounts.actors import Actor
from core.audit import audit_record
from core.audit_words import action_words
from core.masking import mask_id_number
from tests.conftest import client_for
from tests.factories import OrganisationFactory, UserFactory, make_ric, region


def render(source: str, **context) -> str:
    return Template("{% load ui %}" + source).render(Context(context))


def test_dates_read_one_way_whatever_they_come_as():
    aware = timezone.make_aware(datetime.datetime(2026, 12, 7, 8, 1, 35), datetime.UTC)
    assert render("{{ d|day }}", d=datetime.date(2026, 12, 7)) == "2026-12-07"
    assert render("{{ d|day }}", d="2026-12-07") == "2026-12-07"
    # A moment is shown in the platform's time zone (Asia/Shanghai), to the minute, from an object or an ISO string.
    assert render("{{ t|moment }}", t=aware) == "2026-12-07 16:01"
    assert render("{{ t|moment }}", t="2026-12-07T16:01:35+08:00") == "2026-12-07 16:01"
    assert render("{{ t|day }}", t="2026-12-07T16:01:35+08:00") == "2026-12-07"
    assert render("{{ t|moment }}", t=None) == ""


def test_unfiltered_dates_follow_the_same_format():
    assert Template("{{ d }}").render(Context({"d": datetime.date(2026, 12, 7)})) == "2026-12-07"


def test_money_has_separators_two_decimals_and_its_unit():
    assert render("{{ x|yuan }}", x=Decimal("1950")) == "1,950.00 元"
    assert render("{{ x|yuan }}", x=1950.5) == "1,950.50 元"
    assert render("{{ x|money }}", x="1234567.891") == "1,234,567.89"
    assert render("{{ x|yuan }}", x=None) == ""


def test_id_numbers_are_masked_by_the_one_rule():
    number = make_ric()
    assert render("{{ n|masked_id }}", n=number) == mask_id_number(number) == number[:6] + "*" * 8 + number[-4:]
    assert render("{{ n|masked_id }}", n=mask_id_number(number)) == mask_id_number(number)


@pytest.mark.django_db
def test_a_user_is_called_by_real_name():
    named = UserFactory(username="cc_officer_x", first_name="刘芳")
    assert render("{{ u|person }}", u=named) == "刘芳"


def test_every_action_reads_in_words():
    assert action_words("filing.approve") == "批准备案"
    assert action_words("panel.assign") == "指派考评组成员"
    assert action_words("subsidy_claim.objection") == "补贴申请 · 提出异议"
    assert action_words("something.new") == "其他操作"


@pytest.mark.django_db
def test_the_audit_log_says_who_what_and_on_what_in_words(cc_officer):
    cc_officer.first_name = "刘芳"
    cc_officer.save()
    organisation = OrganisationFactory(name="长春示范评价机构", region=region("220102"))
    audit_record(
        actor=Actor.for_user(cc_officer),
        action="organisation.assign_prefix",
        obj=organisation,
        region_code="220102",
        before={"kind": "Y"},
        after={"kind": "S"},
    )
    audit_record(
        actor=Actor.platform(),
        action="filing.expire",
        object_type="accreditation.filing",
        object_id=999,
        region_code="220102",
    )
    html = client_for(cc_officer).get("/oversight/audit/").content.decode()
    row = html[html.index('data-action="organisation.assign_prefix"') :]
    row = row[: row.index("</tr>")]
    assert "刘芳" in row and cc_officer.username not in row
    assert "机构 · 分配编号前缀" in row
    assert f'href="/accreditation/organisations/{organisation.id}/"' in row and "长春示范评价机构" in row
    assert "南关区" in row and "220102" not in row.replace('data-action="', "")
    assert "accreditation.organisation" not in row.split("?object_type=")[0]
    # A changed field by its verbose name and a choice by its label.
    assert "机构类型" in row
    assert "社会培训评价组织" in row
    assert "系统自动处理" in html


def test_an_audited_code_without_words_is_left_to_the_raw_record():
    """A changed value that is a code no vocabulary names ("published", "request_id") is not shown as if it were
    words (the page gallery reads every page for such codes); a choice's value is shown by its label."""
    from core.audit_words import field_words

    assert field_words("national_reporting.reportrecord", "event", "zz_unlabelled") is None
    assert field_words("national_reporting.reportrecord", "kind", ["certificate", "zz_unlabelled"]) is None
    assert field_words("subsidies.claim", "status", "approved") == ("状态", "已审批待支付")
    assert field_words("subsidies.claim", "bank_name", "中国银行") == ("开户银行", "中国银行")
