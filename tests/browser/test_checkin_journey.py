"""Exam day on a phone: the supervisor opens the check-in page, checks two candidates in by their ticket's QR code
(the camera's picture decoded in the page by the vendored jsQR; chromium's fake camera shows the printed QR code),
marks the third absent, and checks one in by the typed ticket number (the fallback). The assessor can then score
only the checked-in candidates."""

import datetime
from pathlib import Path

import pytest
import segno
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import Role
from accreditation import people
from assessments.examday import services
from assessments.models import AdmissionTicket, CheckIn, PlanComponent, Score
from assessments.panels import services as panel_services
from occupations.models import StandardLevel
from tests.assessments.conftest import file_organisation, make_candidates, make_plan
from tests.factories import PASSWORD, make_ric, member

from .conftest import CHROMIUM, CHROMIUM_ARGS, login, logout, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def camera_file(path: Path, text: str) -> Path:
    """A Y4M video (what chromium's fake camera plays) of the QR code printed on a ticket, on white paper."""
    width, height = 640, 480
    qr = segno.make(text, error="m", micro=False)
    rows = [list(row) for row in qr.matrix_iter(scale=1, border=4)]
    scale = min(width, height) * 9 // 10 // len(rows)
    size = len(rows) * scale
    left, top = (width - size) // 2, (height - size) // 2
    luma = bytearray(b"\xeb" * (width * height))
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(scale):
                    start = (top + y * scale + dy) * width + left + x * scale
                    luma[start : start + scale] = b"\x10" * scale
    chroma = b"\x80" * (width * height // 4)
    frame = b"FRAME\n" + bytes(luma) + chroma + chroma
    path.write_bytes(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode() + frame * 3)
    return path


@pytest.fixture
def session(org, org_admin, cc_officer, changchun_bureau):
    file_organisation(org, org_admin, cc_officer)
    StandardLevel.objects.filter(standard__occupation__code="6-31-01-03", level__code="4").update(
        staffing={"theory": {"per_candidates": 15, "min": 1}, "skills": {"per_candidates": 5, "min": 1}}
    )
    plan = make_plan(org, org_admin, levels=("4",))
    assessor = people.appointment_register(
        actor=Actor.for_user(org_admin),
        role="assessor",
        name="王志强",
        id_type="ric",
        id_number=make_ric(birth=datetime.date(1986, 4, 15), seq=101),
        organisation_id=org.id,
        scopes=[{"occupation_code": "6-31-01-03", "max_level": "3"}],
    )
    assessor_user = member(Role.ASSESSOR, organisation=org, person=assessor.person)
    for kind in ("theory", "skills"):
        panel_services.panel_assign(
            actor=Actor.for_user(org_admin), plan_id=plan.id, kind=kind, appointment_id=assessor.id
        )
    supervisor = people.appointment_register(
        actor=Actor.for_user(cc_officer),
        role="external_supervisor",
        name="周敏",
        id_type="ric",
        id_number=make_ric(birth=datetime.date(1990, 5, 21), seq=402),
        bureau_id=changchun_bureau.id,
        scopes=[{"occupation_code": "6-31-01-03"}],
    )
    panel_services.supervisor_assign(actor=Actor.for_user(cc_officer), plan_id=plan.id, appointment_id=supervisor.id)
    supervisor_user = member(Role.SUPERVISOR, bureau=changchun_bureau, person=supervisor.person)
    regs = make_candidates(plan, org_admin, "4", 3)
    # Approval issued the tickets (every session has its room).
    tickets = {t.registration_id: t for t in AdmissionTicket.objects.filter(registration__plan=plan)}
    # Exam day: the theory session began half an hour ago (check-in is open, marks may be entered).
    start = timezone.now() - datetime.timedelta(minutes=30)
    for i, c in enumerate(PlanComponent.objects.filter(plan=plan).order_by("starts_at")):
        PlanComponent.objects.filter(pk=c.pk).update(
            starts_at=start + datetime.timedelta(minutes=i), ends_at=start + datetime.timedelta(hours=2, minutes=i)
        )
    return plan, regs, tickets, supervisor_user, assessor_user


def scan_with_camera(browser, base: str, tmp_path: Path, supervisor_user, url: str, ticket) -> str:
    """A phone whose camera sees the ticket's QR code: open the page, start the camera, confirm the ID check."""
    video = camera_file(tmp_path / f"{ticket.number}.y4m", services.ticket_token(ticket))
    camera_browser = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        context = camera_browser.new_context(locale="zh-CN", **PHONE)
        context.grant_permissions(["camera"], origin=base)
        phone = context.new_page()
        phone.set_default_timeout(90_000)  # a loaded CI machine: chromium with a fake camera starts slowly
        login(phone, base, supervisor_user.username, PASSWORD)
        phone.goto(url)
        phone.click("#camera-start")
        phone.wait_for_selector("#candidate")  # the page decoded the QR code and looked the candidate up
        name = phone.inner_text("#candidate-name")
        phone.check("#id-checked")
        phone.click("#check-in")
        phone.wait_for_load_state()
        screenshot(phone, str(tmp_path / f"scan-{ticket.number}.png"))
        return name
    finally:
        camera_browser.close()


def test_supervisor_checks_in_by_qr_and_number_and_only_the_present_are_scored(
    live_server, browser, phone, tmp_path, shots, session
):
    plan, (a, b, c), tickets, supervisor_user, assessor_user = session
    base = live_server.url
    url = f"{base}/assessments/plans/{plan.id}/checkin/theory/"
    phone.set_default_timeout(60_000)

    # Two candidates show their ticket's QR code to the supervisor's phone camera.
    assert scan_with_camera(browser, base, tmp_path, supervisor_user, url, tickets[a.id]) == a.person.name
    assert scan_with_camera(browser, base, tmp_path, supervisor_user, url, tickets[b.id]) == b.person.name
    present = CheckIn.objects.filter(component__kind="theory", status="present")
    assert {(x.registration_id, x.method, x.id_checked) for x in present} == {
        (a.id, "scan", True),
        (b.id, "scan", True),
    }

    # The third does not come: marked absent from the roster, on the phone.
    phone.on("dialog", lambda dialog: dialog.accept())
    login(phone, base, supervisor_user.username, PASSWORD)
    phone.goto(url)
    phone.click(f"tr[data-registration='{c.id}'] .mark-absent")
    phone.wait_for_load_state()
    assert CheckIn.objects.get(registration=c, component__kind="theory").status == "absent"
    assert "缺考 1" in phone.inner_text("#counts")
    shots(phone, "roster")

    # The typed fallback (a camera that will not focus): the ticket number, at the skills session.
    phone.goto(f"{base}/assessments/plans/{plan.id}/checkin/skills/")
    phone.fill("#code", tickets[a.id].number)
    phone.click("#lookup")
    assert phone.inner_text("#candidate-name") == a.person.name
    phone.click("#check-in")  # without ticking the ID check: refused
    phone.wait_for_load_state()
    assert "核对身份证件" in phone.inner_text(".messages")
    assert not CheckIn.objects.filter(component__kind="skills").exists()
    phone.fill("#code", tickets[a.id].number)
    phone.click("#lookup")
    phone.check("#id-checked")
    phone.click("#check-in")
    phone.wait_for_load_state()
    assert CheckIn.objects.get(component__kind="skills").method == "typed"
    shots(phone, "typed")
    logout(phone)

    # The assessor: a mark for the absent candidate is refused, nothing is saved; absent is accepted.
    login(phone, base, assessor_user.username, PASSWORD)
    phone.goto(f"{base}/assessments/plans/{plan.id}/scores/theory/")
    assert phone.locator(f"tr:has(input[name=value_{c.id}]) .not-checked-in").count() == 1
    for reg, mark in ((a, "81"), (b, "74"), (c, "90")):
        phone.fill(f"input[name=value_{reg.id}]", mark)
    phone.click("#save")
    phone.wait_for_load_state()
    assert "未在本科目考场签到" in phone.content()
    assert not Score.objects.exists()
    phone.fill(f"input[name=value_{c.id}]", "")
    phone.select_option(f"select[name=status_{c.id}]", "absent")
    phone.click("#save")
    phone.wait_for_load_state()
    assert {(s.registration_id, s.status, str(s.value)) for s in Score.objects.all()} == {
        (a.id, "scored", "81.0"),
        (b.id, "scored", "74.0"),
        (c.id, "absent", "None"),
    }
    shots(phone, "scored")
