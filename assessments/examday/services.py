"""Exam day: issuing admission tickets (准考证) and checking candidates in (签到).

- Every approved candidate of a published plan gets a ticket: a number, a seat, and a QR code holding a token
  signed with the platform's secret (salted for this purpose), so a QR code cannot be made up and a re-issued
  ticket voids the old one.
- On exam day the plan's supervisor, an assessor of the component's panel or the organisation's admin checks
  each candidate in by scanning the QR code (or typing the ticket number), after comparing the ID document with
  the photo; or marks the candidate absent. Check-in opens two hours before the session starts.
- Only a candidate checked in at a session can be scored in it (assessments/scoring/services.py asks present_ids()).
- The papers checked at the door also let the supervisor hand the candidate a one-time binding code for their own
  account (checkin_binding_code).
"""

import datetime
import secrets

from django.core import signing
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.binding_codes import binding_code_issue
from accounts.models import BindingCode
from core.errors import Conflict, NotFound, ValidationFailed

from ..models import ComponentResult, Plan, PlanComponent, Registration
from ..registration import registration_get
from ..scoring.access import admin_plan, plan_audit
from ..scoring.services import candidates_for
from .models import AdmissionTicket, CheckIn
from .selectors import KIND_LABELS, checkin_session

TOKEN_SALT = "assessments.examday.ticket"  # noqa: S105 (a signing salt, not a secret)
TOKEN_PREFIX = "ZKZ1."  # noqa: S105 (marks a ticket token)
CHECKIN_OPENS_BEFORE = datetime.timedelta(hours=2)


# --- Tickets ---------------------------------------------------------------------------------------------------


def ticket_token(ticket: AdmissionTicket) -> str:
    """What the ticket's QR code holds."""
    return TOKEN_PREFIX + signing.dumps({"n": ticket.number, "k": ticket.secret}, salt=TOKEN_SALT)


def _ticket_number(plan: Plan, seat: int) -> str:
    return f"{plan.id:06d}{seat:04d}"


@transaction.atomic
def tickets_issue(*, actor: Actor, plan_id: int, registration_ids: list[int] | None = None) -> list[AdmissionTicket]:
    """The organisation issues tickets to its approved candidates who have none yet (all, or those named); naming
    one who already has a ticket re-issues it (a new QR code: the old one no longer checks in)."""
    plan = admin_plan(actor, plan_id)
    if plan.status != Plan.Status.PUBLISHED:
        raise Conflict(
            _("计划当前状态为“%(s)s”,不能发放准考证") % {"s": plan.get_status_display()}, code="plan_not_published"
        )
    approved = list(plan.registrations.filter(status=Registration.Status.APPROVED).order_by("id"))
    if registration_ids is not None:
        wanted = set(registration_ids)
        approved = [r for r in approved if r.id in wanted]
        if len(approved) != len(wanted):
            raise ValidationFailed(_("所选考生不是本计划审核通过的考生"), details={"field": "registration_ids"})
    issued, reissued = issue_tickets(actor, plan, approved, reissue=registration_ids is not None)
    if not issued and not reissued:
        raise Conflict(_("没有需要发放准考证的考生"), code="nothing_to_issue")
    return issued + reissued


def issue_tickets(
    actor: Actor, plan: Plan, registrations, *, reissue: bool = False, automatic: bool = False
) -> tuple[list[AdmissionTicket], list[AdmissionTicket]]:
    """Tickets for `registrations` (approved, of `plan`) that have none; with `reissue`, new QR codes for those that
    have one. Audited. Callers check who may do it, and hold the plan's row lock (seats are numbered from the
    highest one issued)."""
    seat = AdmissionTicket.objects.filter(registration__plan=plan).aggregate(m=Max("seat"))["m"] or 0
    held = {t.registration_id: t for t in AdmissionTicket.objects.filter(registration__plan=plan)}
    issued, reissued = [], []
    for reg in registrations:
        existing = held.get(reg.id)
        if existing is not None:
            if not reissue:
                continue
            existing.secret, existing.issued_by = secrets.token_hex(16), actor.user
            existing.save(update_fields=["secret", "issued_by"])
            reissued.append(existing)
            continue
        seat += 1
        ticket = AdmissionTicket(
            registration=reg,
            number=_ticket_number(plan, seat),
            seat=seat,
            secret=secrets.token_hex(16),
            issued_by=actor.user,
        )
        ticket.full_clean()
        ticket.save()
        issued.append(ticket)
    if issued or reissued:
        plan_audit(
            actor,
            plan,
            "ticket.issue",
            after={
                "issued": {t.registration_id: t.number for t in issued},
                "reissued": [t.number for t in reissued],
                "automatic": automatic,
            },
        )
    return issued, reissued


def arrangements_complete(plan: Plan) -> bool:
    """A ticket can be printed in full: the plan is published and every session has its time and room (考场)."""
    components = list(plan.components.all())
    return plan.status == Plan.Status.PUBLISHED and bool(components) and all(c.room.strip() for c in components)


def tickets_auto_issue(*, actor: Actor, plan: Plan, registration_ids: list[int] | None = None) -> list[AdmissionTicket]:
    """Tickets for the plan's approved candidates that have none, issued without anyone pressing a button: when a
    registration is approved, and when a plan's arrangements become complete after candidates were approved.
    Nothing while the arrangements are incomplete (the approved candidates wait for them). Idempotent: the plan row
    is locked, so concurrent approvals take seats one after another, and a registration holds one ticket at most
    (a one-to-one key). Audited as `ticket.issue` with `automatic`. Returns the tickets issued now."""
    with transaction.atomic():
        locked = Plan.objects.select_for_update().get(pk=plan.pk)
        if not arrangements_complete(locked):
            return []
        waiting = locked.registrations.filter(status=Registration.Status.APPROVED, ticket__isnull=True)
        if registration_ids is not None:
            waiting = waiting.filter(pk__in=registration_ids)
        issued, _reissued = issue_tickets(actor, locked, list(waiting.order_by("id")), automatic=True)
    return issued


def on_registration_approved(*, registration: Registration, actor: Actor, **_kwargs) -> None:
    """assessments.signals.registration_approved: the candidate's ticket, if the plan's arrangements are complete."""
    tickets_auto_issue(actor=actor, plan=registration.plan, registration_ids=[registration.pk])


def on_plan_arrangements_changed(*, plan: Plan, actor: Actor, **_kwargs) -> None:
    """assessments.signals.plan_arrangements_changed: tickets for the approved candidates who waited."""
    tickets_auto_issue(actor=actor, plan=plan)


def ticket_for(actor: Actor, registration_id: int) -> AdmissionTicket:
    """The candidate's own ticket, or one of the organisation's (also for the bureau over it)."""
    reg = registration_get(actor, registration_id)
    ticket = AdmissionTicket.objects.filter(registration=reg).select_related("registration__plan").first()
    if ticket is None or reg.status != Registration.Status.APPROVED:
        raise NotFound(_("尚未发放准考证"))
    return ticket


# --- Check-in --------------------------------------------------------------------------------------------------


def _find_ticket(plan: Plan, code: str) -> tuple[AdmissionTicket, str]:
    """The ticket a scanned token or a typed number names, and how it was given ("scan" or "typed")."""
    code = (code or "").strip()
    if not code:
        raise ValidationFailed(_("请扫描准考证二维码或输入准考证号"), details={"field": "code"})
    if code.startswith(TOKEN_PREFIX):
        try:
            data = signing.loads(code[len(TOKEN_PREFIX) :], salt=TOKEN_SALT)
        except signing.BadSignature:
            raise ValidationFailed(
                _("二维码无效:不是本平台签发的准考证,或已被改动"), details={"field": "code"}
            ) from None
        ticket = AdmissionTicket.objects.filter(number=data.get("n"), secret=data.get("k")).first()
        if ticket is None:
            raise ValidationFailed(_("该准考证已重新发放,旧二维码作废,请使用新准考证"), details={"field": "code"})
        method = CheckIn.Method.SCAN
    else:
        ticket = AdmissionTicket.objects.filter(number=code.replace(" ", "")).first()
        if ticket is None:
            raise ValidationFailed(_("准考证号“%(c)s”不存在") % {"c": code[:24]}, details={"field": "code"})
        method = CheckIn.Method.TYPED
    if ticket.registration.plan_id != plan.id:
        raise ValidationFailed(_("该准考证不属于本计划的考试"), details={"field": "code"})
    return ticket, method


def checkin_lookup(*, actor: Actor, plan_id: int, kind: str, code: str) -> AdmissionTicket:
    """The candidate behind a scanned or typed ticket, for the supervisor to compare the ID document with the photo."""
    plan, component = checkin_session(actor, plan_id, kind)
    ticket, _method = _find_ticket(plan, code)
    _require_candidate(plan, component, ticket.registration)
    return ticket


def _require_candidate(plan: Plan, component: PlanComponent, reg: Registration) -> None:
    if reg.status != Registration.Status.APPROVED:
        raise Conflict(_("该考生报名状态为“%(s)s”,不能签到") % {"s": reg.get_status_display()}, code="not_approved")
    if not candidates_for(plan, component.kind).filter(pk=reg.pk).exists():
        raise Conflict(
            _("%(n)s不参加本场“%(k)s”(申报等级不考该科目,或补考沿用前次合格成绩)")
            % {"n": reg.person.name, "k": KIND_LABELS[component.kind]},
            code="not_in_session",
        )


def _require_open(plan: Plan, component: PlanComponent, reg: Registration, now: datetime.datetime) -> None:
    if plan.status != Plan.Status.PUBLISHED:
        raise Conflict(_("计划当前状态为“%(s)s”,不能签到") % {"s": plan.get_status_display()}, code="checkin_closed")
    opens = component.starts_at - CHECKIN_OPENS_BEFORE
    if now < opens:
        raise Conflict(
            _("“%(k)s”签到于%(t)s开始(开考前2小时)")
            % {"k": KIND_LABELS[component.kind], "t": f"{timezone.localtime(opens):%Y-%m-%d %H:%M}"},
            code="checkin_not_open",
        )
    if ComponentResult.objects.filter(registration=reg, kind=component.kind, locked_at__isnull=False).exists():
        raise Conflict(_("该考生本科目成绩已锁定,不能再更改签到"), code="result_locked")


@transaction.atomic
def checkin_record(
    *,
    actor: Actor,
    plan_id: int,
    kind: str,
    status: str,
    code: str = "",
    registration_id: int | None = None,
    id_checked: bool = False,
    note: str = "",
) -> CheckIn:
    """Record a candidate present (the ID document checked against the photo) or absent at the `kind` session.

    The candidate is named by the ticket's QR token or number (`code`) or, from the roster, by registration id.
    Recording again changes the record (a late arrival after being marked absent); every change is audited."""
    plan, component = checkin_session(actor, plan_id, kind, lock=True)
    if status not in CheckIn.Status.values:
        raise ValidationFailed(_("签到状态只能是已签到或缺考"), details={"field": "status"})
    if code:
        ticket, method = _find_ticket(plan, code)
        reg = ticket.registration
    elif registration_id is not None:
        reg = plan.registrations.filter(pk=registration_id).select_related("person").first()
        if reg is None:
            raise ValidationFailed(_("该考生不在本计划考生名单中"), details={"field": "registration_id"})
        method = CheckIn.Method.ROSTER
    else:
        raise ValidationFailed(_("请扫描准考证二维码或输入准考证号"), details={"field": "code"})
    if status == CheckIn.Status.PRESENT and not id_checked:
        raise ValidationFailed(
            _("签到前须核对身份证件与准考证照片一致,并勾选“已核验身份证件”"), details={"field": "id_checked"}
        )
    if status == CheckIn.Status.PRESENT and method == CheckIn.Method.ROSTER:
        raise ValidationFailed(_("签到须扫描准考证二维码或输入准考证号;名单中只能标记缺考"), details={"field": "code"})
    note = (note or "").strip()
    if len(note) > 255:
        raise ValidationFailed(_("备注不能超过255个字"), details={"field": "note"})
    now = timezone.now()
    _require_candidate(plan, component, reg)
    _require_open(plan, component, reg, now)
    checkin = CheckIn.objects.select_for_update().filter(registration=reg, component=component).first()
    before = None
    if checkin is None:
        checkin = CheckIn(registration=reg, component=component)
    else:
        if checkin.status == status and checkin.id_checked == (status == CheckIn.Status.PRESENT):
            raise Conflict(
                _("%(n)s已记录为“%(s)s”") % {"n": reg.person.name, "s": checkin.get_status_display()},
                code="already_recorded",
            )
        before = {"status": checkin.status, "id_checked": checkin.id_checked, "at": checkin.recorded_at}
    checkin.status = status
    checkin.id_checked = status == CheckIn.Status.PRESENT
    checkin.method, checkin.note, checkin.recorded_by, checkin.recorded_at = method, note, actor.user, now
    checkin.full_clean()
    checkin.save()
    plan_audit(
        actor,
        plan,
        "checkin.present" if status == CheckIn.Status.PRESENT else "checkin.absent",
        obj=checkin,
        before=before,
        after={
            "registration": reg.id,
            "kind": kind,
            "status": status,
            "id_checked": checkin.id_checked,
            "method": method,
        },
        reason=note,
    )
    return checkin


def checkin_binding_code(*, actor: Actor, checkin: CheckIn) -> str:
    """A one-time binding code for the candidate just checked in (ID document checked against the photo), so they
    can bind their own account (accounts/binding_codes.py, place "exam check-in"). Shown once; only its digest is
    kept. The plan's supervisor or the organisation's admin or supervisor may issue it, not an assessor."""
    if checkin.status != CheckIn.Status.PRESENT or not checkin.id_checked:
        raise Conflict(_("须先核验身份证件并签到,才能发放绑定码"), code="not_checked_in")
    plan = checkin.component.plan
    return binding_code_issue(
        actor=actor,
        person=checkin.registration.person,
        place=BindingCode.Place.EXAM_CHECKIN,
        organisation=plan.organisation,
        context={
            "plan": plan.id,
            "kind": checkin.component.kind,
            "registration": checkin.registration_id,
            "checkin": checkin.id,
            "supervisor_person": plan.supervisor.person_id if plan.supervisor_id else None,
        },
    )
