"""The operator cancels a qualification after seeing what it touches; a candidate of a plan announced before
the cancellation chooses a refund on their phone; the organisation records the refund."""

import datetime

import pytest
from django.utils import timezone

from assessments.models import CancellationChoice, Registration
from occupations.models import Occupation, Qualification
from tests.assessments.conftest import file_organisation, make_candidates, make_plan
from tests.factories import PASSWORD, Role, member

from .conftest import login, logout

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def caught_plan(org, org_admin, cc_officer):
    qual = Qualification.objects.create(name="中式烹调师(测试)", kind="evaluation", status="listed")
    Occupation.objects.filter(code="4-03-02-01").update(qualification=qual)
    file_organisation(org, org_admin, cc_officer)
    plan = make_plan(org, org_admin, occupation="4-03-02-01", levels=("4",))
    regs = make_candidates(plan, org_admin, "4", 2)
    return qual, plan, regs


def test_cancel_then_refund_then_record(live_server, page, phone, shots, caught_plan, operator, org_admin):
    base = live_server.url
    qual, plan, regs = caught_plan
    candidate = member(Role.WORKER, person=regs[0].person)
    effective_on = timezone.localdate() + datetime.timedelta(days=5)

    # 1. The operator records the cancellation and sees its impact before confirming.
    login(page, base, "operator", "x-operator-1")
    page.click("#catalogue-changes")
    page.select_option("select[name=qualification_id]", str(qual.id))
    page.select_option("select[name=kind]", "cancel")
    page.fill("input[name=effective_on]", effective_on.isoformat())
    page.fill("input[name=basis]", "人社部发〔2026〕99号")
    page.click("#preview")
    page.wait_for_selector("#impact-counts")
    assert plan.title in page.inner_text("#impact-plans")
    assert regs[0].person.name in page.inner_text("#impact-candidates")
    assert "已报名考生 2 人" in page.inner_text("#impact-counts")
    shots(page, "impact-preview")
    page.click("#confirm")
    page.wait_for_selector("#change-status:has-text('已确认')")
    shots(page, "confirmed")
    logout(page)

    # 2. On a phone, the candidate chooses a refund.
    choice = CancellationChoice.objects.get(registration=regs[0])
    login(phone, base, candidate.username, PASSWORD)
    phone.goto(f"{base}/assessments/my/")
    assert "中式烹调师(测试)" in phone.inner_text(f"#choice-{choice.id}")
    shots(phone, "choice-phone")
    phone.on("dialog", lambda d: d.accept())
    phone.click(f"#refund-{choice.id}")
    phone.wait_for_selector(f"#choice-state-{choice.id}:has-text('待退费')")
    shots(phone, "refund-chosen-phone")
    assert Registration.objects.get(pk=regs[0].pk).status == Registration.Status.WITHDRAWN

    # 3. The organisation sees the choice and records the refund.
    login(page, base, org_admin.username, PASSWORD)
    page.goto(f"{base}/assessments/manage/{plan.id}/")
    page.click("#cancellation-link")
    row = page.locator(f"#choice-row-{choice.id}")
    row.locator("input[name=amount]").fill("200")
    row.locator("input[name=reference]").fill("ZZ20261129001")
    shots(page, "refund-form")
    row.locator("button").click()
    page.wait_for_selector(f"#choice-row-{choice.id}:has-text('已退费')")
    assert "已退费 1" in page.inner_text("#choice-summary")
    shots(page, "refund-recorded")
    choice.refresh_from_db()
    assert choice.refunded and choice.refund_reference == "ZZ20261129001"
