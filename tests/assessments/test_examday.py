"""Exam day: admission tickets (准考证), check-in by QR code or ticket number with the ID check, absences, and the
rule that only a checked-in candidate can be scored — through the services, the pages and the API."""

import datetime
import io

import pytest
from django.core import signing
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import Role
from assessments.examday import services
from assessments.models import AdmissionTicket, CheckIn, PlanComponent, Score
from assessments.scoring import services as scoring_services
from assessments.scoring import sheets as scoring_sheets
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.models import AuditEntry
from tests.conftest import client_for
from tests.factories import appointed_since, bound_user, member

from .test_scoring import A, build_scene

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(plan, filed_org, org_admin):
    s = build_scene(plan, filed_org, org_admin)
    CheckIn.objects.all().delete()  # nobody has come yet
    # Approving a candidate issued the ticket (the plan's sessions all have a time and a room).
    s.tickets = {t.registration_id: t for t in AdmissionTicket.objects.filter(registration__plan=plan)}
    return s


def check_in(scene, user, reg, kind="skills", **kwargs):
    kwargs.setdefault("status", "present")
    kwargs.setdefault("id_checked", True)
    if "code" not in kwargs and "registration_id" not in kwargs:
        kwargs["code"] = services.ticket_token(scene.tickets[reg.id])
    return services.checkin_record(actor=A(user), plan_id=scene.plan.id, kind=kind, **kwargs)


# --- Tickets ----------------------------------------------------------------------------------------------------


def test_every_approved_candidate_gets_a_ticket_with_a_seat(scene):
    tickets = sorted(scene.tickets.values(), key=lambda t: t.seat)
    assert [t.seat for t in tickets] == [1, 2, 3]
    assert {t.registration_id for t in tickets} == {r.id for r in scene.regs}
    assert len({t.number for t in tickets}) == 3
    issued = AuditEntry.objects.filter(action="ticket.issue")
    assert issued.count() == 3 and all(e.after["automatic"] for e in issued)  # one per approval, automatically
    assert {t.issued_by for t in tickets} == {scene.admin}  # the approver's act


def test_issuing_again_finds_nobody_new(scene):
    with pytest.raises(Conflict):
        services.tickets_issue(actor=A(scene.admin), plan_id=scene.plan.id)


def test_only_the_organisation_admin_issues_tickets(scene, other_org_admin):
    with pytest.raises(PermissionDenied):
        services.tickets_issue(actor=A(scene.skills[0]), plan_id=scene.plan.id)
    with pytest.raises(NotFound):
        services.tickets_issue(actor=A(other_org_admin), plan_id=scene.plan.id)


def test_a_reissued_ticket_voids_the_old_qr_code(scene):
    reg = scene.regs[0]
    old = services.ticket_token(scene.tickets[reg.id])
    services.tickets_issue(actor=A(scene.admin), plan_id=scene.plan.id, registration_ids=[reg.id])
    with pytest.raises(ValidationFailed, match="旧二维码作废"):
        check_in(scene, scene.theory, reg, kind="theory", code=old)
    new = services.ticket_token(AdmissionTicket.objects.get(registration=reg))
    assert check_in(scene, scene.theory, reg, kind="theory", code=new).method == "scan"


def test_a_forged_or_altered_token_is_refused(scene):
    reg = scene.regs[0]
    token = services.ticket_token(scene.tickets[reg.id])
    altered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    forged = services.TOKEN_PREFIX + signing.dumps({"n": scene.tickets[reg.id].number, "k": "x"}, salt="other")
    for code in (altered, forged):
        with pytest.raises(ValidationFailed, match="二维码无效"):
            check_in(scene, scene.theory, reg, kind="theory", code=code)
    assert not CheckIn.objects.exists()


def test_a_ticket_of_another_plan_is_refused(scene, filed_org, org_admin):
    from .conftest import make_candidates, make_plan

    other = make_plan(filed_org, org_admin, levels=("4",))
    (stranger,) = make_candidates(other, org_admin, "4", 1, start=50)
    ticket = AdmissionTicket.objects.get(registration=stranger)
    with pytest.raises(ValidationFailed, match="不属于本计划"):
        check_in(scene, scene.admin, stranger, kind="theory", code=ticket.number)


def test_the_candidate_sees_their_ticket_page_and_pdf(scene, settings):
    reg = scene.regs[0]
    candidate = bound_user("candidate_ticket", password="x-pass-2026", person=reg.person)
    client = client_for(candidate)
    page = client.get(f"/assessments/registrations/{reg.id}/ticket/")
    assert page.status_code == 200
    text = page.content.decode()
    assert scene.tickets[reg.id].number in text and "data:image/svg+xml" in text
    assert reg.person.id_number not in text
    pdf = client.get(f"/assessments/registrations/{reg.id}/ticket.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    body = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "准考证" in body and scene.tickets[reg.id].number in body and reg.person.name in body
    # Another candidate's ticket does not exist for this one.
    assert client.get(f"/assessments/registrations/{scene.regs[1].id}/ticket/").status_code == 404


# --- Check-in ---------------------------------------------------------------------------------------------------


def test_checking_in_needs_the_id_document_checked(scene):
    reg = scene.regs[0]
    with pytest.raises(ValidationFailed, match="核对身份证件"):
        check_in(scene, scene.theory, reg, kind="theory", id_checked=False)
    c = check_in(scene, scene.theory, reg, kind="theory")
    assert (c.status, c.id_checked, c.method) == ("present", True, "scan")
    entry = AuditEntry.objects.get(action="checkin.present")
    assert entry.after["registration"] == reg.id and entry.after["id_checked"] is True


def test_a_typed_ticket_number_checks_in_too(scene):
    reg = scene.regs[1]
    c = check_in(scene, scene.theory, reg, kind="theory", code=scene.tickets[reg.id].number)
    assert c.method == "typed"


def test_the_roster_marks_absence_but_never_presence(scene):
    reg = scene.regs[2]
    with pytest.raises(ValidationFailed, match="只能标记缺考"):
        check_in(scene, scene.theory, reg, kind="theory", registration_id=reg.id)
    c = check_in(scene, scene.theory, reg, kind="theory", registration_id=reg.id, status="absent")
    assert c.status == "absent" and not c.id_checked
    # A late arrival: checked in after all, and the change is audited with what it was before.
    c = check_in(scene, scene.theory, reg, kind="theory")
    assert c.status == "present"
    assert AuditEntry.objects.filter(action="checkin.present").latest("id").before["status"] == "absent"


def test_who_runs_the_check_in(scene, other_org_admin, cc_officer):
    reg = scene.regs[0]
    # An assessor of the skills panel runs the skills session, not the theory one.
    with pytest.raises(PermissionDenied):
        check_in(scene, scene.skills[0], reg, kind="theory")
    with pytest.raises(PermissionDenied):
        check_in(scene, cc_officer, reg, kind="theory")
    with pytest.raises(NotFound):
        check_in(scene, other_org_admin, reg, kind="theory")
    assert check_in(scene, scene.skills[0], reg, kind="skills").status == "present"
    assert check_in(scene, scene.admin, reg, kind="theory").status == "present"


def test_the_plans_supervisor_runs_the_check_in(scene, cc_officer, changchun_bureau):
    from accreditation import people
    from assessments.panels import services as panel_services
    from tests.factories import make_ric

    supervisor = people.appointment_register(
        actor=A(cc_officer),
        role="external_supervisor",
        valid_from=appointed_since(),
        name="周敏",
        id_type="ric",
        id_number=make_ric(birth=datetime.date(1990, 5, 21), seq=402),
        bureau_id=changchun_bureau.id,
        scopes=[{"occupation_code": "6-31-01-03"}],
    )
    panel_services.supervisor_assign(actor=A(cc_officer), plan_id=scene.plan.id, appointment_id=supervisor.id)
    user = member(Role.SUPERVISOR, bureau=changchun_bureau, person=supervisor.person)
    assert check_in(scene, user, scene.regs[0], kind="theory").recorded_by == user
    page = client_for(user).get("/assessments/checkin/").content.decode()
    assert f"/assessments/plans/{scene.plan.id}/checkin/theory/" in page


def test_check_in_opens_two_hours_before_the_session(scene):
    start = timezone.now() + datetime.timedelta(hours=3)
    PlanComponent.objects.filter(plan=scene.plan, kind="theory").update(
        starts_at=start, ends_at=start + datetime.timedelta(hours=2)
    )
    with pytest.raises(Conflict, match="开考前2小时"):
        check_in(scene, scene.theory, scene.regs[0], kind="theory")


# --- Only the checked-in are scored ------------------------------------------------------------------------------


def test_a_candidate_not_checked_in_cannot_be_scored(scene):
    present, away = scene.regs[0], scene.regs[1]
    check_in(scene, scene.theory, present, kind="theory")
    entries = [{"registration_id": present.id, "value": 80}, {"registration_id": away.id, "value": 95}]
    with pytest.raises(ValidationFailed) as refused:
        scoring_services.score_enter(actor=A(scene.theory), plan_id=scene.plan.id, kind="theory", entries=entries)
    (error,) = refused.value.details["errors"]
    assert error["registration_id"] == away.id and "未在本科目考场签到" in error["reason"]
    assert not Score.objects.exists()
    # Void (cheating) needs presence too; absent does not.
    with pytest.raises(ValidationFailed):
        scoring_services.score_enter(
            actor=A(scene.theory),
            plan_id=scene.plan.id,
            kind="theory",
            entries=[{"registration_id": away.id, "status": "void"}],
        )
    saved = scoring_services.score_enter(
        actor=A(scene.theory),
        plan_id=scene.plan.id,
        kind="theory",
        entries=[{"registration_id": present.id, "value": 80}, {"registration_id": away.id, "status": "absent"}],
    )
    assert {(s.registration_id, s.status) for s in saved} == {(present.id, "scored"), (away.id, "absent")}


def test_checking_in_at_one_session_does_not_admit_to_another(scene):
    reg = scene.regs[0]
    check_in(scene, scene.theory, reg, kind="theory")
    with pytest.raises(ValidationFailed, match="未在本科目考场签到"):
        scoring_services.score_enter(
            actor=A(scene.skills[0]),
            plan_id=scene.plan.id,
            kind="skills",
            entries=[{"registration_id": reg.id, "value": 70}],
        )


def test_the_score_sheet_shows_who_is_not_checked_in(scene):
    check_in(scene, scene.theory, scene.regs[0], kind="theory")
    page = client_for(scene.theory).get(f"/assessments/plans/{scene.plan.id}/scores/theory/").content.decode()
    assert page.count("not-checked-in") == 2


def test_a_spreadsheet_import_refuses_the_absent_mark_for_a_candidate_not_checked_in(scene):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["证件号码", "姓名", "申报等级", "成绩"])
    for reg in scene.regs:
        ws.append([reg.person.id_number, reg.person.name, reg.level.label, 77])
    buffer = io.BytesIO()
    wb.save(buffer)
    upload = SimpleUploadedFile("s.xlsx", buffer.getvalue())
    check_in(scene, scene.theory, scene.regs[0], kind="theory")
    report = scoring_sheets.scores_import(actor=A(scene.theory), plan_id=scene.plan.id, kind="theory", upload=upload)
    assert len(report.errors) == 2 and not Score.objects.exists()


# --- Pages and API -----------------------------------------------------------------------------------------------


def test_the_check_in_page_by_typed_number(scene):
    reg = scene.regs[0]
    client = client_for(scene.theory)
    url = f"/assessments/plans/{scene.plan.id}/checkin/theory/"
    assert client.get(url).status_code == 200
    found = client.post(url, {"action": "lookup", "code": scene.tickets[reg.id].number})
    assert found.status_code == 200 and reg.person.name in found.content.decode()
    assert 'id="confirm-form"' in found.content.decode()
    refused = client.post(url, {"action": "present", "code": scene.tickets[reg.id].number}, follow=True)
    assert "核对身份证件" in refused.content.decode() and not CheckIn.objects.exists()
    client.post(url, {"action": "present", "code": scene.tickets[reg.id].number, "id_checked": "on"})
    assert CheckIn.objects.get().status == "present"
    client.post(url, {"action": "absent", "registration_id": scene.regs[1].id})
    assert CheckIn.objects.get(registration=scene.regs[1]).status == "absent"
    bad = client.post(url, {"action": "lookup", "code": "999"})
    assert bad.status_code == 422 and "不存在" in bad.content.decode()


def test_the_api_roster_and_check_in(scene, other_org_admin):
    reg = scene.regs[0]
    client = client_for(scene.theory)
    url = f"/api/v1/assessments/plans/{scene.plan.id}/checkin/theory"
    roster = client.get(url).json()
    assert {r["status"] for r in roster} == {"waiting"} and len(roster) == 3
    r = client.post(
        url,
        {"code": services.ticket_token(scene.tickets[reg.id]), "status": "present", "id_checked": True},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["method"] == "scan"
    r = client.post(url, {"code": "x", "status": "present"}, content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "validation_failed"
    assert client_for(other_org_admin).get(url).status_code == 404
    ticket = client_for(scene.admin).get(f"/api/v1/assessments/registrations/{reg.id}/ticket").json()
    assert ticket["token"].startswith("ZKZ1.") and ticket["sessions"]


# --- Binding codes at check-in ------------------------------------------------------------------------------------


@pytest.fixture
def supervised(scene, cc_officer, changchun_bureau):
    from accreditation import people
    from assessments.panels import services as panel_services
    from tests.factories import make_ric

    supervisor = people.appointment_register(
        actor=A(cc_officer),
        role="external_supervisor",
        valid_from=appointed_since(),
        name="周敏",
        id_type="ric",
        id_number=make_ric(birth=datetime.date(1990, 5, 21), seq=402),
        bureau_id=changchun_bureau.id,
        scopes=[{"occupation_code": "6-31-01-03"}],
    )
    panel_services.supervisor_assign(actor=A(cc_officer), plan_id=scene.plan.id, appointment_id=supervisor.id)
    scene.supervisor = member(Role.SUPERVISOR, bureau=changchun_bureau, person=supervisor.person)
    return scene


def test_the_supervisor_hands_a_binding_code_after_the_id_check(supervised):
    from accounts.binding_codes import binding_code_redeem
    from accounts.models import BindingCode, User

    scene, reg = supervised, supervised.regs[0]
    client = client_for(scene.supervisor)
    url = f"/assessments/plans/{scene.plan.id}/checkin/theory/"
    page = client.post(
        url, {"action": "present", "code": scene.tickets[reg.id].number, "id_checked": "on", "binding_code": "on"}
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert 'id="binding-code"' in text
    code = text.split('id="binding-code"><strong>')[1].split("<")[0]
    stored = BindingCode.objects.get(person=reg.person)
    assert stored.place == BindingCode.Place.EXAM_CHECKIN and stored.context["plan"] == scene.plan.id
    assert code not in str(list(AuditEntry.objects.values_list("after", flat=True)))
    # The candidate binds their own account with it.
    account = User.objects.create_user("candidate-bind", password="x-pass-2026")
    binding_code_redeem(
        actor=A(account),
        user=account,
        name=reg.person.name,
        id_type=reg.person.id_type,
        id_number=reg.person.id_number,
        code=code,
    )
    assert A(account).person == reg.person


def test_an_assessor_checks_in_but_hands_out_no_binding_code(scene):
    reg = scene.regs[0]
    r = client_for(scene.theory).post(
        f"/api/v1/assessments/plans/{scene.plan.id}/checkin/theory",
        {"code": scene.tickets[reg.id].number, "status": "present", "id_checked": True, "issue_binding_code": True},
        content_type="application/json",
    )
    assert r.status_code == 200
    assert r.json()["status"] == "present" and r.json()["binding_code"] is None
    assert "督导员" in r.json()["binding_code_refused"]


# --- Tickets issued on approval ---------------------------------------------------------------------------------


def _without_rooms(plan):
    PlanComponent.objects.filter(plan=plan).update(room="")


def test_approval_waits_for_the_arrangements_then_the_tickets_follow(filed_org, org_admin):
    """Approved before the rooms were set: no ticket yet (it would not say where to go). Setting the arrangements
    issues the waiting candidates' tickets, once each; a later approval gets its ticket at once."""
    from .conftest import component_times, make_candidates, make_plan

    plan = make_plan(filed_org, org_admin, levels=("4",))
    _without_rooms(plan)
    first = make_candidates(plan, org_admin, "4", 2, start=120)
    assert not AdmissionTicket.objects.filter(registration__plan=plan).exists()
    assert services.tickets_auto_issue(actor=A(org_admin), plan=plan) == []  # still incomplete: nothing

    from assessments import plans

    times = component_times(timezone.localdate() + datetime.timedelta(days=10))
    plans.plan_reschedule(actor=A(org_admin), plan_id=plan.id, components=times, reason="确定考场")
    tickets = AdmissionTicket.objects.filter(registration__plan=plan).order_by("seat")
    assert [(t.registration_id, t.seat) for t in tickets] == [(first[0].id, 1), (first[1].id, 2)]
    assert services.tickets_auto_issue(actor=A(org_admin), plan=plan) == []  # idempotent
    (late,) = make_candidates(plan, org_admin, "4", 1, start=130)
    assert AdmissionTicket.objects.get(registration=late).seat == 3
    assert AdmissionTicket.objects.filter(registration__plan=plan).count() == 3
    entries = AuditEntry.objects.filter(action="ticket.issue", object_id=str(plan.id))
    assert entries.count() == 2 and all(e.after["automatic"] for e in entries)
    with pytest.raises(Conflict):  # the organisation's button finds nobody left
        services.tickets_issue(actor=A(org_admin), plan_id=plan.id)


def test_a_rejected_or_pending_registration_gets_no_ticket(filed_org, org_admin):
    from assessments.registration import registration_review

    from .conftest import make_candidates, make_plan

    plan = make_plan(filed_org, org_admin, levels=("4",))
    pending, rejected = make_candidates(plan, org_admin, "4", 2, start=140, approve=False)
    registration_review(actor=A(org_admin), registration_id=rejected.id, decision="reject", reason="材料不全")
    assert not AdmissionTicket.objects.filter(registration__in=[pending, rejected]).exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_take_distinct_seats_and_one_ticket_each(filed_org, org_admin):
    """Two approvals at once in one plan (and the organisation's button at the same moment): the plan's row lock
    orders them, so seats and numbers never collide and nobody gets two tickets."""
    import threading

    from django.db import connection

    from assessments.registration import registration_review
    from tests.conftest import require_postgres

    from .conftest import make_candidates, make_plan

    require_postgres()
    plan = make_plan(filed_org, org_admin, levels=("4",))
    regs = make_candidates(plan, org_admin, "4", 4, start=150, approve=False)
    barrier, errors = threading.Barrier(5), []

    def approve(reg) -> None:
        try:
            barrier.wait()
            registration_review(actor=A(org_admin), registration_id=reg.id, decision="approve")
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    def button() -> None:
        try:
            barrier.wait()
            services.tickets_issue(actor=A(org_admin), plan_id=plan.id)
        except Conflict:
            pass  # nobody approved yet at that instant: nothing to issue
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(r,)) for r in regs] + [threading.Thread(target=button)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    tickets = list(AdmissionTicket.objects.filter(registration__plan=plan))
    assert sorted(t.registration_id for t in tickets) == sorted(r.id for r in regs)
    assert sorted(t.seat for t in tickets) == [1, 2, 3, 4]
