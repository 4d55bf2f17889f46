"""The whole life of a certificate, each step by the role that takes it, through the pages:

an organisation signs up and applies for filing → the bureau approves → the organisation registers its assessor,
publishes a plan → the bureau registers an external supervisor and draws one for the plan → a worker registers
(eligibility explained) → the organisation approves and assigns the panel → the assessor scores → the organisation
locks the marks, publishes and finalises → the organisation issues the certificates (on a real Celery worker when a
broker is configured) → the worker opens the certificate and its verification page → the worker claims the
subsidy → two officers review → publicity ends → approval → the monthly batch is paid → the worker sees it paid.

Only the calendar is moved (the exam day arrives, the publicity periods end); accounts for people who have no
sign-up page (workers and assessors get their login from the identity system, not from this platform) are created
directly. Screenshots of each step go to test-artifacts/.

A second test walks the worker's pages and the public verification pages on a phone-sized screen."""

import datetime
import os
import time

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import Role
from accreditation.models import Organisation
from assessments.models import Plan, Registration
from certificates import issuance, signing
from certificates.models import Certificate, IssueBatch
from occupations.models import StandardLevel
from subsidies.models import Claim
from tests.assessments.conftest import file_organisation, make_candidates, make_plan
from tests.certificates.conftest import finalise
from tests.conftest import IN_CI
from tests.factories import PASSWORD, PersonFactory, bound_user, make_ric, make_uscc, member
from tests.worker import database_url, worker_start, worker_stop

from . import steps
from .conftest import login, logout

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORKER_NAME = "李明"
WORKER_ID = make_ric(region="220104", birth=datetime.date(1991, 8, 17), seq=517)
ASSESSOR_ID = make_ric(birth=datetime.date(1984, 2, 9), seq=133)
SUPERVISOR_ID = make_ric(birth=datetime.date(1987, 11, 30), seq=244)
ORG = {
    "name": "长春宏达职业技能评价中心",
    "kind": "S",
    "credit_code": make_uscc(5151, region="220104"),
    "region_code": "220104",
    "contact_name": "赵宏达",
    "contact_phone": "13943100517",
}


@pytest.fixture
def platform(settings, live_server, tmp_path_factory):
    """The platform as `make run` leaves it: reference data, subsidy policies, signing keys, its site URL."""
    settings.SITE_URL = live_server.url
    settings.SIGNING_KEYS_DIR = tmp_path_factory.mktemp("keys")
    settings.SIGNING_KEYS_GENERATE = True
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    # Eight people sign in a dozen times from one loopback address: only failed sign-ins count, so no override.
    call_command("load_subsidy_policies", "--demo", verbosity=0)
    signing.public_keys()  # generate the key pair now, before another process may want it
    # This plan has one candidate: the standard's staffing is data, edited as an operator would in the admin.
    StandardLevel.objects.filter(standard__occupation__code="6-31-01-03", level__code="4").update(
        staffing={"theory": {"per_candidates": 15, "min": 1}, "skills": {"per_candidates": 5, "min": 1}}
    )
    return settings


@pytest.fixture
def tasks(platform):
    """Tasks (certificate issuance) run on a real Celery worker process on the real broker when one is configured
    (CI: Redis and PostgreSQL); otherwise in-process, because a worker cannot open the in-memory SQLite test
    database. Yields "worker" or "eager"."""
    from config.celery import app

    broker = os.environ.get("CELERY_BROKER_URL")
    if not broker or database_url() is None:
        if IN_CI:
            pytest.fail("CI must run the journey on a real worker (CELERY_BROKER_URL and DATABASE_URL)")
        yield "eager"
        return
    proc = worker_start(SIGNING_KEYS_DIR=str(platform.SIGNING_KEYS_DIR), SITE_URL=platform.SITE_URL)
    app.conf.task_always_eager = False
    try:
        yield "worker"
    finally:
        app.conf.task_always_eager = True
        worker_stop(proc)


def _wait_for_batch(page, base: str, plan_id: int, timeout: float = 90) -> None:
    """The issuance page shows the batch's progress; reload it until the worker has finished."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto(f"{base}/certificates/plans/{plan_id}/issue/")
        status = page.get_attribute("#batch-status", "data-status")
        if status == IssueBatch.Status.DONE:
            return
        assert status != IssueBatch.Status.FAILED, page.inner_text("main")
        assert time.monotonic() < deadline, f"the issue batch is still {status} after {timeout} s"
        time.sleep(0.5)


def test_the_whole_life_of_a_certificate(live_server, page, shots, tasks, cc_officer, changchun_bureau, tmp_path):
    base = live_server.url
    page.on("dialog", lambda dialog: dialog.accept())
    second_officer = member(Role.BUREAU_STAFF, bureau=changchun_bureau)

    # 1. The organisation signs up and applies for filing; the 长春 bureau approves it.
    steps.organisation_register(page, base, shots, username="hongda_admin", password="Hong-da-2026!", org=ORG)
    steps.filing_apply(page, shots, tmp_path, scope=["6-31-01-03:5", "6-31-01-03:4"])
    logout(page)
    prefix = steps.filing_approve(
        page, base, shots, officer=cc_officer.username, password=PASSWORD, org_name=ORG["name"]
    )
    org = Organisation.objects.get(name=ORG["name"])
    assert prefix == org.number_prefix and prefix.startswith("S000022")

    # 2. The organisation registers its assessor (考评员) and publishes a plan.
    login(page, base, "hongda_admin", "Hong-da-2026!")
    page.goto(f"{base}/accreditation/organisations/{org.id}/people/")
    page.select_option("select[name=role]", "assessor")
    page.fill("input[name=name]", "孙立新")
    page.fill("input[name=id_number]", ASSESSOR_ID)
    page.select_option("select[name=occupations]", ["6-31-01-03"])
    page.select_option("select[name=max_level]", "3")
    page.click("button:has-text('登记')")
    page.wait_for_selector("td:has-text('孙立新')")
    shots(page, "assessor")
    today = timezone.localdate()
    closes = today + datetime.timedelta(days=10)
    exam = closes + datetime.timedelta(days=3)
    page.goto(f"{base}/assessments/manage/new/{org.id}/")
    page.fill("input[name=title]", "2026年第五期电工职业技能等级认定")
    page.select_option("select[name=occupation_code]", "6-31-01-03")
    page.check("input[name=levels][value='4'][data-occupation='6-31-01-03']")
    page.fill("input[name=venue]", "长春市朝阳区工农大路88号实训楼")
    page.fill("input[name=capacity]", "30")
    page.fill("input[name=registration_opens]", today.isoformat())
    page.fill("input[name=registration_closes]", closes.isoformat())
    for kind, start, end in (("theory", "09:00", "11:00"), ("skills", "13:30", "15:30")):
        page.fill(f"input[name={kind}_date]", exam.isoformat())
        page.fill(f"input[name={kind}_start]", start)
        page.fill(f"input[name={kind}_end]", end)
        page.fill(f"input[name={kind}_room]", "3号考场")
    shots(page, "plan-form")
    page.click("button:has-text('保存草稿')")
    page.wait_for_url("**/assessments/manage/*/")
    page.click("#publish")
    page.wait_for_load_state()
    plan = Plan.objects.get(organisation=org)
    assert plan.status == Plan.Status.PUBLISHED
    shots(page, "plan-published")
    logout(page)

    # 3. The bureau registers an external supervisor (外督) and draws one for the plan at random.
    login(page, base, cc_officer.username, PASSWORD)
    page.goto(f"{base}/accreditation/supervisors/")
    page.fill("input[name=name]", "钱文静")
    page.fill("input[name=id_number]", SUPERVISOR_ID)
    page.select_option("select[name=occupations]", ["6-31-01-03"])
    page.click("button:has-text('登记')")
    page.wait_for_selector("td:has-text('钱文静')")
    page.goto(f"{base}/assessments/plans/{plan.id}/supervisor/")
    page.click("button:has-text('随机抽取')")
    page.wait_for_load_state()
    plan.refresh_from_db()
    assert plan.supervisor is not None and plan.supervisor.person.name == "钱文静"
    shots(page, "supervisor")
    logout(page)

    # 4. A worker (bound to their person by proof: tests/browser/test_binding_journey.py shows how) finds the plan
    # and registers; the eligibility rule met is explained.
    person = PersonFactory(name=WORKER_NAME, id_number=WORKER_ID)
    worker = bound_user("liming", person=person, password=PASSWORD)
    login(page, base, worker.username, PASSWORD)
    page.goto(f"{base}/assessments/plans/")
    page.click(f"text={plan.title}")
    steps.plan_registration(page, base, shots, plan_id=plan.id, name=WORKER_NAME, id_number=WORKER_ID, work_years=7)
    logout(page)

    # 5. The organisation reviews the registration (资格审核) and assigns the panel.
    login(page, base, "hongda_admin", "Hong-da-2026!")
    page.goto(f"{base}/assessments/manage/{plan.id}/")
    page.click("button:has-text('通过')")
    page.wait_for_load_state()
    reg = Registration.objects.get(plan=plan)
    assert reg.status == "approved"
    steps.panel_assign(page, base, shots, plan_id=plan.id)
    assert set(plan.panel.values_list("kind", flat=True)) == {"theory", "skills"}
    logout(page)

    # 6. The exam day arrives; the assessor (their login linked to the appointment) enters the marks.
    steps.exam_day_arrives(plan)
    assessor = member(Role.ASSESSOR, organisation=org, person=plan.panel.first().appointment.person)
    login(page, base, assessor.username, PASSWORD)
    steps.scores_enter(
        page, base, shots, plan_id=plan.id, registration_id=reg.id, marks={"theory": "81", "skills": "88"}
    )
    logout(page)

    # 7. The organisation locks the marks, publishes the results and, after the publicity period, finalises.
    login(page, base, "hongda_admin", "Hong-da-2026!")
    steps.results_publish(page, base, shots, plan_id=plan.id)
    steps.publicity_ends(plan.id)
    steps.results_finalise(page, base, shots, plan_id=plan.id)
    reg.refresh_from_db()
    assert reg.outcome == "passed"

    # 8. The organisation issues the certificates; the task runs on the worker.
    page.goto(f"{base}/certificates/plans/{plan.id}/issue/")
    page.click("#issue")
    _wait_for_batch(page, base, plan.id)
    shots(page, f"issued-{tasks}")
    cert = Certificate.objects.get(registration=reg)
    assert cert.number.startswith(prefix) and cert.number[13:16] == f"{today:%y}4"
    logout(page)

    # 9. The worker (bound to the person they registered as) opens the certificate and its verification page.
    assert reg.person == worker.person
    login(page, base, worker.username, PASSWORD)
    page.goto(f"{base}/certificates/mine/")
    page.click(f"text={cert.number}")
    assert page.inner_text("#cert-number") == cert.number
    shots(page, "certificate")
    page.click("text=核验页面")
    page.wait_for_url(f"**/v/{cert.token}")
    assert page.get_attribute("#status", "data-status") == "valid"
    assert page.inner_text("#holder") == WORKER_NAME
    assert WORKER_ID not in page.content()
    shots(page, "verified")

    # 10. The worker claims the subsidy from the certificate's page.
    page.goto(f"{base}/certificates/{cert.id}/")
    page.click("text=申请技能提升补贴")
    page.wait_for_url(f"**/subsidies/certificates/{cert.id}/claim/")
    claim = steps.claim_submit(page, base, shots, certificate_id=cert.id)
    logout(page)

    # 11. Two officers review (核定, 复核); after publicity the claim is approved and paid in the monthly batch.
    steps.claim_review(page, base, claim_id=claim.id, officer=cc_officer.username, password=PASSWORD, button="#review")
    logout(page)
    steps.claim_review(
        page, base, claim_id=claim.id, officer=second_officer.username, password=PASSWORD, button="#second-review"
    )
    claim.refresh_from_db()
    assert claim.status == Claim.Status.PUBLICITY
    steps.claim_publicity_ends(claim.id)
    steps.claim_approve_and_pay(page, base, shots, claim_id=claim.id, bank_reference="ICBC20261130517")
    logout(page)

    # 12. The worker sees the subsidy paid.
    login(page, base, worker.username, PASSWORD)
    page.goto(f"{base}/subsidies/")
    page.click(f"a[href='/subsidies/claims/{claim.id}/']")
    assert page.inner_text("#claim-status") == Claim.Status("paid").label
    shots(page, "paid")
    claim.refresh_from_db()
    assert claim.status == Claim.Status.PAID and claim.amount > 0
    assert Certificate.objects.count() == 1 and Claim.objects.count() == 1


@pytest.fixture
def holder(org, org_admin, cc_officer, platform):
    """A worker with an issued certificate (the steps before are the journey above's; here only the phone matters)."""
    file_organisation(org, org_admin, cc_officer)
    plan = make_plan(org, org_admin, levels=("4",))
    reg = make_candidates(plan, org_admin, "4", 1)[0]
    finalise(Plan.objects.get(pk=plan.id))
    batch = issuance.issue_batch_start(actor=Actor.for_user(org_admin), plan_id=plan.id)
    issuance.issue_batch_run(batch.id)
    worker = bound_user("phone_worker", password=PASSWORD, person=reg.person)
    return worker, Certificate.objects.get(person=reg.person)


def _fits(phone, what: str, selector: str = "main") -> None:
    assert phone.locator(selector).first.is_visible(), f"{what}: {selector} is not visible"
    assert steps.no_horizontal_overflow(phone), f"{what} scrolls sideways on a 390 px screen: " + str(
        phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    )


def test_worker_and_verification_pages_on_a_phone(live_server, phone, shots, holder):
    worker, cert = holder
    base = live_server.url
    phone.on("dialog", lambda dialog: dialog.accept())

    # The public: the QR's page, then the lookup by number + name + ID number.
    phone.goto(f"{base}/v/{cert.token}")
    assert phone.get_attribute("#status", "data-status") == "valid"
    assert phone.locator("#holder").is_visible() and phone.inner_text("#holder") == cert.holder_name
    _fits(phone, "/v/<token>", "#status")
    shots(phone, "verify-phone")
    phone.goto(f"{base}/verify/")
    _fits(phone, "/verify/", "form")
    phone.fill("input[name=number]", cert.number)
    phone.fill("input[name=name]", cert.holder_name)
    phone.fill("input[name=id_number]", cert.id_number)
    shots(phone, "lookup-form-phone")
    phone.click("button:has-text('查询')")
    phone.wait_for_selector("#status")
    assert phone.get_attribute("#status", "data-status") == "valid"
    assert cert.id_number not in phone.content()
    _fits(phone, "/verify/ result", "#status")
    shots(phone, "lookup-result-phone")

    # The worker: certificates, one certificate, the subsidy claim and the claim's page.
    login(phone, base, worker.username, PASSWORD)
    phone.goto(f"{base}/certificates/mine/")
    assert phone.locator(f"text={cert.number}").is_visible()
    _fits(phone, "/certificates/mine/")
    shots(phone, "mine-phone")
    phone.click(f"text={cert.number}")
    assert phone.locator("#download-pdf").is_visible()
    _fits(phone, "/certificates/<id>/")
    shots(phone, "certificate-phone")
    phone.goto(f"{base}/subsidies/")
    assert phone.locator(f"a[href='/subsidies/certificates/{cert.id}/claim/']").is_visible()
    _fits(phone, "/subsidies/")
    shots(phone, "subsidies-phone")
    phone.goto(f"{base}/subsidies/certificates/{cert.id}/claim/")
    _fits(phone, "claim form", "#submit-claim")
    claim = steps.claim_submit(phone, base, shots, certificate_id=cert.id)
    assert phone.locator("#claim-status").is_visible()
    _fits(phone, "/subsidies/claims/<id>/", "#claim-status")
    assert claim.status == Claim.Status.SUBMITTED
