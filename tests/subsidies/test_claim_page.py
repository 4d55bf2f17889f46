"""The worker's claim pages as a person reads them: the form before the check, a question not yet answered
shown as 待填写 (not as a refusal), the rules folded, the steps of the claim with their dates, a late deadline
counted forward in working days, and money with its unit."""

import datetime
import re

import pytest
from django.utils import timezone

from occupations.workdays import WorkCalendar
from subsidies import payments, services
from subsidies.models import Claim
from tests.conftest import client_for

from .conftest import ACCOUNT, A, make_certificate, submit

pytestmark = [pytest.mark.django_db]
D = datetime.date


def steps_of(html: str) -> dict[str, tuple[str, str]]:
    """{step code: (state, text)} from the claim page's tracker."""
    found = re.findall(
        r'<li class="step (\w+)" data-step="(\w+)"[^>]*>\s*<strong>[^<]*</strong>\s*<span class="small">([^<]*)</span>',
        html,
    )
    return {code: (state, text.strip()) for state, code, text in found}


def test_the_form_comes_first_and_an_unanswered_question_is_not_a_refusal(holder):
    c, cert = client_for(holder), holder.cert
    url = f"/subsidies/certificates/{cert.id}/claim/"
    html = c.get(url).content.decode()
    assert html.index('id="claim-form"') < html.index('id="check"') < html.index('id="rules-all"')
    assert "待填写" in html and "不符合补贴条件" not in html and "✗" not in html
    # The unanswered rule is shown outside the fold; the full list is folded (a <details> without `open`).
    assert re.search(r'<li class="rule rule-insurance"><span class="badge warn">待填写</span>', html)
    assert re.search(r'<details class="rule-fold" id="rules-all">', html)
    assert " style=" not in html and not re.search(r"<script>(?!</script>)", html)  # the CSP allows neither
    # Answered: eligible, the amount with its unit.
    html = c.post(url, {"preview": "1", "category": "employee", "insurance_months": "24"}).content.decode()
    assert "符合补贴条件" in html and "待填写" not in html and re.search(r"补贴[\d,]+(\.\d+)?元", html)
    # Answered and short: now a refusal, with the reason.
    html = c.post(url, {"preview": "1", "category": "employee", "insurance_months": "3"}).content.decode()
    assert "不符合补贴条件" in html and "不足" in html and "待填写" not in html


def test_a_real_failure_beside_an_unanswered_question_is_a_refusal(holder):
    c, cert = client_for(holder), holder.cert
    url = f"/subsidies/certificates/{cert.id}/claim/"
    html = c.post(url, {"preview": "1", "category": "student"}).content.decode()
    assert "不符合补贴条件" in html and "全日制在校学生不在补贴范围内" in html
    assert 'rule-insurance"><span class="badge warn">待填写' in html  # still says what is missing


def test_the_claim_page_tracks_each_step_with_its_date(holder, cc_officer, cc_officer2):
    claim = submit(holder, holder.cert)
    c = client_for(holder)
    url = f"/subsidies/claims/{claim.id}/"
    steps = steps_of(c.get(url).content.decode())
    assert list(steps) == ["submit", "review", "second_review", "publicity", "approve", "pay"]
    assert steps["submit"] == ("done", str(claim.claimed_on)) and steps["review"] == ("current", "办理中")
    assert {steps[s][0] for s in ("second_review", "publicity", "approve", "pay")} == {"todo"}

    today = timezone.localdate()
    services.claim_review(actor=A(cc_officer), claim_id=claim.id, decision="pass")
    services.claim_second_review(actor=A(cc_officer2), claim_id=claim.id, decision="pass")
    claim.refresh_from_db()
    html = c.get(url).content.decode()
    steps = steps_of(html)
    assert steps["review"] == ("done", str(today)) and steps["second_review"] == ("done", str(today))
    assert steps["publicity"] == ("current", f"公示至 {claim.publicity_ends_on}")
    assert 'aria-current="step"' in html

    Claim.objects.filter(pk=claim.id).update(publicity_ends_on=today - datetime.timedelta(days=1))
    services.claim_approve(actor=A(cc_officer), claim_id=claim.id)
    batch = payments.batch_create(actor=A(cc_officer), month=today.strftime("%Y-%m"))
    payments.payment_mark_paid(actor=A(cc_officer), batch_id=batch.id, claim_id=claim.id, bank_reference="ICBC-9")
    claim.refresh_from_db()
    html = c.get(url).content.decode()
    steps = steps_of(html)
    assert {s for s, _t in steps.values()} == {"done"}
    assert steps["approve"][1] == str(today) and steps["pay"][1] == str(claim.paid_on)
    assert re.search(r"<strong>\d[\d,]*(\.\d+)? 元</strong>", html)  # the amount with its unit


def test_a_refused_claim_stops_where_it_was_refused(holder, cc_officer):
    claim = submit(holder, holder.cert)
    services.claim_review(actor=A(cc_officer), claim_id=claim.id, decision="reject", reason="材料不全")
    steps = steps_of(client_for(holder).get(f"/subsidies/claims/{claim.id}/").content.decode())
    assert steps["submit"][0] == "done"
    assert steps["review"] == ("stopped", f"不予补贴 {timezone.localdate()}")
    assert {steps[s][0] for s in ("second_review", "publicity", "approve", "pay")} == {"todo"}


def test_a_late_claim_says_how_many_working_days_late_never_a_negative_remainder(worker, cc_officer):
    late = submit(worker, make_certificate(worker.person, issued_on=D(2025, 6, 2)), today=D(2025, 9, 26))
    late_by = -WorkCalendar().working_days_between(timezone.localdate(), late.due_on)
    assert late_by > 0
    for user in (worker, cc_officer):
        html = client_for(user).get(f"/subsidies/claims/{late.id}/").content.decode()
        assert f"已超期 {late_by} 个工作日" in html and "剩余-" not in html and "剩余 -" not in html
    queue = client_for(cc_officer).get("/subsidies/queue/").content.decode()
    assert f"已超期 {late_by} 个工作日" in queue


def test_a_claim_on_time_counts_the_working_days_left(holder):
    claim = submit(holder, holder.cert)
    left = WorkCalendar().working_days_between(timezone.localdate(), claim.due_on)
    html = client_for(holder).get(f"/subsidies/claims/{claim.id}/").content.decode()
    assert f"剩余 {left} 个工作日" in html and "已超期" not in html and ACCOUNT not in html


def test_objections_sent_back_for_a_missing_field_do_not_use_up_the_allowance(
    holder, cc_officer, cc_officer2, settings
):
    from accounts.actors import Actor
    from core.errors import RateLimited, ValidationFailed
    from subsidies.models import Objection

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "public_report": (2, 3600)}
    claim = submit(holder, holder.cert)
    services.claim_review(actor=A(cc_officer), claim_id=claim.id, decision="pass")
    services.claim_second_review(actor=A(cc_officer2), claim_id=claim.id, decision="pass")
    anyone = {"actor": Actor(), "claim_id": claim.id, "client_ip": "10.0.0.1"}
    for _ in range(3):
        with pytest.raises(ValidationFailed):
            services.objection_raise(text="  ", **anyone)
    for _ in range(2):
        services.objection_raise(text="此人未在本单位工作", **anyone)
    # Over the allowance: refused before anything is looked at, saying how long to wait.
    with pytest.raises(RateLimited, match="分钟后再试"):
        services.objection_raise(text="", **anyone)
    assert Objection.objects.filter(claim=claim).count() == 2
