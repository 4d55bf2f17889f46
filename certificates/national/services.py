"""The outbox: records are written in the transaction of the change they report, sent by a Celery task, retried
with exponential back-off until the national database answers, and each answer is kept on its record."""

import datetime
import logging
from collections import Counter
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import Role
from accounts.selectors import organisation_admins
from assessments.models import Plan, Registration
from certificates.models import Certificate
from certificates.signals import ISSUED, REPLACED
from core.audit import audit_record
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.notifications import notify
from occupations.workdays import WorkCalendar

from . import rules, wire
from .models import DeadlineRule, ReportRecord
from .selectors import records_for

log = logging.getLogger(__name__)
BATCH = 100
RESULT_OUTCOMES = (
    Registration.Outcome.PASSED,
    Registration.Outcome.FAILED,
    Registration.Outcome.ABSENT,
    Registration.Outcome.VOID,
)


def _kick() -> None:
    """Send now (after commit); the beat task picks up whatever this misses."""
    from .tasks import national_send_due_task

    try:
        national_send_due_task.delay()
    except Exception as exc:  # a broker outage must not undo the change that committed; the beat retries
        log.warning("could not queue national reporting: %s", exc)


class _Deadlines:
    """Due dates for many records at once: one calendar, and each (region, kind, day) computed once."""

    def __init__(self) -> None:
        self.calendar = WorkCalendar()
        self.memo: dict[tuple, rules.Due] = {}

    def __call__(self, kind: str, region_code: str, organisation_kind: str, start: datetime.date) -> rules.Due:
        key = (kind, region_code, organisation_kind, start)
        if key not in self.memo:
            self.memo[key] = rules.due_date(
                kind=kind,
                region_code=region_code,
                organisation_kind=organisation_kind,
                start=start,
                calendar=self.calendar,
            )
        return self.memo[key]


def _certificate_record(cert: Certificate, event: str, deadlines: _Deadlines, now: datetime.datetime):
    start = cert.issued_on if event == ISSUED else (cert.status_changed_on or timezone.localdate(now))
    due = deadlines(DeadlineRule.Kind.CERTIFICATE, cert.region_code, cert.organisation.kind, start)
    record = ReportRecord(
        kind=ReportRecord.Kind.CERTIFICATE,
        event=event,
        certificate=cert,
        organisation_id=cert.organisation_id,
        region_code=cert.region_code,
        subject=cert.number,
        payload=wire.certificate_data(cert),
        due_on=due.on,
        due_provisional=due.provisional,
        due_explanation=due.explanation,
        next_attempt_at=now,
    )
    if not rules.reportable_level(cert.level.number_digit):
        record.status, record.last_error = (
            ReportRecord.Status.HELD,
            rules.held_reason(cert.level.label, cert.level.number_digit),
        )
    return record


def records_for_certificates(*, event: str, certificates: Iterable[Certificate]) -> list[ReportRecord]:
    """Outbox records for a certificate event (called from the certificate_event receiver, in its transaction).
    Imported historical certificates are not reported: they came from the national database's own era."""
    now, deadlines = timezone.now(), _Deadlines()
    records = []
    for cert in certificates:
        if cert.imported or cert.organisation_id is None:
            continue
        records.append(_certificate_record(cert, event, deadlines, now))
        if event == REPLACED and cert.superseded_by_id:
            records.append(_certificate_record(cert.superseded_by, ISSUED, deadlines, now))
    created = ReportRecord.objects.bulk_create(records)
    if any(r.status == ReportRecord.Status.PENDING for r in created):
        transaction.on_commit(_kick)
    return created


def _assessed_on(plan: Plan) -> datetime.date:
    last = plan.components.order_by("-ends_at").values_list("ends_at", flat=True).first()
    return timezone.localdate(last) if last else timezone.localdate(plan.finalised_at or timezone.now())


def enqueue_results(plan_id: int) -> None:
    from .tasks import national_results_task

    try:
        national_results_task.delay(plan_id)
    except Exception as exc:  # the daily sweep (records_for_unreported_results) catches up
        log.warning("could not queue result reporting for plan %s: %s", plan_id, exc)


def records_for_unreported_results(*, days: int = 90) -> int:
    """Finalised plans of the last `days` days with candidates that have no result record yet (a lost task)."""
    since = timezone.now() - datetime.timedelta(days=days)
    reported = ReportRecord.objects.filter(kind=ReportRecord.Kind.RESULT).values("registration_id")
    plan_ids = set(
        Registration.objects.filter(
            plan__status=Plan.Status.FINALISED,
            finalised_at__gte=since,
            outcome__in=RESULT_OUTCOMES,
        )
        .exclude(id__in=reported)
        .values_list("plan_id", flat=True)
    )
    return sum(len(records_for_results(plan=Plan.objects.get(pk=plan_id))) for plan_id in sorted(plan_ids))


@transaction.atomic
def records_for_results(*, plan: Plan) -> list[ReportRecord]:
    """One result record per candidate with a final outcome, due N working days after the last exam day.
    Idempotent: candidates that already have a result record are skipped."""
    plan = Plan.objects.select_for_update().select_related("organisation__region").get(pk=plan.pk)
    org = plan.organisation
    assessed_on = _assessed_on(plan)
    due = rules.due_date(
        kind=DeadlineRule.Kind.RESULT, region_code=org.region.code, organisation_kind=org.kind, start=assessed_on
    )
    now = timezone.now()
    records = []
    reported = ReportRecord.objects.filter(kind=ReportRecord.Kind.RESULT, registration__plan=plan).values(
        "registration_id"
    )
    regs = (
        plan.registrations.filter(outcome__in=RESULT_OUTCOMES, finalised_at__isnull=False)
        .exclude(id__in=reported)
        .select_related("person", "level", "plan__occupation", "plan__organisation")
    )
    for reg in regs:
        record = ReportRecord(
            kind=ReportRecord.Kind.RESULT,
            event="result",
            registration=reg,
            organisation=org,
            region_code=org.region.code,
            subject=f"{reg.person.name} · {plan.title}"[:128],
            payload=wire.result_data(reg, assessed_on),
            due_on=due.on,
            due_provisional=due.provisional,
            due_explanation=due.explanation,
            next_attempt_at=now,
        )
        if not rules.reportable_level(reg.level.number_digit):
            record.status = ReportRecord.Status.HELD
            record.last_error = rules.held_reason(reg.level.label, reg.level.number_digit)
        records.append(record)
    created = ReportRecord.objects.bulk_create(records, batch_size=500)
    if created:
        transaction.on_commit(_kick)
    return created


# --- Sending ---------------------------------------------------------------------------------------------------


def backoff(attempts: int) -> datetime.timedelta:
    """After the n-th failed attempt: base × 2^(n-1), at most the cap (60 s, 2 min, 4 min, … 6 h by default)."""
    seconds = settings.NATIONAL_REPORT_RETRY_BASE * 2 ** max(attempts - 1, 0)
    return datetime.timedelta(seconds=min(seconds, settings.NATIONAL_REPORT_RETRY_MAX))


def _claim(now: datetime.datetime, limit: int) -> list[ReportRecord]:
    """Take due records for this run. A record another run holds is skipped (SKIP LOCKED on PostgreSQL); one left
    `sending` by a killed worker is taken again once its lease runs out (the receiver dedupes by record_id)."""
    due = Q(status=ReportRecord.Status.PENDING, next_attempt_at__lte=now) | Q(
        status=ReportRecord.Status.SENDING, lease_until__lt=now
    )
    with transaction.atomic():
        qs = ReportRecord.objects.filter(due).order_by("due_on", "id")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        records = list(qs[:limit])
        lease = now + datetime.timedelta(seconds=settings.NATIONAL_REPORT_TIMEOUT * 3 + 30)
        ReportRecord.objects.filter(pk__in=[r.pk for r in records]).update(
            status=ReportRecord.Status.SENDING, lease_until=lease
        )
    return records


def _wire(record: ReportRecord) -> dict:
    return {"record_id": str(record.record_id), "type": record.kind, "event": record.event, "data": record.payload}


def _fail(records: list[ReportRecord], error: str, now: datetime.datetime) -> None:
    for record in records:
        attempts = record.attempts + 1
        ReportRecord.objects.filter(pk=record.pk, status=ReportRecord.Status.SENDING).update(
            status=ReportRecord.Status.PENDING,
            attempts=attempts,
            next_attempt_at=now + backoff(attempts),
            lease_until=None,
            last_error=error[:500],
            first_sent_at=record.first_sent_at or now,
        )


def _answer(record: ReportRecord, feedback: wire.Feedback, now: datetime.datetime) -> None:
    status = ReportRecord.Status.ACCEPTED if feedback.accepted else ReportRecord.Status.REJECTED
    ReportRecord.objects.filter(pk=record.pk, status=ReportRecord.Status.SENDING).update(
        status=status,
        attempts=record.attempts + 1,
        lease_until=None,
        next_attempt_at=None,
        last_error="",
        feedback_code=feedback.code,
        feedback_message=feedback.message,
        receipt=feedback.receipt,
        first_sent_at=record.first_sent_at or now,
        answered_at=now,
    )


def _tell_organisations(rejected: list[ReportRecord]) -> None:
    by_org = Counter(r.organisation_id for r in rejected)
    for organisation_id, n in by_org.items():
        notify(
            users=list(organisation_admins(organisation_id)),
            title=_("数据上报被退回%(n)d条") % {"n": n},
            body=_("国家数据库退回了本机构的上报记录,请查看退回原因,更正后重新上报。"),
            link="/certificates/national/?status=rejected",
        )


def records_send_due(*, now: datetime.datetime | None = None, limit: int = 1000) -> dict:
    """Send what is due, in batches; store each record's answer; reschedule what did not get through."""
    adapter = wire.adapter()
    counts = Counter()
    if adapter is None:
        return {"configured": False}
    now = now or timezone.now()
    records = _claim(now, limit)
    for start in range(0, len(records), BATCH):
        batch = records[start : start + BATCH]
        try:
            feedback = adapter.send([_wire(r) for r in batch])
        except wire.DeliveryFailed as exc:
            _fail(batch, str(exc), now)
            counts["failed"] += len(batch)
            continue
        rejected = []
        unanswered = []
        for record in batch:
            answer = feedback.get(str(record.record_id))
            if answer is None:
                unanswered.append(record)
                continue
            _answer(record, answer, now)
            counts["accepted" if answer.accepted else "rejected"] += 1
            if not answer.accepted:
                rejected.append(record)
        if unanswered:
            _fail(unanswered, _("国家数据库的应答中没有这条记录"), now)
            counts["failed"] += len(unanswered)
        _audit_batch(batch, feedback)
        if rejected:
            _tell_organisations(rejected)
    return {"configured": True, **counts}


def _audit_batch(batch: list[ReportRecord], feedback: dict) -> None:
    by_org: dict[int, list[ReportRecord]] = {}
    for record in batch:
        by_org.setdefault(record.organisation_id, []).append(record)
    for organisation_id, records in by_org.items():
        answers = [feedback.get(str(r.record_id)) for r in records]
        audit_record(
            actor=Actor.platform(),
            action="national.report_feedback",
            object_type="national_reporting.reportrecord",
            after={
                "accepted": [str(r.record_id) for r, a in zip(records, answers, strict=True) if a and a.accepted],
                "rejected": [str(r.record_id) for r, a in zip(records, answers, strict=True) if a and not a.accepted],
                "unanswered": [str(r.record_id) for r, a in zip(records, answers, strict=True) if a is None],
            },
            region_code=records[0].region_code,
            organisation_id=organisation_id,
        )


def next_retry_in(now: datetime.datetime | None = None) -> float | None:
    """Seconds until the earliest pending record is due again (for the task to schedule itself), or None."""
    now = now or timezone.now()
    first = (
        ReportRecord.objects.filter(status=ReportRecord.Status.PENDING, next_attempt_at__isnull=False)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    return None if first is None else max((first - now).total_seconds(), 0.0)


# --- Corrections and held records ------------------------------------------------------------------------------


def _current_payload(record: ReportRecord) -> dict:
    if record.kind == ReportRecord.Kind.CERTIFICATE:
        cert = Certificate.objects.select_related("occupation", "organisation", "level", "superseded_by").get(
            pk=record.certificate_id
        )
        return wire.certificate_data(cert)
    reg = Registration.objects.select_related("person", "level", "plan__occupation", "plan__organisation").get(
        pk=record.registration_id
    )
    return wire.result_data(reg, datetime.date.fromisoformat(record.payload["assessed_on"]))


@transaction.atomic
def record_resend(*, actor: Actor, record_id: int) -> ReportRecord:
    """Report a rejected record again, as a new record built from the data as it stands now (after the
    organisation corrected what the national database objected to). Unchanged data is refused: it would only be
    rejected again."""
    record = records_for(actor).filter(pk=record_id).first()
    if record is None:
        raise NotFound()
    record = ReportRecord.objects.select_for_update().get(pk=record.pk)
    is_admin = record.organisation_id in actor.organisation_ids(Role.ORG_ADMIN)
    if not (is_admin or actor.is_operator or actor.bureau_prefixes):
        raise PermissionDenied(_("只有本机构管理员或人社部门可以重新上报"))
    if record.status != ReportRecord.Status.REJECTED:
        raise Conflict(_("只有被退回的记录可以更正后重新上报"))
    payload = _current_payload(record)
    if payload == record.payload:
        raise ValidationFailed(
            _("数据与被退回时相同,重新上报仍会被退回。请先按退回原因更正(如机构信用代码、职业编码,或换发证书)"),
            details={"field": "payload"},
        )
    new = ReportRecord.objects.create(
        kind=record.kind,
        event=record.event,
        certificate_id=record.certificate_id,
        registration_id=record.registration_id,
        organisation_id=record.organisation_id,
        region_code=record.region_code,
        subject=record.subject,
        payload=payload,
        due_on=record.due_on,
        due_provisional=record.due_provisional,
        due_explanation=record.due_explanation,
        next_attempt_at=timezone.now(),
        resent_from=record,
    )
    record.status = ReportRecord.Status.CORRECTED
    record.save(update_fields=["status"])
    changed = sorted(k for k in payload if payload.get(k) != record.payload.get(k))
    audit_record(
        actor=actor,
        action="national.report_resend",
        obj=new,
        before={"record_id": str(record.record_id), "feedback": record.feedback_message},
        after={"record_id": str(new.record_id), "changed": changed},
        region_code=record.region_code,
        organisation_id=record.organisation_id,
    )
    transaction.on_commit(_kick)
    return new


def records_release_held() -> int:
    """Held records whose level the national rule now defines (NATIONAL_REPORT_LEVEL_DIGITS changed) are queued."""
    released = 0
    for record in ReportRecord.objects.filter(status=ReportRecord.Status.HELD):
        if rules.reportable_level(record.payload.get("level_digit", "")):
            with transaction.atomic():
                record.status, record.last_error, record.next_attempt_at = (
                    ReportRecord.Status.PENDING,
                    "",
                    timezone.now(),
                )
                record.payload = _current_payload(record)
                record.save(update_fields=["status", "last_error", "next_attempt_at", "payload"])
                audit_record(
                    actor=Actor.platform(),
                    action="national.report_release",
                    obj=record,
                    region_code=record.region_code,
                    organisation_id=record.organisation_id,
                )
                released += 1
    if released:
        _kick()
    return released
