"""Issuing certificates: numbering, signing, and batches run by a Celery task with visible progress.

Numbers: written as the level's format says (Level.number_format, data); the national format is the
organisation's 13-character prefix + 2-digit year + level digit + 6-digit serial. A serial is taken
from a counter row locked FOR UPDATE in the same transaction that inserts the certificate, so a rolled-back
insert gives its serial back (no silent gaps) and two batches of one organisation never share a serial.
"""

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.identity import ID_TYPES
from accounts.models import Role
from accreditation.selectors import organisations_for
from assessments.models import CancellationChoice, Plan, Registration
from assessments.review.selectors import issuance_blocker
from core.audit import audit_record
from core.errors import Conflict, NotFound
from core.notifications import notify
from occupations.levels import number_format, serial_width
from occupations.models import Level, Region

from . import signing
from .models import Certificate, IssueBatch, NumberCounter
from .signals import ISSUED, certificate_event
from .status_index import certificates_insert

log = logging.getLogger(__name__)
ID_TYPE_LABELS = {code: str(label) for code, label in ID_TYPES}
CHUNK = 200


def printed_fields(cert: Certificate) -> dict:
    """The fields printed on the certificate, exactly as signed: any change to one breaks verification."""
    return {
        "number": cert.number,
        "name": cert.holder_name,
        "id_type": cert.id_type,
        "id_number": cert.id_number,
        "occupation": cert.occupation_name,
        "work_type": cert.work_type or "--",
        "level": cert.level.label,
        "organisation": cert.organisation_name,
        "issued_on": cert.issued_on.isoformat(),
    }


def token_algorithm(region_code: str) -> str:
    """The algorithm a certificate of this region signs its token with: the region's choice, else the nearest
    enclosing region's (a province choosing 国密 covers its cities), else EdDSA. Data, set in the admin."""
    codes = [region_code, f"{region_code[:4]}00", f"{region_code[:2]}0000"]
    chosen = dict(
        Region.objects.filter(code__in=codes).exclude(signature_algorithm="").values_list("code", "signature_algorithm")
    )
    return next((chosen[code] for code in codes if code in chosen), signing.EDDSA)


def verify_url(cert: Certificate) -> str:
    return f"{settings.SITE_URL}/v/{cert.token}"


def allocate_numbers(prefix: str, issued_on: datetime.date, level: Level, count: int) -> list[str]:
    """`count` consecutive new numbers in the level's format; call inside the transaction that saves them."""
    year = f"{issued_on.year % 100:02d}"
    NumberCounter.objects.get_or_create(prefix=prefix, year=year, level_digit=level.number_digit)
    counter = NumberCounter.objects.select_for_update().get(prefix=prefix, year=year, level_digit=level.number_digit)
    if counter.last_serial + count > 10 ** serial_width(level) - 1:
        raise Conflict(_("本年度该等级证书序号已用尽"))
    first = counter.last_serial + 1
    counter.last_serial += count
    counter.save(update_fields=["last_serial"])
    return [number_format(level, prefix=prefix, year=year, serial=serial) for serial in range(first, first + count)]


def _new_certificate(reg: Registration, number: str, issued_on: datetime.date, alg: str = signing.EDDSA) -> Certificate:
    plan = reg.plan
    cert = Certificate(
        number=number,
        person=reg.person,
        organisation=plan.organisation,
        registration=reg,
        occupation=plan.occupation,
        level=reg.level,
        holder_name=reg.person.name,
        id_type=ID_TYPE_LABELS.get(reg.person.id_type, reg.person.id_type),
        id_number=reg.person.id_number,
        occupation_name=plan.occupation.name,
        occupation_code=plan.occupation.code,
        occupation_edition=plan.occupation.edition,
        work_type=plan.work_type,
        organisation_name=plan.organisation.name,
        issued_on=issued_on,
        region_code=plan.organisation.region.code,
        note=continued_after_cancellation_note(reg),
    )
    cert.token = signing.token_sign(number, printed_fields(cert), alg=alg)
    return cert


def continued_after_cancellation_note(reg: Registration) -> str:
    """Notice section 四: a candidate of a plan announced before its qualification was cancelled who chose to
    continue earns a certificate that says so (and stays proof of ability), shown wherever it is verified."""
    try:
        choice = reg.cancellation_choice
    except CancellationChoice.DoesNotExist:
        return ""
    if choice.choice != CancellationChoice.Choice.CONTINUE:
        return ""
    change = choice.change
    note = _(
        "“%(name)s”自%(day)s起取消(%(basis)s);持证人参加的认定计划公告于取消之前,按本人意愿继续参加认定取得本证书,"
        "可作为能力水平的证明。"
    ) % {"name": change.qualification.name, "day": change.effective_on.isoformat(), "basis": change.basis}
    return note[: Certificate._meta.get_field("note").max_length]  # a long basis must not stop issuance


# --- Issuance ----------------------------------------------------------------------------------------------


def issue_date_for(reg: Registration, batch_date: datetime.date) -> datetime.date:
    """The date printed on a certificate: the batch's, except for a graduating class (双证书), whose graduates get
    the graduation date so that both certificates carry the same day. A certificate never predates the result it
    certifies: a class that graduated before its result was final gets the batch's date."""
    graduating_class = reg.graduating_class
    if graduating_class is None:
        return batch_date
    finalised_on = timezone.localdate(reg.finalised_at) if reg.finalised_at else batch_date
    if finalised_on <= graduating_class.graduation_date <= batch_date:
        return graduating_class.graduation_date
    return batch_date


def awaiting_graduation(plan: Plan, on: datetime.date) -> QuerySet[Registration]:
    """Passed graduates whose class has not graduated yet: their certificates wait for the graduation day."""
    return plan.registrations.filter(
        outcome=Registration.Outcome.PASSED,
        finalised_at__isnull=False,
        certificate__isnull=True,
        graduating_class__graduation_date__gt=on,
    )


def _issuable(plan: Plan, on: datetime.date) -> QuerySet[Registration]:
    """Passed, finalised and not yet certified; a graduating class's students only from their graduation day, so
    that no certificate carries a date still to come (issue_graduates_due issues them on the day)."""
    return plan.registrations.filter(
        Q(graduating_class__isnull=True) | Q(graduating_class__graduation_date__lte=on),
        outcome=Registration.Outcome.PASSED,
        finalised_at__isnull=False,
        certificate__isnull=True,
    )


def issue_batch_start(*, actor: Actor, plan_id: int) -> IssueBatch:
    """Queue issuance for a finalised plan (idempotent: a running batch is returned, issued people are skipped)."""
    with transaction.atomic():
        plan = Plan.objects.select_for_update().select_related("organisation__region").filter(pk=plan_id).first()
        if plan is None or not (actor.system or organisations_for(actor).filter(pk=plan.organisation_id).exists()):
            raise NotFound()
        if not actor.system:
            actor.require_org_role(plan.organisation_id, Role.ORG_ADMIN)
        if plan.status != Plan.Status.FINALISED:
            raise Conflict(_("认定结果办结后才能签发证书"))
        if blocker := issuance_blocker(plan):
            raise Conflict(blocker, code="result_review")
        if not plan.organisation.number_prefix:
            raise Conflict(_("机构尚未获得证书编号前缀"))
        today = timezone.localdate()
        running = plan.issue_batches.filter(status__in=[IssueBatch.Status.QUEUED, IssueBatch.Status.RUNNING]).first()
        if running is not None:
            # Its task may have been lost (broker down when queued, worker killed): queue it again. Runs are
            # idempotent and safe to overlap, so a duplicate only finds nothing left to issue.
            transaction.on_commit(lambda: _enqueue(running.id))
            return running
        batch = IssueBatch.objects.create(
            plan=plan, total=_issuable(plan, today).count(), issued_on=today, created_by=actor.user
        )
        audit_record(
            actor=actor,
            action="certificate.batch_start",
            obj=batch,
            after={"plan": plan.id, "total": batch.total},
            region_code=plan.organisation.region.code,
            organisation_id=plan.organisation_id,
        )
        transaction.on_commit(lambda: _enqueue(batch.id))
    return batch


def _enqueue(batch_id: int) -> None:
    """Queue the batch's task; when the broker is unreachable, say so on the batch instead of failing the request
    that already committed (the organisation starts it again from the page once the broker is back)."""
    from .tasks import issue_batch_task

    IssueBatch.objects.filter(pk=batch_id).exclude(error="").update(error="")
    try:
        issue_batch_task.delay(batch_id)
    except Exception as exc:  # kombu raises several connection errors; none may undo the committed batch
        log.error("could not queue issue batch %s: %s", batch_id, exc)
        IssueBatch.objects.filter(pk=batch_id).update(error=_("任务队列暂不可用,请稍后点击“签发证书”重新开始"))


def issue_batch_run(batch_id: int, *, chunk: int = CHUNK) -> IssueBatch:
    """Issue the batch's certificates chunk by chunk; safe to run again after a crash (nothing is issued twice)."""
    batch = IssueBatch.objects.select_related("plan__organisation__region").get(pk=batch_id)
    if batch.status == IssueBatch.Status.DONE:
        return batch
    plan = batch.plan
    # The bureau's review may have changed since the batch was queued (results corrected, review returned).
    if blocker := issuance_blocker(plan):
        IssueBatch.objects.filter(pk=batch.id).update(status=IssueBatch.Status.FAILED, error=blocker)
        batch.refresh_from_db()
        return batch
    IssueBatch.objects.filter(pk=batch.id).update(status=IssueBatch.Status.RUNNING, error="")
    prefix = plan.organisation.number_prefix
    try:
        while True:
            with transaction.atomic():
                # Lock the registrations we take, so a second run of the same batch waits instead of doubling.
                regs = list(
                    _issuable(plan, batch.issued_on)
                    .select_for_update(of=("self",))
                    .select_related("person", "level", "graduating_class", "cancellation_choice__change__qualification")
                    .order_by("level__rank", "person__id_number")[:chunk]
                )
                if not regs:
                    break
                # A concurrent run may have issued these while we waited for the locks; the join condition in
                # the query above is not re-checked after waiting, so check again now that we hold them.
                issued = set(
                    Certificate.objects.filter(registration_id__in=[r.id for r in regs]).values_list(
                        "registration_id", flat=True
                    )
                )
                regs = [r for r in regs if r.id not in issued]
                if not regs:
                    continue
                created = []
                alg = token_algorithm(plan.organisation.region.code)
                dates = {r.id: issue_date_for(r, batch.issued_on) for r in regs}
                for level_id, issued_on in sorted({(r.level_id, dates[r.id]) for r in regs}):
                    group = [r for r in regs if r.level_id == level_id and dates[r.id] == issued_on]
                    numbers = allocate_numbers(prefix, issued_on, group[0].level, len(group))
                    for reg, number in zip(group, numbers, strict=True):
                        reg.plan = plan
                        created.append(_new_certificate(reg, number, issued_on, alg))
                certificates_insert(created)
                IssueBatch.objects.filter(pk=batch.id).update(done=batch.done + len(created))
                batch.done += len(created)
                audit_record(
                    actor=Actor.platform(),
                    action="certificate.issue",
                    object_type="certificates.issuebatch",
                    object_id=batch.id,
                    after={"numbers": [c.number for c in created]},
                    region_code=plan.organisation.region.code,
                    organisation_id=plan.organisation_id,
                )
                certificate_event.send(
                    sender=Certificate, event=ISSUED, certificates=created, actor=Actor.platform(), reason=""
                )
    except Exception as exc:
        IssueBatch.objects.filter(pk=batch.id).update(status=IssueBatch.Status.FAILED, error=str(exc)[:2000])
        raise
    IssueBatch.objects.filter(pk=batch.id).update(status=IssueBatch.Status.DONE, finished_at=timezone.now())
    batch.refresh_from_db()
    _notify_holders(plan)
    return batch


def _notify_holders(plan: Plan) -> None:
    from accounts.models import User

    certs = Certificate.objects.filter(registration__plan=plan)
    users = User.objects.filter(person_id__in=certs.values("person_id"))
    notify(users=list(users), title=_("您的职业技能等级证书已签发"), body=plan.title, link="/certificates/mine/")


def issue_graduates_due(today: datetime.date | None = None) -> list[int]:
    """Start issuance for finalised plans whose graduating classes have graduated and still lack certificates
    (run daily): the certificates then carry the graduation date without anyone having to remember the day."""
    today = today or timezone.localdate()
    plan_ids = set(
        Registration.objects.filter(
            plan__status=Plan.Status.FINALISED,
            outcome=Registration.Outcome.PASSED,
            finalised_at__isnull=False,
            certificate__isnull=True,
            graduating_class__graduation_date__lte=today,
        ).values_list("plan_id", flat=True)
    )
    started = []
    for plan_id in sorted(plan_ids):
        try:
            started.append(issue_batch_start(actor=Actor.platform(), plan_id=plan_id).id)
        except Conflict as exc:  # e.g. no number prefix yet: the organisation's issue page says so
            log.warning("graduates of plan %s not issued: %s", plan_id, exc.message)
    return started
