"""挂证 detection: a certificate lent to an employer that does not employ its holder.

Employers declare which certificates they rely on (CertificateReliance); the bureau imports social-insurance
employment records (参保记录). Two rules, each finding carrying its evidence (which declarations, which records):

- MULTIPLE_EMPLOYERS: the same certificate is declared by two employers for overlapping periods.
- NO_INSURANCE: during a declared period the employer paid no social insurance for the holder, in the months
  the imported data covers for that employer. Insurance is paid where the employer is registered, so the months
  checked are those covered by imports of a bureau whose jurisdiction contains the employer; months no import
  covers are never held against anyone.

A scan is idempotent: a new finding raises a flag, a finding that no longer holds (new data, a corrected
declaration) clears an open flag, and flags an officer has acted on are left alone. An officer turns a flag into
a case (oversight.reports) whose outcome can suspend or revoke the certificate and sanction the employer.
"""

import datetime
from dataclasses import dataclass, field
from itertools import combinations

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.identity import mask_id_number, normalise_credit_code, normalise_id_number
from accounts.models import Role
from accreditation.models import Organisation
from certificates.models import Certificate
from core.audit import audit_record
from core.errors import Conflict, NotFound, PlatformError, ValidationFailed
from core.spreadsheets import Column, ImportReport, RowError, read_rows
from occupations.models import Region

from .detections import reconcile
from .models import (
    CertificateReliance,
    Complaint,
    ComplaintKind,
    GuazhengFlag,
    InsuranceImport,
    InsuranceRecord,
)

INSURANCE_COLUMNS = [
    Column("id_number", "证件号码", example="220102199001011234"),
    Column("name", "姓名", example="张伟"),
    Column("credit_code", "参保单位统一社会信用代码", example="91220101MA0Y2K8X4A"),
    Column("employer_name", "参保单位名称", example="长春华信汽车零部件有限公司"),
    Column("start", "起始月份", example="2024-01"),
    # The header must be there; an empty cell means the person is still insured there at the extract's end.
    Column("end", "截止月份", example="2025-12"),
]

# --- Months ---------------------------------------------------------------------------------------------------


def month_index(day: datetime.date) -> int:
    return day.year * 12 + day.month - 1


def month_start(index: int) -> datetime.date:
    return datetime.date(index // 12, index % 12 + 1, 1)


def month_label(index: int) -> str:
    return f"{index // 12}-{index % 12 + 1:02d}"


def month_ranges(months: set[int]) -> list[list[str]]:
    """{2025-01, 2025-02, 2025-05} → [["2025-01", "2025-02"], ["2025-05", "2025-05"]]."""
    ranges: list[list[str]] = []
    run_start = prev = None
    for m in sorted(months):
        if prev is not None and m == prev + 1:
            prev = m
            continue
        if run_start is not None:
            ranges.append([month_label(run_start), month_label(prev)])
        run_start = prev = m
    if run_start is not None:
        ranges.append([month_label(run_start), month_label(prev)])
    return ranges


def parse_month(value) -> datetime.date:
    """A month cell: a date, or text such as 2025-03, 2025/3, 202503 or 2025年3月. Returns its first day."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.replace(day=1)
    text = str(value or "").strip().replace("年", "-").replace("月", "").replace("/", "-").replace(".", "-")
    if text.isdigit() and len(text) == 6:
        text = f"{text[:4]}-{text[4:]}"
    parts = text.split("-")
    try:
        year, month = int(parts[0]), int(parts[1])
        return datetime.date(year, month, 1)
    except (ValueError, IndexError):
        raise ValueError(_("月份“%(v)s”无法识别,应为 2025-03 格式") % {"v": value}) from None


# --- Reads, scoped --------------------------------------------------------------------------------------------


def reliances_for(actor: Actor) -> QuerySet[CertificateReliance]:
    """Declarations visible to the actor: an employer's admins their own, bureau staff their region's."""
    qs = CertificateReliance.objects.select_related("employer__region", "certificate__level")
    if actor.is_operator:
        return qs
    q = Q(employer_id__in=actor.organisation_ids(Role.ORG_ADMIN)) | Region.within_q(
        "employer__region", actor.bureau_prefixes
    )
    return qs.filter(q)


def flags_for(actor: Actor) -> QuerySet[GuazhengFlag]:
    """Suspicions are for the bureaus of the employers concerned only (either employer of a pair)."""
    qs = GuazhengFlag.objects.select_related(
        "certificate__level", "employer__region", "other_employer__region", "complaint"
    )
    if actor.is_operator:
        return qs
    prefixes = actor.bureau_prefixes
    return qs.filter(
        Region.within_q("employer__region", prefixes) | Region.within_q("other_employer__region", prefixes)
    )


def flag_get(actor: Actor, flag_id: int) -> GuazhengFlag:
    flag = flags_for(actor).filter(pk=flag_id).first()
    if flag is None:
        raise NotFound()
    return flag


def imports_for(actor: Actor) -> QuerySet[InsuranceImport]:
    qs = InsuranceImport.objects.select_related("region", "imported_by")
    if actor.is_operator:
        return qs
    return qs.filter(Region.within_q("region", actor.bureau_prefixes))


# --- Declarations (employers) -----------------------------------------------------------------------------------


def _reliance_state(r: CertificateReliance) -> dict:
    return {
        "employer": r.employer_id,
        "certificate": r.certificate.number,
        "purpose": r.purpose,
        "start": r.start,
        "end": r.end,
    }


@transaction.atomic
def reliance_declare(
    *,
    actor: Actor,
    employer_id: int,
    certificate_number: str,
    holder_name: str,
    purpose: str,
    start: datetime.date,
    end: datetime.date | None = None,
    purpose_note: str = "",
) -> CertificateReliance:
    """An employer's admin declares a certificate it relies on; the number and the holder's name must match."""
    actor.require_org_role(employer_id, Role.ORG_ADMIN)
    employer = Organisation.objects.select_related("region").get(pk=employer_id)
    number = (certificate_number or "").strip().upper()
    # Locked, so that two employers declaring the same certificate at once are scanned one after the other and
    # the second scan sees the first declaration (else neither would see a second employer).
    cert = Certificate.objects.select_for_update().filter(number=number).first()
    if cert is None or cert.holder_name != (holder_name or "").strip():
        raise ValidationFailed(_("证书编号与持证人姓名不匹配"), details={"field": "certificate_number"})
    if cert.status != Certificate.Status.VALID:
        raise Conflict(
            _("该证书状态为“%(s)s”,不能作为使用依据") % {"s": cert.get_status_display()},
            details={"field": "certificate_number"},
        )
    if purpose not in CertificateReliance.Purpose.values:
        raise ValidationFailed(_("请选择用途"), details={"field": "purpose"})
    if end is not None and end < start:
        raise ValidationFailed(_("截止日期不能早于起始日期"), details={"field": "end"})
    if CertificateReliance.objects.filter(employer=employer, certificate=cert, start=start).exists():
        raise Conflict(_("已申报过同一起始日期的使用记录"), details={"field": "start"})
    reliance = CertificateReliance(
        employer=employer,
        certificate=cert,
        purpose=purpose,
        purpose_note=(purpose_note or "").strip()[:255],
        start=start,
        end=end,
        declared_by=actor.user,
    )
    reliance.full_clean()
    reliance.save()
    audit_record(
        actor=actor,
        action="reliance.declare",
        obj=reliance,
        after=_reliance_state(reliance),
        region_code=employer.region.code,
        organisation_id=employer.id,
    )
    guazheng_scan_certificates(certificate_ids=[cert.id])
    return reliance


@transaction.atomic
def reliance_end(*, actor: Actor, reliance_id: int, end: datetime.date) -> CertificateReliance:
    """The employer stops relying on the certificate (or corrects the end date)."""
    reliance = (
        CertificateReliance.objects.select_for_update(of=("self",))
        .select_related("employer__region", "certificate")
        .filter(pk=reliance_id)
        .first()
    )
    if reliance is None:
        raise NotFound()
    actor.require_org_role(reliance.employer_id, Role.ORG_ADMIN)
    Certificate.objects.select_for_update().filter(pk=reliance.certificate_id).first()
    if end < reliance.start:
        raise ValidationFailed(_("截止日期不能早于起始日期"), details={"field": "end"})
    before = _reliance_state(reliance)
    reliance.end = end
    reliance.save(update_fields=["end"])
    audit_record(
        actor=actor,
        action="reliance.end",
        obj=reliance,
        before=before,
        after=_reliance_state(reliance),
        region_code=reliance.employer.region.code,
        organisation_id=reliance.employer_id,
    )
    guazheng_scan_certificates(certificate_ids=[reliance.certificate_id])
    return reliance


# --- Insurance records (bureau) ---------------------------------------------------------------------------------


@dataclass
class _Row:
    id_number: str
    name: str
    credit_code: str
    employer_name: str
    start: datetime.date
    end: datetime.date | None


def _check_row(record: dict, period_to: datetime.date) -> tuple[_Row | None, list[RowError]]:
    errors: list[RowError] = []

    def fail(column: str, reason: str) -> None:
        errors.append(RowError(0, reason, column))

    id_number = str(record.get("id_number") or "").strip().upper()
    try:
        id_number = normalise_id_number("ric", id_number)
    except PlatformError as exc:
        fail("证件号码", exc.message)
    name = str(record.get("name") or "").strip()
    if not name:
        fail("姓名", _("请填写姓名"))
    credit_code = str(record.get("credit_code") or "")
    try:
        credit_code = normalise_credit_code(credit_code)
    except PlatformError as exc:
        fail("参保单位统一社会信用代码", exc.message)
    employer_name = str(record.get("employer_name") or "").strip()
    if not employer_name:
        fail("参保单位名称", _("请填写参保单位名称"))
    start = end = None
    try:
        start = parse_month(record.get("start"))
    except ValueError as exc:
        fail("起始月份", str(exc))
    if record.get("end") not in (None, ""):
        try:
            end = parse_month(record.get("end"))
        except ValueError as exc:
            fail("截止月份", str(exc))
    if start and end and end < start:
        fail("截止月份", _("截止月份早于起始月份"))
    if start and start > period_to:
        fail("起始月份", _("起始月份晚于数据截止月份"))
    if errors:
        return None, errors
    return _Row(id_number, name[:64], credit_code, employer_name[:128], start, end), []


@transaction.atomic
def insurance_import(
    *,
    actor: Actor,
    upload,
    period_from: datetime.date,
    period_to: datetime.date,
    region_code: str = "",
) -> tuple[ImportReport, InsuranceImport | None]:
    """Import an extract of insurance records covering [period_from, period_to] (months). All rows or none.

    The scan for 挂证 runs after the import is committed (a task, in the background with a broker).
    """
    region = actor.bureau_region(region_code, field="region_code", prompt=_("请选择参保数据所属地区"))
    period_from, period_to = period_from.replace(day=1), period_to.replace(day=1)
    if period_to < period_from:
        raise ValidationFailed(_("数据截止月份不能早于起始月份"), details={"field": "period_to"})
    if period_to > timezone.localdate():
        raise ValidationFailed(_("数据截止月份不能晚于本月"), details={"field": "period_to"})
    rows = read_rows(upload, INSURANCE_COLUMNS)
    report = ImportReport(total=len(rows))
    if not rows:
        report.errors.append(RowError(0, _("表格中没有数据行")))
        return report, None
    checked: list[_Row] = []
    for row_number, record in rows:
        row, errors = _check_row(record, period_to)
        for e in errors:
            e.row = row_number
        report.errors.extend(errors)
        if row is not None:
            checked.append(row)
    if report.errors:
        return report, None
    batch = InsuranceImport.objects.create(
        region=region,
        filename=(getattr(upload, "name", "") or "")[:255],
        period_from=period_from,
        period_to=period_to,
        rows=len(checked),
        imported_by=actor.user,
    )
    InsuranceRecord.objects.bulk_create(
        [
            InsuranceRecord(
                batch=batch,
                id_number=r.id_number,
                name=r.name,
                employer_credit_code=r.credit_code,
                employer_name=r.employer_name,
                start_month=r.start,
                end_month=r.end,
            )
            for r in checked
        ],
        batch_size=1000,
    )
    report.created = len(checked)
    audit_record(
        actor=actor,
        action="insurance.import",
        obj=batch,
        after={"rows": len(checked), "period_from": period_from, "period_to": period_to, "region": region.code},
        region_code=region.code,
    )
    from .tasks_oversight import guazheng_scan_task

    transaction.on_commit(lambda: guazheng_scan_task.delay(region.code))
    return report, batch


# --- Detection --------------------------------------------------------------------------------------------------


@dataclass
class Finding:
    fingerprint: str
    rule: str
    reliance: CertificateReliance
    other_reliance: CertificateReliance | None
    period_start: datetime.date
    period_end: datetime.date
    evidence: dict = field(default_factory=dict)


@dataclass
class ScanReport:
    certificates: int = 0
    raised: int = 0
    reopened: int = 0
    updated: int = 0
    cleared: int = 0

    def as_dict(self) -> dict:
        return {
            "certificates": self.certificates,
            "raised": self.raised,
            "reopened": self.reopened,
            "updated": self.updated,
            "cleared": self.cleared,
        }


def _describe_reliance(r: CertificateReliance) -> dict:
    return {
        "id": r.id,
        "employer": r.employer.name,
        "credit_code": r.employer.credit_code,
        "purpose": r.get_purpose_display(),
        "start": r.start.isoformat(),
        "end": r.end.isoformat() if r.end else None,
    }


def _describe_record(rec: InsuranceRecord) -> dict:
    return {
        "id": rec.id,
        "batch": rec.batch_id,
        "employer": rec.employer_name,
        "credit_code": rec.employer_credit_code,
        "start": month_label(month_index(rec.start_month)),
        "end": month_label(month_index(rec.end_month)) if rec.end_month else None,
    }


def _record_months(rec: InsuranceRecord) -> set[int]:
    last = rec.end_month or rec.batch.period_to
    return set(range(month_index(rec.start_month), month_index(last) + 1))


class _Coverage:
    """Months the imported data covers for employers in a region: imports by bureaus whose area contains it."""

    def __init__(self) -> None:
        self._imports = list(InsuranceImport.objects.select_related("region"))
        self._cache: dict[str, set[int]] = {}

    def months_for(self, region: Region) -> set[int]:
        if region.code not in self._cache:
            months: set[int] = set()
            for imp in self._imports:
                if region.code.startswith(imp.region.prefix):
                    months |= set(range(month_index(imp.period_from), month_index(imp.period_to) + 1))
            self._cache[region.code] = months
        return self._cache[region.code]


def _certificate_findings(
    cert: Certificate,
    reliances: list[CertificateReliance],
    records: list[InsuranceRecord],
    coverage: _Coverage,
    today: datetime.date,
) -> list[Finding]:
    findings: list[Finding] = []
    holder = {"name": cert.holder_name, "id_number": mask_id_number(cert.id_number), "certificate": cert.number}
    insurance = [_describe_record(rec) for rec in records]
    for a, b in combinations(sorted(reliances, key=lambda r: r.id), 2):
        if a.employer_id == b.employer_id:
            continue
        start = max(a.start, b.start)
        end = min(a.end or datetime.date.max, b.end or datetime.date.max)
        if start > end:
            continue
        shown_end = end if end != datetime.date.max else max(today, start)
        summary = _("证书%(n)s(持证人%(h)s)自%(s)s起%(e)s同时被“%(a)s”和“%(b)s”申报使用。") % {
            "n": cert.number,
            "h": cert.holder_name,
            "s": start.isoformat(),
            "e": _("至%(d)s") % {"d": end.isoformat()} if end != datetime.date.max else _("至今"),
            "a": a.employer.name,
            "b": b.employer.name,
        }
        findings.append(
            Finding(
                fingerprint=f"multiple_employers:{a.id}:{b.id}",
                rule=GuazhengFlag.Rule.MULTIPLE_EMPLOYERS,
                reliance=a,
                other_reliance=b,
                period_start=start,
                period_end=shown_end,
                evidence={
                    "summary": summary,
                    "holder": holder,
                    "declarations": [_describe_reliance(a), _describe_reliance(b)],
                    "overlap": [start.isoformat(), end.isoformat() if end != datetime.date.max else None],
                    "insurance_records": insurance,
                },
            )
        )
    current = month_index(today)
    for r in reliances:
        last = min(r.end or today, today)
        if last < r.start:
            continue
        declared = set(range(month_index(r.start), min(month_index(last), current) + 1))
        checked = declared & coverage.months_for(r.employer.region)
        if not checked:
            continue  # no imported data covers the period: nothing can be said either way
        paid: set[int] = set()
        for rec in records:
            if rec.employer_credit_code == r.employer.credit_code:
                paid |= _record_months(rec)
        unpaid = checked - paid
        if not unpaid:
            continue
        ranges = month_ranges(unpaid)
        others = sorted({rec.employer_name for rec in records if rec.employer_credit_code != r.employer.credit_code})
        summary = _("“%(a)s”申报使用证书%(n)s(持证人%(h)s),但%(months)s未为持证人缴纳社会保险%(others)s。") % {
            "a": r.employer.name,
            "n": cert.number,
            "h": cert.holder_name,
            "months": "、".join(f"{x}至{y}" if x != y else x for x, y in ranges),
            "others": _(";同期参保单位:%(o)s") % {"o": "、".join(others)} if others else _(";未查到任何参保记录"),
        }
        last_unpaid = max(unpaid)
        findings.append(
            Finding(
                fingerprint=f"no_insurance:{r.id}",
                rule=GuazhengFlag.Rule.NO_INSURANCE,
                reliance=r,
                other_reliance=None,
                period_start=month_start(min(unpaid)),
                period_end=month_start(last_unpaid + 1) - datetime.timedelta(days=1),
                evidence={
                    "summary": summary,
                    "holder": holder,
                    "declarations": [_describe_reliance(r)],
                    "checked_months": month_ranges(checked),
                    "unpaid_months": ranges,
                    "insurance_records": insurance,
                },
            )
        )
    return findings


def _flag_state(flag: GuazhengFlag) -> dict:
    return {"status": flag.status, "period": [flag.period_start, flag.period_end], "rule": flag.rule}


def _flag_audit(actor: Actor, flag: GuazhengFlag, action: str, before: dict | None, reason: str = "") -> None:
    audit_record(
        actor=actor,
        action=f"guazheng.{action}",
        obj=flag,
        before=before,
        after={**_flag_state(flag), "certificate": flag.certificate.number, "summary": flag.evidence.get("summary")},
        reason=reason,
        region_code=flag.employer.region.code,
    )


def _apply_findings(certificate_ids: list[int], findings: list[Finding], report: ScanReport) -> None:
    system = Actor.platform()
    existing = {
        f.fingerprint: f
        for f in GuazhengFlag.objects.select_for_update(of=("self",))
        .select_related("certificate", "employer__region")
        .filter(certificate_id__in=certificate_ids)
    }
    reconcile(
        existing=existing,
        detections=findings,
        status=GuazhengFlag.Status,
        new_row=lambda finding, fields: GuazhengFlag(
            fingerprint=finding.fingerprint,
            rule=finding.rule,
            certificate=finding.reliance.certificate,
            employer=finding.reliance.employer,
            other_employer=finding.other_reliance.employer if finding.other_reliance else None,
            reliance=finding.reliance,
            other_reliance=finding.other_reliance,
            **fields,
        ),
        values=lambda finding: {
            "period_start": finding.period_start,
            "period_end": finding.period_end,
            "evidence": finding.evidence,
        },
        audit=lambda flag, action, before, reason="": _flag_audit(system, flag, action, before, reason=reason),
        state=_flag_state,
        report=report,
        clear_reason=_("按最新申报与参保数据不再成立"),
        action_prefix="flag_",
    )


@transaction.atomic
def guazheng_scan_certificates(*, certificate_ids: list[int], today: datetime.date | None = None) -> ScanReport:
    """Re-evaluate both rules for these certificates against every declaration and record that concerns them."""
    today = today or timezone.localdate()
    report = ScanReport(certificates=len(set(certificate_ids)))
    if not certificate_ids:
        return report
    # One scan per certificate at a time (declarations lock the same rows), always in id order: no deadlocks.
    certs = {
        c.id: c for c in Certificate.objects.select_for_update().filter(pk__in=set(certificate_ids)).order_by("pk")
    }
    coverage = _Coverage()
    by_cert: dict[int, list[CertificateReliance]] = {}
    for r in CertificateReliance.objects.select_related("employer__region", "certificate").filter(
        certificate_id__in=certs
    ):
        by_cert.setdefault(r.certificate_id, []).append(r)
    id_numbers = {c.id_number for c in certs.values()}
    records: dict[str, list[InsuranceRecord]] = {}
    for rec in (
        InsuranceRecord.objects.select_related("batch").filter(id_number__in=id_numbers).order_by("start_month", "id")
    ):
        records.setdefault(rec.id_number, []).append(rec)
    findings: list[Finding] = []
    for cert_id, cert in certs.items():
        findings += _certificate_findings(
            cert, by_cert.get(cert_id, []), records.get(cert.id_number, []), coverage, today
        )
    _apply_findings(list(certs), findings, report)
    return report


def guazheng_scan(*, actor: Actor, region_code: str = "", today: datetime.date | None = None) -> ScanReport:
    """Scan every certificate relied on by employers in the region (the actor's whole jurisdiction if none)."""
    if actor.system:
        prefixes = [Region.objects.get(code=region_code).prefix] if region_code else [""]
    else:
        actor.require_bureau()
        if region_code:
            prefixes = [actor.bureau_region(region_code).prefix]
        else:
            prefixes = [""] if actor.is_operator else actor.bureau_prefixes
    ids = sorted(
        set(
            CertificateReliance.objects.filter(Region.within_q("employer__region", prefixes)).values_list(
                "certificate_id", flat=True
            )
        )
    )
    total = ScanReport()
    for start in range(0, len(ids), 200):  # one transaction per chunk: a big region never holds locks for long
        part = guazheng_scan_certificates(certificate_ids=ids[start : start + 200], today=today)
        for key, value in part.as_dict().items():
            setattr(total, key, getattr(total, key) + value)
    return total


# --- Acting on flags --------------------------------------------------------------------------------------------


def _flag_for_update(actor: Actor, flag_id: int) -> GuazhengFlag:
    actor.require_authenticated()
    flag = (
        GuazhengFlag.objects.select_for_update(of=("self",))
        .select_related("certificate", "employer__region", "other_employer__region")
        .filter(pk=flag_id)
        .first()
    )
    if flag is None:
        raise NotFound()
    regions = [flag.employer.region] + ([flag.other_employer.region] if flag.other_employer_id else [])
    if not (actor.is_operator or any(actor.oversees_region(r) for r in regions)):
        raise NotFound()
    return flag


@transaction.atomic
def flag_investigate(*, actor: Actor, flag_id: int) -> Complaint:
    """Open a case on the flag, for the bureau of the employer the actor oversees, assigned to the actor."""
    from .reports import open_case_for_detection

    flag = _flag_for_update(actor, flag_id)
    if flag.status != GuazhengFlag.Status.OPEN:
        raise Conflict(_("疑点当前状态为“%(s)s”,不能立案") % {"s": flag.get_status_display()})
    employer = flag.employer
    if not (actor.is_operator or actor.oversees_region(employer.region)):
        employer = flag.other_employer
    before = _flag_state(flag)
    complaint = open_case_for_detection(
        actor=actor,
        kind=ComplaintKind.GUAZHENG,
        region=employer.region,
        description=_("【挂证比对】%(rule)s。%(summary)s")
        % {"rule": flag.get_rule_display(), "summary": flag.evidence.get("summary", "")},
        certificate=flag.certificate,
        organisation=employer,
    )
    flag.status = GuazhengFlag.Status.INVESTIGATING
    flag.complaint = complaint
    flag.save(update_fields=["status", "complaint", "updated_at"])
    _flag_audit(actor, flag, "flag_investigate", before)
    return complaint


@transaction.atomic
def flag_dismiss(*, actor: Actor, flag_id: int, reason: str) -> GuazhengFlag:
    """The officer checked and found an explanation (e.g. 劳务派遣, a group company's shared payroll)."""
    flag = _flag_for_update(actor, flag_id)
    if flag.status != GuazhengFlag.Status.OPEN:
        raise Conflict(_("疑点当前状态为“%(s)s”,不能排除") % {"s": flag.get_status_display()})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写排除理由"), details={"field": "reason"})
    before = _flag_state(flag)
    flag.status, flag.resolution = GuazhengFlag.Status.DISMISSED, reason
    flag.save(update_fields=["status", "resolution", "updated_at"])
    _flag_audit(actor, flag, "flag_dismiss", before, reason=reason)
    return flag


def flag_case_closed(*, actor: Actor, flag: GuazhengFlag, complaint: Complaint) -> None:
    """Called by complaint_close inside its transaction: the flag takes the case's outcome."""
    flag = (
        GuazhengFlag.objects.select_for_update(of=("self",))
        .select_related("certificate", "employer__region")
        .get(pk=flag.pk)
    )
    before = _flag_state(flag)
    confirmed = complaint.outcome in (Complaint.Outcome.SUBSTANTIATED, Complaint.Outcome.PARTLY)
    flag.status = GuazhengFlag.Status.CONFIRMED if confirmed else GuazhengFlag.Status.DISMISSED
    flag.resolution = complaint.finding
    flag.save(update_fields=["status", "resolution", "updated_at"])
    _flag_audit(actor, flag, "flag_case_closed", before, reason=complaint.number or "")
