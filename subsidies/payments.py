"""Monthly payment batches: approved claims of a region go to the bank in one file; each line comes back paid
(with the bank's reference) or failed (the claim returns to the approved queue with the reason), one by one or
all at once from the bank's return file (回单文件, xlsx or CSV), reconciled against the batch all or nothing.
A batch closes only when every line is settled.

A claim is paid at most once: it enters a batch only from "approved", under a row lock, and the database
allows one pending-or-paid payment line per claim and never the same bank reference twice.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.identity import ID_TYPES
from core.audit import audit_record
from core.errors import Conflict, NotFound, ValidationFailed
from core.spreadsheets import (
    Column,
    ImportReport,
    RowError,
    RowProblem,
    cell_text,
    check_rows,
    export_workbook,
    parse_date,
    read_rows,
    save_all_or_nothing,
    template_workbook,
)
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


def _reference(bank_reference: str) -> str:
    reference = (bank_reference or "").strip()
    if not reference or len(reference) > 64:
        raise ValidationFailed(_("请填写银行流水号(64字以内)"), details={"field": "bank_reference"})
    return reference


def _settle_paid(actor: Actor, line: PaymentLine, reference: str, paid_on: datetime.date) -> None:
    """The line (locked, pending) was paid: its reference recorded, the claim done (办结)."""
    claim = Claim.objects.select_for_update(of=("self",)).select_related("region").get(pk=line.claim_id)
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
        after={
            "status": Claim.Status.PAID,
            "bank_reference": reference,
            "amount": str(line.amount),
            "batch": line.batch_id,
        },
        region_code=claim.region.code,
        organisation_id=claim.filed_by_organisation_id,
    )
    _tell_claimant(claim, _("技能提升补贴已发放"), _("%(a)s元已于%(d)s发放。") % {"a": line.amount, "d": paid_on})


def _settle_failed(actor: Actor, line: PaymentLine, reason: str) -> None:
    """The bank returned the line (locked, pending): the claim goes back to "approved" with the reason."""
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
        after={"status": Claim.Status.APPROVED, "batch": line.batch_id},
        reason=reason,
        region_code=claim.region.code,
        organisation_id=claim.filed_by_organisation_id,
    )
    _tell_claimant(
        claim,
        _("技能提升补贴发放未成功"),
        _("银行退回:%(r)s。请核对账户信息,补贴将在下一支付批次重新发放。") % {"r": reason},
    )


@transaction.atomic
def payment_mark_paid(
    *, actor: Actor, batch_id: int, claim_id: int, bank_reference: str, paid_on: datetime.date | None = None
) -> PaymentLine:
    """The bank paid this line: record its reference; the claim is done (办结)."""
    reference = _reference(bank_reference)
    line = _line_for_update(actor, batch_id, claim_id)
    _settle_paid(actor, line, reference, paid_on or timezone.localdate())
    _close_if_settled(line.batch, actor)
    return line


@transaction.atomic
def payment_mark_failed(*, actor: Actor, batch_id: int, claim_id: int, reason: str) -> PaymentLine:
    """The bank returned this line: the claim goes back to "approved" with the reason, for the next batch."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写银行退回原因"), details={"field": "reason"})
    line = _line_for_update(actor, batch_id, claim_id)
    _settle_failed(actor, line, reason)
    _close_if_settled(line.batch, actor)
    return line


# --- The bank's return file ----------------------------------------------------------------------------------

RETURN_COLUMNS = [
    Column("claim_id", "申请编号", example="1024"),
    Column("holder_name", "户名", required=False, example="张伟"),
    Column("account_number", "账号", example="6222020200001234567"),
    Column("amount", "金额(元)", example="1950"),
    Column("result", "处理结果", example="成功"),
    Column("bank_reference", "银行流水号", required=False, example="CCB20261125000123"),
    Column("paid_on", "入账日期", required=False, example="2026-11-25"),
    Column("reason", "失败原因", required=False, example="账户已销户"),
]
_PAID_WORDS = {"成功", "已支付", "支付成功", "入账成功", "已入账", "paid", "success", "s", "0000"}
_FAILED_WORDS = {"失败", "支付失败", "退回", "已退回", "退票", "failed", "fail", "f"}


@dataclass
class ReturnLine:
    line: PaymentLine
    paid: bool
    reference: str
    paid_on: datetime.date | None
    reason: str
    unchanged: bool


@dataclass
class BankReturnReport(ImportReport):
    paid: int = 0
    failed: int = 0
    unchanged: int = 0
    pending: int = 0
    closed: bool = False

    def as_dict(self) -> dict:
        return {
            **super().as_dict(),
            "paid": self.paid,
            "failed": self.failed,
            "unchanged": self.unchanged,
            "pending": self.pending,
            "closed": self.closed,
        }


def _return_row(record: dict, lines: dict[int, PaymentLine], today: datetime.date) -> ReturnLine:
    text = cell_text(record.get("claim_id"))
    try:
        claim_id = int(text)
    except ValueError:
        raise RowProblem(_("申请编号“%(v)s”应为数字") % {"v": text or "—"}, "申请编号") from None
    line = lines.get(claim_id)
    if line is None:
        raise RowProblem(_("申请编号%(id)d不在本批次中(未知的支付行)") % {"id": claim_id}, "申请编号")
    account = "".join(cell_text(record.get("account_number")).split()).replace("-", "")
    if account != line.account_number:
        raise RowProblem(_("账号与本批次申请#%(id)d的账号不一致") % {"id": claim_id}, "账号")
    try:
        amount = Decimal(cell_text(record.get("amount")).replace(",", "")).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise RowProblem(_("金额应为数字"), "金额(元)") from None
    if amount != line.amount:
        raise RowProblem(
            _("金额%(a)s与本批次申请#%(id)d的金额%(b)s不一致") % {"a": amount, "id": claim_id, "b": line.amount},
            "金额(元)",
        )
    word = cell_text(record.get("result")).lower()
    if word in _PAID_WORDS:
        reference = cell_text(record.get("bank_reference"))
        if not reference or len(reference) > 64:
            raise RowProblem(_("支付成功的行须有银行流水号(64字以内)"), "银行流水号")
        paid_on = today
        if cell_text(record.get("paid_on")):
            try:
                paid_on = parse_date(record.get("paid_on"))
            except ValueError as exc:
                raise RowProblem(str(exc), "入账日期") from None
            if paid_on > today:
                raise RowProblem(_("入账日期不能晚于今天"), "入账日期")
        result = ReturnLine(line, True, reference, paid_on, "", False)
    elif word in _FAILED_WORDS:
        reason = cell_text(record.get("reason"))
        if not reason:
            raise RowProblem(_("支付失败的行须写明银行的失败原因"), "失败原因")
        result = ReturnLine(line, False, "", None, reason[:255], False)
    else:
        raise RowProblem(_("处理结果应为“成功”或“失败”"), "处理结果")
    if line.status == PaymentLine.Status.PENDING:
        return result
    # A line settled before (by hand, or by an earlier import of the same file) that says the same is left as it is.
    same = (line.status == PaymentLine.Status.PAID and result.paid and line.bank_reference == result.reference) or (
        line.status == PaymentLine.Status.FAILED and not result.paid
    )
    if not same:
        raise RowProblem(
            _("申请#%(id)d已登记为“%(s)s”,与回单不一致") % {"id": claim_id, "s": line.get_status_display()},
            "处理结果",
        )
    result.unchanged = True
    return result


def bank_return_import(*, actor: Actor, batch_id: int, upload, today: datetime.date | None = None) -> BankReturnReport:
    """The bank's return file for a batch: every line paid (with its reference) or failed (with the bank's reason).
    Each row must name a line of this batch with its account and amount; any bad row (an unknown line, a mismatch,
    a result without reference or reason) is reported by number and nothing is saved. Lines the file does not
    mention stay pending; the batch closes when none is left."""
    batch = batch_get(actor, batch_id)
    today = today or timezone.localdate()
    rows = read_rows(upload, RETURN_COLUMNS, allow_csv=True)
    report = BankReturnReport(total=len(rows))
    if not rows:
        report.errors.append(RowError(0, _("回单文件中没有数据行")))
        return report
    latest: dict[int, PaymentLine] = {}
    for line in batch.lines.order_by("id"):
        latest[line.claim_id] = line  # a claim failed and paid again in one batch: its last line answers
    checked = check_rows(
        rows,
        lambda record: _return_row(record, latest, today),
        report,
        key=lambda r: r.line.claim_id,
        duplicate=_("与第%(r)d行是同一笔支付"),
        duplicate_column="申请编号",
    )
    references: dict[str, int] = {}
    new = [(row, r) for row, r in checked if r.paid and not r.unchanged]
    taken = set(
        PaymentLine.objects.filter(bank_reference__in=[r.reference for _row, r in new]).values_list(
            "bank_reference", flat=True
        )
    )
    for row, result in new:
        if result.reference in taken:
            report.errors.append(
                RowError(row, _("银行流水号%(r)s已登记在另一笔支付上") % {"r": result.reference}, "银行流水号")
            )
        elif result.reference in references:
            report.errors.append(
                RowError(row, _("银行流水号与第%(r)d行重复") % {"r": references[result.reference]}, "银行流水号")
            )
        references.setdefault(result.reference, row)
    if report.errors:
        report.errors.sort(key=lambda e: e.row)
        return report

    def save() -> int:
        locked = PaymentBatch.objects.select_for_update().select_related("region").get(pk=batch.pk)
        settled = 0
        for row, result in checked:
            if result.unchanged:
                report.unchanged += 1
                continue
            line = PaymentLine.objects.select_for_update(of=("self",)).select_related("batch").get(pk=result.line.pk)
            if line.status != PaymentLine.Status.PENDING:  # settled by hand since the file was checked
                report.errors.append(RowError(row, _("该笔支付已由他人登记,请刷新后重新导入"), "申请编号"))
                continue
            try:
                with transaction.atomic():
                    if result.paid:
                        _settle_paid(actor, line, result.reference, result.paid_on)
                    else:
                        _settle_failed(actor, line, result.reason)
            except Conflict as exc:
                report.errors.append(RowError(row, exc.message, "银行流水号"))
                continue
            settled += 1
            report.paid += result.paid
            report.failed += not result.paid
        if report.errors:
            return 0
        _close_if_settled(locked, actor)
        report.pending = locked.lines.filter(status=PaymentLine.Status.PENDING).count()
        report.closed = report.pending == 0
        audit_record(
            actor=actor,
            action="subsidy_batch.bank_return",
            obj=locked,
            after={
                "rows": report.total,
                "paid": report.paid,
                "failed": report.failed,
                "unchanged": report.unchanged,
                "pending": report.pending,
            },
            region_code=locked.region.code,
        )
        return settled

    save_all_or_nothing(report, save)
    if not report.ok:
        report.paid = report.failed = report.unchanged = 0
    return report


def bank_return_template() -> bytes:
    return template_workbook(RETURN_COLUMNS, _("银行回单"))
