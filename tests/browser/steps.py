"""Steps of the platform's journeys as the people who take them, through the pages. Each journey strings some of
them together; the whole-life journey (test_whole_journey.py) strings them all."""

import datetime
from pathlib import Path

from django.utils import timezone

from assessments.models import PlanComponent, Publication
from subsidies.models import Claim
from tests.factories import checked_in

from .conftest import Shots, login, logout, second_factor

WORKER_ACCOUNT = "6222021001234567890"


def pick_region(page, name: str, codes: list[str]) -> None:
    """Choose a region in a picker's province → prefecture → county lists (static/js/picker.js)."""
    field = page.locator(f"div.picker-field:has(input[type=hidden][name={name}])")
    for depth, code in enumerate(codes):
        field.locator(f".picker-cascade select[data-depth='{depth}']").select_option(code)
    assert field.locator(f"input[type=hidden][name={name}]").input_value() == codes[-1]


def organisation_register(page, base: str, shots: Shots, *, username: str, password: str, org: dict) -> None:
    """A new organisation signs up (org: name, kind, credit_code, region_code, contact_name, contact_phone)."""
    page.goto(f"{base}/accreditation/register/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password1]", password)
    page.fill("input[name=password2]", password)
    page.fill("input[name=name]", org["name"])
    page.select_option("select[name=kind]", org["kind"])
    page.fill("input[name=credit_code]", org["credit_code"])
    code = org["region_code"]
    pick_region(page, "region_code", [f"{code[:2]}0000", f"{code[:4]}00", code])
    page.fill("input[name=contact_name]", org["contact_name"])
    page.fill("input[name=contact_phone]", org["contact_phone"])
    shots(page, "register")
    page.click("button.primary")
    # An organisation's admin is staff: before anything else, the new account sets up its second factor.
    page.wait_for_url("**/accounts/second-factor/enrol/**")
    shots(page, "second-factor")
    second_factor(page, username)
    page.wait_for_url("**/accreditation/organisations/*/")


def filing_apply(page, shots: Shots, tmp_path: Path, *, scope: list[str]) -> None:
    """From the organisation's page: choose the scope ("occupation:level" values), attach the form, submit."""
    page.click("text=申请备案")
    for value in scope:
        page.check(f"input[value='{value}']")
    assert page.locator("tr.disabled", has_text="消防设施操作员").count() == 1  # 准入类 cannot be chosen
    shots(page, "scope")
    page.click("button.primary")
    page.wait_for_url("**/accreditation/filings/*/")
    form = tmp_path / "申请表.pdf"
    form.write_bytes(b"%PDF-1.4\n% application form\n")
    page.fill("input[name=title]", "评价机构备案申请表")
    page.set_input_files("input[name=file]", str(form))
    page.click("button:has-text('上传')")
    shots(page, "uploaded")
    page.wait_for_selector("li:has-text('评价机构备案申请表')")
    page.click("#submit-filing")
    assert page.inner_text("#filing-status") == "已提交"
    shots(page, "submitted")


def filing_approve(page, base: str, shots: Shots, *, officer: str, password: str, org_name: str) -> str:
    """The bureau officer takes the filing from the review queue and approves it; returns the number prefix."""
    login(page, base, officer, password)
    page.click("text=备案审核")
    page.click(f"text={org_name}")
    page.click("#start-review")
    assert page.inner_text("#filing-status") == "审核中"
    page.click("#approve")
    assert page.inner_text("#filing-status") == "已备案"
    prefix = page.inner_text("#number-prefix")
    shots(page, "approved")
    logout(page)
    return prefix


def plan_registration(page, base: str, shots: Shots, *, plan_id: int, name: str, id_number: str, work_years: int):
    """A logged-in worker registers for a published plan with the integrity pledge; lands on the registration."""
    page.goto(f"{base}/assessments/plans/{plan_id}/")
    page.click("#register")
    # Only an account bound to its person registers, and only that person: the form shows them, not to be changed.
    assert page.get_attribute("input[name=name]", "readonly") is not None
    assert (page.input_value("input[name=name]"), page.input_value("input[name=id_number]")) == (name, id_number)
    page.fill("input[name=work_years]", str(work_years))
    page.check("#pledge")
    shots(page, "register")
    page.click("#submit-registration")
    assert page.inner_text("#registration-status") == "待审核"
    assert "符合" in page.inner_text("#eligibility")
    shots(page, "registered")


def panel_assign(page, base: str, shots: Shots, *, plan_id: int, components: int = 2) -> None:
    """The organisation admin assigns an assessor panel to each component (theory, then skills)."""
    page.goto(f"{base}/assessments/plans/{plan_id}/panel/")
    for i in range(components):
        # One form of checkboxes per component: tick the first assessor who may sit, assign, and land back on it.
        form = page.locator("form[id^='assign-']").nth(i)
        form.locator("input[name=appointment_id]").first.check()
        form.locator("button[id$='-submit']").click()
        page.wait_for_load_state()
        assert "#panel-" in page.url
    shots(page, "panel")


def exam_day_arrives(plan) -> None:
    """Moves the calendar: the plan's components are now in the past, and its candidates were checked in at each
    session (the check-in page has its own journey, test_checkin_journey.py), so marks may be entered."""
    from django.db.models import F

    from accreditation.models import Appointment

    for c in PlanComponent.objects.filter(plan=plan):
        PlanComponent.objects.filter(pk=c.pk).update(
            starts_at=c.starts_at - datetime.timedelta(days=20), ends_at=c.ends_at - datetime.timedelta(days=20)
        )
    # The calendar moves for the people too: the panel and the supervisor were appointed before that exam day (the
    # rules check that an appointment covers the exam date at every scoring step).
    plan.refresh_from_db()
    staff = [*plan.panel.values_list("appointment_id", flat=True), plan.supervisor_id]
    Appointment.objects.filter(pk__in=[a for a in staff if a]).update(
        valid_from=F("valid_from") - datetime.timedelta(days=60)
    )
    checked_in(plan)


def scores_enter(page, base: str, shots: Shots, *, plan_id: int, registration_id: int, marks: dict[str, str]) -> None:
    """The assessor enters and submits the candidate's mark for each component."""
    for kind, mark in marks.items():
        page.goto(f"{base}/assessments/plans/{plan_id}/scores/{kind}/")
        closed = page.locator("#sheet-closed")
        assert not closed.count(), f"the {kind} sheet is closed: {closed.inner_text()}"
        page.fill(f"input[name=value_{registration_id}]", mark)
        page.click("#submit")
        page.wait_for_load_state()
    shots(page, "scored")


def results_publish(page, base: str, shots: Shots, *, plan_id: int, components: int = 2) -> None:
    """The organisation admin locks each component's marks and opens the results' publicity (成绩公示)."""
    page.goto(f"{base}/assessments/plans/{plan_id}/scores/")
    for _ in range(components):
        page.locator("button:has-text('锁定成绩'):not([disabled])").first.click()
        page.wait_for_load_state()
    page.goto(f"{base}/assessments/plans/{plan_id}/results/")
    page.click("#open-publicity")
    page.wait_for_load_state()
    assert Publication.objects.filter(plan_id=plan_id).exists()
    shots(page, "publicity")


def publicity_ends(plan_id: int) -> None:
    """Moves the calendar only: the publicity period is over."""
    Publication.objects.filter(plan_id=plan_id).update(
        starts_on=timezone.localdate() - datetime.timedelta(days=12),
        ends_on=timezone.localdate() - datetime.timedelta(days=1),
    )


def results_finalise(page, base: str, shots: Shots, *, plan_id: int) -> None:
    page.goto(f"{base}/assessments/plans/{plan_id}/results/")
    page.click("#finalise-button")
    page.wait_for_load_state()
    shots(page, "finalised")


def claim_submit(page, base: str, shots: Shots, *, certificate_id: int) -> Claim:
    """A logged-in worker claims the subsidy of a certificate; the bank account is masked once entered."""
    page.goto(f"{base}/subsidies/certificates/{certificate_id}/claim/")
    page.fill("input[name=insurance_months]", "36")
    page.fill("input[name=account_number]", WORKER_ACCOUNT)
    page.fill("input[name=bank_name]", "中国工商银行长春分行")
    shots(page, "claim")
    page.click("#submit-claim")
    page.wait_for_selector("#claim-status")
    assert WORKER_ACCOUNT not in page.content()
    shots(page, "claim-submitted")
    return Claim.objects.get(certificate_id=certificate_id)


def claim_review(page, base: str, *, claim_id: int, officer: str, password: str, button: str) -> None:
    """One officer's review step on the claim's page (#review: 核定, #second-review: 复核 by another officer)."""
    login(page, base, officer, password)
    page.goto(f"{base}/subsidies/claims/{claim_id}/")
    page.click(button)
    page.wait_for_load_state()


def claim_publicity_ends(claim_id: int) -> None:
    """Moves the calendar only: the claim's publicity period is over."""
    Claim.objects.filter(pk=claim_id).update(publicity_ends_on=timezone.localdate() - datetime.timedelta(days=1))


def claim_approve_and_pay(page, base: str, shots: Shots, *, claim_id: int, bank_reference: str) -> None:
    """A logged-in officer approves the claim, puts it in this month's batch and records the bank's answer.

    The bank is the only party not played for real: the platform hands the bank a file and takes back each line's
    result, here the reference an officer types as the bank's answer."""
    page.goto(f"{base}/subsidies/claims/{claim_id}/")
    page.click("#approve")
    page.wait_for_load_state()
    assert Claim.objects.get(pk=claim_id).status == "approved", page.content()
    page.goto(f"{base}/subsidies/batches/")
    page.click("#create-batch")
    page.wait_for_load_state()
    page.fill("input[name=bank_reference]", bank_reference)
    page.click("button:has-text('已支付')")
    page.wait_for_load_state()
    shots(page, "paid-batch")


def no_horizontal_overflow(page) -> bool:
    """True when the page fits the viewport's width (nothing to scroll sideways on a phone)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
