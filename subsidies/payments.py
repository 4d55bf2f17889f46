"""Monthly payment batches: approved claims of a region go to the bank in one file; each line comes back paid
(with the bank's reference) or failed (the claim returns to the approved queue with the reason).

A claim is paid at most once: it enters a batch only from "approved", under a row lock, and the database
allows one pending-or-paid payment line per claim and never the same bank reference twice.
"""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.identity import ID_TYPES
from core.audit import audit_record
from core.errors import Conflict, NotFound, ValidationFailed
from core.spreadsheets import export_workbook
from occupations.models import Region

from .models import Claim, ClaimDecision, PaymentBatch, PaymentLine
from .selectors import batch_get
from .services import _record, _tell_claimant

ID_TYPE_LABELS = {code: str(label) for code, label in ID_TYPES}
BANK_FILE_HEADERS = [
    "序号",
    "户名",
    "证件类型",
    "证件号码",
    "账户类型",
    "账号",
    "开户银行",
    "金额(元)",
    "用途",
    "申请编号",
]


def _month(month: str | None, today: datetime.date) -> str:
    month = (month or f"{today:%Y-%m}").strip()
    try:
        datetime.date.fromisoformat(f"{month}-01")
    except ValueError:
        raise ValidationFailed(_("批次月份应为 2026-11 格式"), details={"field": "month"}) from None
    return month


@transaction.atomic
def batch_create(
    *, actor: Actor, region_code: str = "", month: str | None = None, today: datetime.date | None = None
) -> PaymentBatch:
    """Gather every approved, unpaid claim of the region into this month's batch."""
    today = today or timezone.localdate()
    region = actor.bureau_region(region_code, field="region_code", prompt=_("请选择批次所属地区"))
    month = _month(month, today)
    if PaymentBatch.objects.filter(region=region, month=month).exists():
        raise Conflict(_("%(r)s %(m)s 的支付批次已生成") % {"r": region.name, "m": month}, code="batch_exists")
    claims = list(
        Claim.objects.select_for_update(of=("self",))
        .filter(Region.within_q("region", [region.prefix]), status=Claim.Status.APPROVED)
        .select_related("person", "region", "level", "occupation")
        .order_by("id")
    )
    if not claims:
        raise Conflict(_("没有待支付的补贴"), code="nothing_to_pay")
    try:
        with transaction.atomic():
            batch = PaymentBatch.objects.create(region=region, month=month, created_by=actor.user)
    except IntegrityError:
        raise Conflict(
            _("%(r)s %(m)s 的支付批次已生成") % {"r": region.name, "m": month}, code="batch_exists"
        ) from None
    PaymentLine.objects.bulk_create(
        PaymentLine(
            batch=batch,
            claim=c,
            amount=c.amount,
            holder_name=c.person.name,
            id_number=c.person.id_number,
            account_kind=c.account_kind,
            account_number=c.account_number,
            bank_name=c.bank_name,
        )
        for c in claims
    )
    Claim.objects.filter(pk__in=[c.id for c in claims]).update(
        status=Claim.Status.IN_PAYMENT, updated_at=timezone.now()
    )
    audit_record(
        actor=actor,
        action="subsidy_batch.create",
        obj=batch,
        after={"month": month, "claims": [c.id for c in claims], "total": str(sum(c.amount for c in claims))},
        region_code=region.code,
    )
    return batch


@transaction.atomic
def batch_bank_file(*, actor: Actor, batch_id: int) -> bytes:
    """The spreadsheet for the bank: full names, ID numbers and accounts (the one place they appear unmasked)."""
    batch = batch_get(actor, batch_id)
    lines = list(batch.lines.select_related("claim__person").order_by("id"))
    kinds = dict(Claim.AccountKind.choices)
    rows = [
        [
            i,
            line.holder_name,
            ID_TYPE_LABELS.get(line.claim.person.id_type, ""),
            line.id_number,
            str(kinds.get(line.account_kind, line.account_kind)),
            line.account_number,
            line.bank_name,
            float(line.amount),
            _("技能提升补贴"),
            line.claim_id,
        ]
        for i, line in enumerate(lines, start=1)
    ]
    data = export_workbook(BANK_FILE_HEADERS, rows, _("补贴发放%(m)s") % {"m": batch.month})
    PaymentBatch.objects.filter(pk=batch.id).update(exported_at=timezone.now())
    audit_record(
        actor=actor,
        action="subsidy_batch.export",
        obj=batch,
        after={"lines": len(lines)},
        region_code=batch.region.code,
    )
    return data


def _line_for_update(actor: Actor, batch_id: int, claim_id: int) -> PaymentLine:
    batch = batch_get(actor, batch_id)
    line = (
        PaymentLine.objects.select_for_update(of=("self",))
        .select_related("claim__region", "batch__region")
        .filter(batch=batch, claim_id=claim_id)
        .order_by("-id")
        .first()
    )
    if line is None:
        raise NotFound()
    if line.status != PaymentLine.Status.PENDING:
        raise Conflict(_("该笔支付已登记为“%(s)s”") % {"s": line.get_status_display()}, code="already_settled")
    return line


def _close_if_settled(batch: PaymentBatch, actor: Actor) -> None:
    if batch.status == PaymentBatch.Status.OPEN and not batch.lines.filter(status=PaymentLine.Status.PENDING).exists():
        PaymentBatch.objects.filter(pk=batch.id).update(status=PaymentBatch.Status.CLOSED, closed_at=timezone.now())
        audit_record(
            actor=actor,
            action="subsidy_batch.close",
            obj=batch,
            before={"status": "open"},
            after={"status": "closed"},
            region_code=batch.region.code,
        )


@transaction.atomic
def payment_mark_paid(
    *, actor: Actor, batch_id: int, claim_id: int, bank_reference: str, paid_on: datetime.date | None = None
) -> PaymentLine:
    """The bank paid this line: record its reference; the claim is done (办结)."""
    reference = (bank_reference or "").strip()
    if not reference or len(reference) > 64:
        raise ValidationFailed(_("请填写银行流水号(64字以内)"), details={"field": "bank_reference"})
    line = _line_for_update(actor, batch_id, claim_id)
    claim = Claim.objects.select_for_update(of=("self",)).select_related("region").get(pk=line.claim_id)
    paid_on = paid_on or timezone.localdate()
    line.status, line.bank_reference = PaymentLine.Status.PAID, reference
    line.settled_by, line.settled_at = actor.user, timezone.now()
    try:
        with transaction.atomic():
            line.save(update_fields=["status", "bank_reference", "settled_by", "settled_at"])
    except IntegrityError:
        raise Conflict(
            _("银行流水号%(r)s已登记在另一笔支付上") % {"r": reference}, code="duplicate_reference"
        ) from None
    claim.status, claim.paid_on, claim.bank_reference = Claim.Status.PAID, paid_on, reference
    claim.payment_failure_reason = ""
    claim.save(update_fields=["status", "paid_on", "bank_reference", "payment_failure_reason", "updated_at"])
    _record(claim, ClaimDecision.Step.PAID, "paid", actor, reason=reference)
    audit_record(
        actor=actor,
        action="subsidy_claim.paid",
        obj=claim,
        before={"status": Claim.Status.IN_PAYMENT},
        after={"status": Claim.Status.PAID, "bank_reference": reference, "amount": str(line.amount), "batch": batch_id},
        region_code=claim.region.code,
        organisation_id=claim.filed_by_organisation_id,
    )
    _tell_claimant(claim, _("技能提升补贴已发放"), _("%(a)s元已于%(d)s发放。") % {"a": line.amount, "d": paid_on})
    _close_if_settled(line.batch, actor)
    return line


@transaction.atomic
def payment_mark_failed(*, actor: Actor, batch_id: int, claim_id: int, reason: str) -> PaymentLine:
    """The bank returned this line: the claim goes back to "approved" with the reason, for the next batch."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写银行退回原因"), details={"field": "reason"})
    line = _line_for_update(actor, batch_id, claim_id)
    claim = Claim.objects.select_for_update(of=("self",)).select_related("region").get(pk=line.claim_id)
    line.status, line.failure_reason = PaymentLine.Status.FAILED, reason[:255]
    line.settled_by, line.settled_at = actor.user, timezone.now()
    line.save(update_fields=["status", "failure_reason", "settled_by", "settled_at"])
    claim.status, claim.payment_failure_reason = Claim.Status.APPROVED, reason[:255]
    claim.save(update_fields=["status", "payment_failure_reason", "updated_at"])
    _record(claim, ClaimDecision.Step.PAYMENT_FAILED, "failed", actor, reason=reason)
    audit_record(
        actor=actor,
        action="subsidy_claim.payment_failed",
        obj=claim,
        before={"status": Claim.Status.IN_PAYMENT},
        after={"status": Claim.Status.APPROVED, "batch": batch_id},
        reason=reason,
        region_code=claim.region.code,
        organisation_id=claim.filed_by_organisation_id,
    )
    _tell_claimant(
        claim,
        _("技能提升补贴发放未成功"),
        _("银行退回:%(r)s。请核对账户信息,补贴将在下一支付批次重新发放。") % {"r": reason},
    )
    _close_if_settled(line.batch, actor)
    return line
