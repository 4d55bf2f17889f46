"""Writes for claims: submitting (by the worker, or by an employer in bulk), the bureau's review, second review,
publicity with objections, approval or rejection. Payments are in payments.py, imported records in records.py.

Every function is atomic, checks who may act through `claims_for` (another region's claim is a 404), decides
eligibility through eligibility.assess and nothing else, records the decision with the policy version it used,
and writes the audit log.

No double payment: a claim is created, and approved, only while holding a row lock on the person, and it is
re-assessed under that lock; the database backs this with partial unique indexes (one live claim per
certificate and per person × occupation × level) and a check that the second reviewer is another officer.
"""

import datetime
import re

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.identity import id_type_from_label, mask_account, normalise_id_number
from accounts.models import Person, Role, User
from accreditation.models import Organisation
from certificates.models import Certificate
from core.audit import audit_record
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.notifications import notify
from core.ratelimit import check_rate, rate_blocked
from core.spreadsheets import (
    Column,
    ImportReport,
    RowError,
    RowProblem,
    cell_text,
    check_rows,
    read_rows,
    save_all_or_nothing,
    template_workbook,
)
from occupations.models import Occupation, Region
from occupations.workdays import WorkCalendar

from .budgets import budget_after_approval, budget_check_for_approval
from .eligibility import Decision, PolicyBook, assess
from .models import Claim, ClaimDecision, Objection, SubsidyPolicy
from .selectors import claims_for, publicity_list, require_bureau_for

ACCOUNT_RE = re.compile(r"[0-9]{12,30}")
MAX_TEXT = 2000
CLAIM_FIELDS = ("certificate", "person", "occupation", "level", "region")
# Foreign keys are resolved before a claim is built; full_clean would otherwise query each one again.
_RELATIONS = [
    "certificate",
    "person",
    "occupation",
    "level",
    "region",
    "policy",
    "filed_by",
    "filed_by_organisation",
    "reviewed_by",
    "second_reviewed_by",
    "decided_by",
]


def _today(today: datetime.date | None) -> datetime.date:
    return today or timezone.localdate()


# --- Input ---------------------------------------------------------------------------------------------------


def normalise_account(kind: str, number: str) -> tuple[str, str]:
    """(account kind, digits): a bank card or the financial account of a social security card, 12–30 digits."""
    if kind not in Claim.AccountKind.values:
        raise ValidationFailed(_("请选择账户类型(银行卡或社会保障卡)"), details={"field": "account_kind"})
    digits = re.sub(r"[\s-]", "", number or "")
    if not ACCOUNT_RE.fullmatch(digits):
        raise ValidationFailed(_("账号应为12—30位数字"), details={"field": "account_number"})
    return kind, digits


def _category(value: str) -> str:
    if value not in Claim.Category.values:
        raise ValidationFailed(_("请选择人员类别"), details={"field": "category"})
    return value


def _months(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        months = int(str(value).strip())
    except ValueError:
        raise ValidationFailed(_("缴费月数应为整数"), details={"field": "insurance_months"}) from None
    if not 0 <= months <= 600:
        raise ValidationFailed(_("缴费月数应在0—600之间"), details={"field": "insurance_months"})
    return months


def _military_months(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        months = int(str(value).strip())
    except ValueError:
        raise ValidationFailed(_("服役月数应为整数"), details={"field": "military_months"}) from None
    if not 0 <= months <= 600:
        raise ValidationFailed(_("服役月数应在0—600之间"), details={"field": "military_months"})
    return months or None


def transfer_region(code: str, claim_region_: Region) -> Region | None:
    """The insured region a worker moved in from (another city or province), or None."""
    code = (code or "").strip()
    if not code:
        return None
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise ValidationFailed(_("转入前参保地区代码无效"), details={"field": "transferred_from"})
    if claim_region_.code.startswith(region.prefix) or region.code.startswith(claim_region_.prefix):
        raise ValidationFailed(_("转入前参保地应为受理地区以外的地区"), details={"field": "transferred_from"})
    return region


def claim_region(certificate: Certificate, region_code: str = "") -> Region:
    """The certificate's region, or the worker's 参保地 in the same province."""
    code = (region_code or "").strip() or certificate.region_code
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise ValidationFailed(_("参保地区代码无效,请从列表中选择"), details={"field": "region_code"})
    province = Region.objects.filter(code=claim_province(certificate)).first()
    if province is None or not province.contains(region):
        raise ValidationFailed(
            _("参保地须与发证地在同一省份(跨省申领请向参保地人社部门咨询)"), details={"field": "region_code"}
        )
    return region


def claim_province(certificate: Certificate) -> str:
    """The province (its code) within which a worker may choose the region of a claim from this certificate."""
    return f"{certificate.region_code[:2]}0000"


def _new_claim(
    *,
    certificate: Certificate,
    region: Region,
    category: str,
    insurance_months: int | None,
    account_kind: str = Claim.AccountKind.BANK_CARD,
    account_number: str = "",
    bank_name: str = "",
    claimed_on: datetime.date,
    filed_by=None,
    organisation: Organisation | None = None,
    military_months: int | None = None,
    transferred_from: Region | None = None,
    declares_not_paid_elsewhere: bool = False,
    job_occupation: Occupation | None = None,
) -> Claim:
    return Claim(
        military_months_declared=military_months,
        transferred_from=transferred_from,
        declares_not_paid_elsewhere=bool(transferred_from) and declares_not_paid_elsewhere,
        job_occupation=job_occupation,
        certificate=certificate,
        person_id=certificate.person_id,
        occupation_id=certificate.occupation_id,
        level_id=certificate.level_id,
        region=region,
        category=category,
        insurance_months_declared=insurance_months,
        account_kind=account_kind,
        account_number=account_number,
        bank_name=(bank_name or "").strip()[:64],
        claimed_on=claimed_on,
        filed_by=filed_by,
        filed_by_organisation=organisation,
    )


# --- Shared steps --------------------------------------------------------------------------------------------


def _lock_people(person_ids) -> None:
    """Row locks on the people, in id order (no deadlocks): their claims are counted and changed one at a time."""
    list(Person.objects.select_for_update().filter(pk__in=set(person_ids)).order_by("pk").values_list("pk", flat=True))


def _not_eligible(decision: Decision) -> Conflict:
    return Conflict(
        _("不符合补贴条件:%(why)s") % {"why": decision.summary},
        code="not_eligible",
        details={"assessment": decision.as_dict()},
    )


def _apply(claim: Claim, decision: Decision) -> None:
    """Keep the latest decision on the claim: policy version, amount, shortage flag and the explanation."""
    claim.policy = decision.policy
    claim.is_shortage = decision.shortage
    claim.amount = decision.calculation.amount if decision.calculation is not None else None
    claim.assessment = decision.as_dict()


def _record(
    claim: Claim, step: str, outcome: str, actor: Actor, *, reason: str = "", decision: Decision | None = None
) -> ClaimDecision:
    return ClaimDecision.objects.create(
        claim=claim,
        step=step,
        outcome=outcome,
        actor=actor.user,
        actor_label=actor.label[:64],
        reason=reason,
        policy=decision.policy if decision else claim.policy,
        amount=decision.calculation.amount if decision and decision.calculation else claim.amount,
        assessment=decision.as_dict() if decision else {},
    )


def _audit(
    actor: Actor, claim: Claim, action: str, *, before: dict | None = None, after: dict | None = None, reason=""
):
    audit_record(
        actor=actor,
        action=f"subsidy_claim.{action}",
        obj=claim,
        before=before,
        after=after,
        reason=reason,
        region_code=claim.region.code,
        organisation_id=claim.filed_by_organisation_id,
    )


def _state(claim: Claim) -> dict:
    return {
        "status": claim.status,
        "policy": claim.policy_id,
        "amount": str(claim.amount) if claim.amount is not None else None,
        "due_on": claim.due_on.isoformat() if claim.due_on else None,
    }


def _set_due(claim: Claim, calendar: WorkCalendar, start: datetime.date, working_days: int) -> None:
    deadline = calendar.add_working_days(start, working_days)
    claim.due_on, claim.due_provisional, claim.due_note = (
        deadline.date,
        deadline.provisional,
        deadline.explanation[:128],
    )


def _clear_due(claim: Claim) -> None:
    claim.due_on, claim.due_provisional, claim.due_note = None, False, ""


def _reason(reason: str, message: str | None = None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(message or _("请填写理由"), details={"field": "reason"})
    if len(reason) > MAX_TEXT:
        raise ValidationFailed(_("理由不能超过%(n)d字") % {"n": MAX_TEXT}, details={"field": "reason"})
    return reason


def _claimant_users(claim: Claim) -> list[User]:
    users = list(User.objects.filter(person_id=claim.person_id))
    if claim.filed_by_id and all(u.id != claim.filed_by_id for u in users):
        users.append(claim.filed_by)
    return users


def _tell_claimant(claim: Claim, title: str, body: str = "") -> None:
    notify(users=_claimant_users(claim), title=title, body=body, link=f"/subsidies/claims/{claim.id}/")
    if claim.intake_channel_id:
        from .intake.services import channel_notice

        channel_notice(claim, title, body)


def _save_new(claim: Claim) -> None:
    claim.full_clean(exclude=_RELATIONS, validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            claim.save()
    except IntegrityError:
        # The partial unique indexes caught a claim the checks could not see (only possible without the lock).
        raise Conflict(_("该证书或同一职业同一等级已有在办的补贴申请"), code="duplicate_claim") from None


def _officer_claim(actor: Actor, claim_id: int) -> Claim:
    """The claim, locked (person first, then claim), for an officer of its region; NotFound outside scope."""
    actor.require_authenticated()
    visible = claims_for(actor).filter(pk=claim_id).values_list("person_id", flat=True).first()
    if visible is None:
        raise NotFound()
    _lock_people([visible])
    claim = Claim.objects.select_for_update(of=("self",)).select_related(*CLAIM_FIELDS).get(pk=claim_id)
    require_bureau_for(actor, claim)
    if actor.user is None:
        raise PermissionDenied(_("审核须由工作人员本人登录办理"))
    return claim


def _owner_claim(actor: Actor, claim_id: int) -> Claim:
    """The claim, locked, for its claimant or the employer that filed it."""
    actor.require_authenticated()
    claim = claims_for(actor).filter(pk=claim_id).first()
    if claim is None:
        raise NotFound()
    is_claimant = actor.person is not None and actor.person.id == claim.person_id
    is_filer = claim.filed_by_organisation_id in actor.organisation_ids(Role.ORG_ADMIN)
    if not (is_claimant or is_filer):
        raise PermissionDenied(_("只有申请人或代为申请的单位可以操作"))
    _lock_people([claim.person_id])
    return Claim.objects.select_for_update(of=("self",)).select_related(*CLAIM_FIELDS).get(pk=claim_id)


def _require_status(claim: Claim, *allowed: str) -> None:
    if claim.status not in allowed:
        raise Conflict(
            _("申请当前状态为“%(s)s”,不能执行此操作") % {"s": claim.get_status_display()},
            details={"status": claim.status},
        )


def _reassess(claim: Claim, today: datetime.date) -> Decision:
    return assess([claim], today=today)[0]


# --- Claiming ------------------------------------------------------------------------------------------------


def _own_certificate(actor: Actor, certificate_id: int) -> Certificate:
    actor.require_authenticated()
    if actor.person is None and actor.user is not None:
        actor.require_person()  # an account not bound by proof: say how to bind
    if actor.person is None:
        raise PermissionDenied(_("只有证书持有人本人可以申请;用人单位请使用批量代为申请"))
    cert = (
        Certificate.objects.select_related("level", "occupation").filter(pk=certificate_id, person=actor.person).first()
    )
    if cert is None:
        raise NotFound()
    return cert


def claim_preview(
    *,
    actor: Actor,
    certificate_id: int,
    category: str = Claim.Category.EMPLOYEE,
    insurance_months=None,
    region_code: str = "",
    military_months=None,
    transferred_from: str = "",
    declares_not_paid_elsewhere: bool = False,
    today: datetime.date | None = None,
) -> tuple[Claim, Decision]:
    """What the claim would be and whether it would succeed, before the worker submits it."""
    cert = _own_certificate(actor, certificate_id)
    today = _today(today)
    region = claim_region(cert, region_code)
    claim = _new_claim(
        certificate=cert,
        region=region,
        category=category if category in Claim.Category.values else Claim.Category.EMPLOYEE,
        insurance_months=_months(insurance_months),
        claimed_on=today,
        military_months=_military_months(military_months),
        transferred_from=transfer_region(transferred_from, region),
        declares_not_paid_elsewhere=declares_not_paid_elsewhere,
    )
    return claim, assess([claim], today=today)[0]


@transaction.atomic
def claim_submit(
    *,
    actor: Actor,
    certificate_id: int,
    category: str,
    account_kind: str,
    account_number: str,
    bank_name: str = "",
    insurance_months=None,
    region_code: str = "",
    military_months=None,
    transferred_from: str = "",
    declares_not_paid_elsewhere: bool = False,
    today: datetime.date | None = None,
) -> Claim:
    """The holder claims the subsidy their certificate earns; refused, with the explanation, when not eligible."""
    cert = _own_certificate(actor, certificate_id)
    today = _today(today)
    kind, number = normalise_account(account_kind, account_number)
    region = claim_region(cert, region_code)
    claim = _new_claim(
        certificate=cert,
        region=region,
        military_months=_military_months(military_months),
        transferred_from=transfer_region(transferred_from, region),
        declares_not_paid_elsewhere=declares_not_paid_elsewhere,
        category=_category(category),
        insurance_months=_months(insurance_months),
        account_kind=kind,
        account_number=number,
        bank_name=bank_name,
        claimed_on=today,
        filed_by=actor.user,
    )
    _lock_people([cert.person_id])
    decision = _reassess(claim, today)
    if not decision.eligible:
        raise _not_eligible(decision)
    _apply(claim, decision)
    _set_due(claim, WorkCalendar(), today, decision.policy.review_working_days)
    _save_new(claim)
    _record(claim, ClaimDecision.Step.SUBMIT, "submitted", actor, decision=decision)
    _audit(actor, claim, "submit", after={**_state(claim), "certificate": cert.number, "account": claim.masked_account})
    return claim


# --- Employer bulk claims ------------------------------------------------------------------------------------

BULK_COLUMNS = [
    Column("number", "证书编号", example="S000022000102263000001"),
    Column("name", "姓名", example="张伟"),
    Column("id_type", "证件类型", required=False, example="居民身份证"),
    Column("id_number", "证件号码", example="220102199501012238"),
    Column("category", "人员类别", required=False, example="企业职工"),
    Column("insurance_months", "失业保险缴费月数", required=False, example="24"),
    Column("account_kind", "账户类型", required=False, example="银行卡"),
    Column("account_number", "账号", example="6222020200001234567"),
    Column("bank_name", "开户银行", required=False, example="中国工商银行长春分行"),
    Column("region_code", "参保地区代码", required=False, example=""),
    Column("job_occupation", "岗位职业编码", required=False, example="6-31-01-03"),
]
_CATEGORY_WORDS = {
    "": Claim.Category.EMPLOYEE,
    "职工": Claim.Category.EMPLOYEE,
    "企业职工": Claim.Category.EMPLOYEE,
    "在职职工": Claim.Category.EMPLOYEE,
    "失业人员": Claim.Category.UNEMPLOYED,
    "领取失业保险金": Claim.Category.UNEMPLOYED,
    "灵活就业": Claim.Category.FLEXIBLE,
    "学生": Claim.Category.STUDENT,
    "在校学生": Claim.Category.STUDENT,
    "事业单位": Claim.Category.PUBLIC_INSTITUTION,
    "机关事业单位": Claim.Category.PUBLIC_INSTITUTION,
    **{str(label): value for value, label in Claim.Category.choices},
    **{value: value for value in Claim.Category.values},
}
_ACCOUNT_WORDS = {
    "": Claim.AccountKind.BANK_CARD,
    "银行卡": Claim.AccountKind.BANK_CARD,
    "社保卡": Claim.AccountKind.SOCIAL_SECURITY_CARD,
    "社会保障卡": Claim.AccountKind.SOCIAL_SECURITY_CARD,
    **{str(label): value for value, label in Claim.AccountKind.choices},
    **{value: value for value in Claim.AccountKind.values},
}


def bulk_template() -> bytes:
    return template_workbook(BULK_COLUMNS, _("技能提升补贴代为申请"))


def _bulk_row(record: dict, certificates: dict[str, Certificate], *, organisation, user, today) -> Claim:
    number = cell_text(record.get("number")).upper()
    cert = certificates.get(number)
    if cert is None:
        raise RowProblem(_("证书编号%(n)s不存在") % {"n": number or "—"}, "证书编号")
    try:
        id_type = id_type_from_label(record.get("id_type"))
        id_number = normalise_id_number(id_type, cell_text(record.get("id_number")))
    except ValidationFailed as exc:
        raise RowProblem(exc.message, "证件号码") from None
    # The number, the holder's name and ID number must all match: an employer cannot claim a stranger's subsidy.
    if id_number != cert.person.id_number or cell_text(record.get("name")) != cert.person.name:
        raise RowProblem(_("姓名或证件号码与证书持有人不一致"), "证件号码")
    category = _CATEGORY_WORDS.get(cell_text(record.get("category")))
    if category is None:
        raise RowProblem(_("人员类别“%(v)s”无法识别") % {"v": cell_text(record.get("category"))}, "人员类别")
    account_kind = _ACCOUNT_WORDS.get(cell_text(record.get("account_kind")))
    if account_kind is None:
        raise RowProblem(_("账户类型应为“银行卡”或“社保卡”"), "账户类型")
    try:
        months = _months(cell_text(record.get("insurance_months")))
        kind, account = normalise_account(account_kind, cell_text(record.get("account_number")))
        region = claim_region(cert, cell_text(record.get("region_code")))
    except ValidationFailed as exc:
        column = {"insurance_months": "失业保险缴费月数", "region_code": "参保地区代码"}.get(
            exc.details.get("field", ""), "账号"
        )
        raise RowProblem(exc.message, column) from None
    job_code = cell_text(record.get("job_occupation"))
    job = None
    if job_code:
        job = Occupation.objects.filter(code=job_code).first()
        if job is None:
            raise RowProblem(_("岗位职业编码%(c)s不在职业分类大典中") % {"c": job_code}, "岗位职业编码")
    return _new_claim(
        job_occupation=job,
        certificate=cert,
        region=region,
        category=category,
        insurance_months=months,
        account_kind=kind,
        account_number=account,
        bank_name=cell_text(record.get("bank_name")),
        claimed_on=today,
        filed_by=user,
        organisation=organisation,
    )


def _bulk_check(claims: list[tuple[int, Claim]], report: ImportReport, today, book: PolicyBook) -> list[Decision]:
    """Eligibility for every row in one call; each ineligible row becomes a row error with the reasons."""
    decisions = assess([c for _n, c in claims], today=today, book=book)
    for (row, _claim), decision in zip(claims, decisions, strict=True):
        if not decision.eligible:
            report.errors.append(RowError(row, _("不符合补贴条件:%(w)s") % {"w": decision.summary}))
    return decisions


def claims_bulk_submit(
    *, actor: Actor, organisation_id: int, upload, today: datetime.date | None = None
) -> ImportReport:
    """An employer (用人单位) claims for its staff from a spreadsheet. Every row is checked first; if any row is
    wrong, each is reported with its row number and reason, and nothing is saved."""
    actor.require_org_role(organisation_id, Role.ORG_ADMIN)
    organisation = Organisation.objects.get(pk=organisation_id)
    if organisation.kind != Organisation.Kind.EMPLOYER:
        raise PermissionDenied(_("只有用人单位可以为本单位职工代为申请"))
    today = _today(today)
    rows = read_rows(upload, BULK_COLUMNS)
    report = ImportReport(total=len(rows))
    if not rows:
        report.errors.append(RowError(0, _("表格中没有数据行")))
        return report
    numbers = {cell_text(r.get("number")).upper() for _n, r in rows}
    certificates = {
        c.number: c
        for c in Certificate.objects.filter(number__in=numbers).select_related("person", "level", "occupation")
    }
    parsed = check_rows(
        rows,
        lambda record: _bulk_row(record, certificates, organisation=organisation, user=actor.user, today=today),
        report,
        key=lambda claim: (claim.person_id, claim.occupation_id, claim.level_id),
        duplicate=_("与第%(r)d行是同一人同一职业等级"),
        duplicate_column="证书编号",
    )
    book = PolicyBook.load()
    _bulk_check(parsed, report, today, book)
    if report.errors:
        report.errors.sort(key=lambda e: e.row)
        return report
    calendar = WorkCalendar()

    def save() -> int:
        _lock_people(c.person_id for _n, c in parsed)
        # Checked again under the locks: another claim may have been made since the first check.
        decisions = _bulk_check(parsed, report, today, book)
        if report.errors:
            return 0
        for (row, claim), decision in zip(parsed, decisions, strict=True):
            _apply(claim, decision)
            _set_due(claim, calendar, today, decision.policy.review_working_days)
            try:
                _save_new(claim)
            except Conflict as exc:
                report.errors.append(RowError(row, exc.message, "证书编号"))
        if report.errors:
            return 0
        ClaimDecision.objects.bulk_create(
            ClaimDecision(
                claim=claim,
                step=ClaimDecision.Step.SUBMIT,
                outcome="submitted",
                actor=actor.user,
                actor_label=actor.label[:64],
                reason=_("%(org)s代为申请") % {"org": organisation.name},
                policy=decision.policy,
                amount=claim.amount,
                assessment=decision.as_dict(),
            )
            for (_row, claim), decision in zip(parsed, decisions, strict=True)
        )
        audit_record(
            actor=actor,
            action="subsidy_claim.bulk_submit",
            object_type="subsidies.claim",
            after={
                "claims": [c.id for _n, c in parsed],
                "certificates": [c.certificate.number for _n, c in parsed],
            },
            region_code=organisation.region.code,
            organisation_id=organisation.id,
        )
        for _row, claim in parsed:
            users = list(User.objects.filter(person_id=claim.person_id))
            notify(
                users=users,
                title=_("单位已为您申请技能提升补贴"),
                body=_("%(org)s已为您申请%(occ)s %(lv)s的技能提升补贴。")
                % {"org": organisation.name, "occ": claim.certificate.occupation_name, "lv": claim.level.label},
                link=f"/subsidies/claims/{claim.id}/",
            )
        return len(parsed)

    save_all_or_nothing(report, save)
    return report


# --- The claimant's own changes ------------------------------------------------------------------------------


@transaction.atomic
def claim_update_account(
    *, actor: Actor, claim_id: int, account_kind: str, account_number: str, bank_name: str = ""
) -> Claim:
    """Correct the account, e.g. after the bank returned a payment; not while a payment is with the bank."""
    claim = _owner_claim(actor, claim_id)
    _require_status(claim, *Claim.IN_REVIEW, Claim.Status.APPROVED)
    kind, number = normalise_account(account_kind, account_number)
    before = {"account_kind": claim.account_kind, "account": claim.masked_account, "bank_name": claim.bank_name}
    claim.account_kind, claim.account_number, claim.bank_name = kind, number, (bank_name or "").strip()[:64]
    claim.save(update_fields=["account_kind", "account_number", "bank_name", "updated_at"])
    _audit(
        actor,
        claim,
        "update_account",
        before=before,
        after={"account_kind": kind, "account": mask_account(number), "bank_name": claim.bank_name},
    )
    return claim


@transaction.atomic
def claim_withdraw(*, actor: Actor, claim_id: int, reason: str = "") -> Claim:
    claim = _owner_claim(actor, claim_id)
    _require_status(claim, *Claim.IN_REVIEW)
    before = _state(claim)
    claim.status = Claim.Status.WITHDRAWN
    claim.decision_reason = (reason or "").strip()[:MAX_TEXT]
    _clear_due(claim)
    claim.save()
    _record(claim, ClaimDecision.Step.WITHDRAW, "withdrawn", actor, reason=claim.decision_reason)
    _audit(actor, claim, "withdraw", before=before, after=_state(claim), reason=claim.decision_reason)
    return claim


# --- The bureau: 核定, 复核, 公示, 审批 -----------------------------------------------------------------------


def _reject(actor: Actor, claim: Claim, step: str, reason: str, today: datetime.date, decision: Decision | None):
    before = _state(claim)
    claim.status = Claim.Status.REJECTED
    claim.decided_by, claim.decided_on, claim.decision_reason = actor.user, today, reason
    if decision is not None:
        _apply(claim, decision)
    _clear_due(claim)
    claim.save()
    _record(claim, step, "reject", actor, reason=reason, decision=decision)
    _audit(actor, claim, "reject", before=before, after=_state(claim), reason=reason)
    _tell_claimant(claim, _("技能提升补贴申请未获通过"), reason)
    return claim


@transaction.atomic
def claim_review(
    *, actor: Actor, claim_id: int, decision: str, reason: str = "", today: datetime.date | None = None
) -> Claim:
    """核定: the first officer checks the claim (pass) or refuses it with a reason (reject)."""
    claim = _officer_claim(actor, claim_id)
    _require_status(claim, Claim.Status.SUBMITTED)
    today = _today(today)
    result = _reassess(claim, today)
    if decision == "reject":
        claim.reviewed_by, claim.reviewed_at = actor.user, timezone.now()
        return _reject(actor, claim, ClaimDecision.Step.REVIEW, _reason(reason), today, result)
    if decision != "pass":
        raise ValidationFailed(_("核定结论应为通过或不通过"), details={"field": "decision"})
    if not result.eligible:
        raise _not_eligible(result)
    before = _state(claim)
    _apply(claim, result)
    claim.status = Claim.Status.REVIEWED
    claim.reviewed_by, claim.reviewed_at = actor.user, timezone.now()
    _set_due(claim, WorkCalendar(), today, result.policy.review_working_days)
    claim.save()
    _record(claim, ClaimDecision.Step.REVIEW, "pass", actor, reason=(reason or "").strip(), decision=result)
    _audit(actor, claim, "review", before=before, after=_state(claim), reason=(reason or "").strip())
    return claim


@transaction.atomic
def claim_second_review(
    *, actor: Actor, claim_id: int, decision: str, reason: str = "", today: datetime.date | None = None
) -> Claim:
    """复核 by another officer: pass opens publicity for the policy's working days; return sends it back to 核定."""
    claim = _officer_claim(actor, claim_id)
    _require_status(claim, Claim.Status.REVIEWED)
    if claim.reviewed_by_id == actor.user.id:
        raise PermissionDenied(_("复核须由核定人以外的另一名工作人员办理"), code="same_officer")
    today = _today(today)
    result = _reassess(claim, today)
    if decision == "reject":
        claim.second_reviewed_by, claim.second_reviewed_at = actor.user, timezone.now()
        return _reject(actor, claim, ClaimDecision.Step.SECOND_REVIEW, _reason(reason), today, result)
    before = _state(claim)
    calendar = WorkCalendar()
    if decision == "return":
        reason = _reason(reason, _("请填写退回理由"))
        claim.status = Claim.Status.SUBMITTED
        claim.reviewed_by, claim.reviewed_at = None, None
        _set_due(claim, calendar, today, result.policy.review_working_days if result.policy else 5)
        claim.save()
        _record(claim, ClaimDecision.Step.SECOND_REVIEW, "return", actor, reason=reason, decision=result)
        _audit(actor, claim, "second_review_return", before=before, after=_state(claim), reason=reason)
        return claim
    if decision != "pass":
        raise ValidationFailed(_("复核结论应为通过、退回或不通过"), details={"field": "decision"})
    if not result.eligible:
        raise _not_eligible(result)
    _apply(claim, result)
    ends = calendar.add_working_days(today, result.policy.publicity_working_days)
    claim.status = Claim.Status.PUBLICITY
    claim.second_reviewed_by, claim.second_reviewed_at = actor.user, timezone.now()
    claim.publicity_starts_on, claim.publicity_ends_on = today, ends.date
    claim.due_on, claim.due_provisional, claim.due_note = ends.date, ends.provisional, ends.explanation[:128]
    claim.save()
    _record(claim, ClaimDecision.Step.SECOND_REVIEW, "pass", actor, reason=(reason or "").strip(), decision=result)
    _audit(
        actor,
        claim,
        "second_review",
        before=before,
        after={**_state(claim), "publicity": [today.isoformat(), ends.date.isoformat()]},
        reason=(reason or "").strip(),
    )
    _tell_claimant(
        claim,
        _("技能提升补贴申请进入公示"),
        _("公示期为%(a)s至%(b)s,期满无异议后审批。") % {"a": today, "b": ends.date},
    )
    return claim


@transaction.atomic
def objection_raise(
    *,
    actor: Actor,
    claim_id: int,
    text: str,
    contact: str = "",
    client_ip: str = "",
    today: datetime.date | None = None,
) -> Objection:
    """Anyone objects to a claim while it is in publicity; anonymous objections are rate-limited by address (those
    accepted: one sent back for a missing or too long field does not count)."""
    if not actor.is_authenticated:
        rate_blocked("public_report", client_ip or "unknown")
    today = _today(today)
    claim = publicity_list(today=today).filter(pk=claim_id).first()
    if claim is None:
        raise NotFound(_("该申请不在公示期内"))
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(_("请填写异议内容"), details={"field": "text"})
    if len(text) > MAX_TEXT:
        raise ValidationFailed(_("异议内容不能超过%(n)d字") % {"n": MAX_TEXT}, details={"field": "text"})
    contact = (contact or "").strip()
    if len(contact) > 64:
        raise ValidationFailed(_("联系方式不能超过64字"), details={"field": "contact"})
    if not actor.is_authenticated:
        check_rate("public_report", client_ip or "unknown")
    working_days = claim.policy.objection_working_days if claim.policy else 5
    due = WorkCalendar().add_working_days(today, working_days)
    objection = Objection(
        claim=claim, text=text, contact=contact, raised_by=actor.user, raised_on=today, due_on=due.date
    )
    objection.full_clean()
    objection.save()
    audit_record(
        actor=actor,
        action="subsidy_claim.objection",
        obj=objection,
        after={"claim": claim.id, "due_on": due.date},
        region_code=claim.region.code,
    )
    officers = [u for u in (claim.reviewed_by, claim.second_reviewed_by) if u is not None]
    notify(
        users=officers,
        title=_("补贴公示收到异议"),
        body=_("申请#%(id)d收到异议,请于%(d)s前处理。") % {"id": claim.id, "d": due.date},
        link=f"/subsidies/claims/{claim.id}/",
    )
    return objection


@transaction.atomic
def objection_resolve(
    *, actor: Actor, objection_id: int, upheld: bool, resolution: str, today: datetime.date | None = None
) -> Objection:
    """The bureau answers an objection: upheld rejects the claim with the answer as reason; dismissed lets it go on."""
    claim_id = Objection.objects.filter(pk=objection_id).values_list("claim_id", flat=True).first()
    if claim_id is None:
        raise NotFound()
    claim = _officer_claim(actor, claim_id)
    objection = Objection.objects.select_for_update().get(pk=objection_id)
    if objection.status != Objection.Status.OPEN:
        raise Conflict(_("该异议已处理"), code="already_resolved")
    resolution = _reason(resolution, _("请填写处理意见"))
    today = _today(today)
    objection.status = Objection.Status.UPHELD if upheld else Objection.Status.DISMISSED
    objection.resolution, objection.resolved_by, objection.resolved_at = resolution, actor.user, timezone.now()
    objection.save(update_fields=["status", "resolution", "resolved_by", "resolved_at"])
    audit_record(
        actor=actor,
        action="subsidy_claim.objection_resolve",
        obj=objection,
        before={"status": Objection.Status.OPEN},
        after={"status": objection.status, "claim": claim.id},
        reason=resolution,
        region_code=claim.region.code,
    )
    if upheld and claim.status in Claim.IN_REVIEW:
        _reject(actor, claim, ClaimDecision.Step.REJECT, _("公示异议成立:%(r)s") % {"r": resolution}, today, None)
    if objection.raised_by_id:
        notify(users=[objection.raised_by], title=_("您提出的补贴公示异议已处理"), body=resolution)
    return objection


@transaction.atomic
def claim_approve(*, actor: Actor, claim_id: int, reason: str = "", today: datetime.date | None = None) -> Claim:
    """审批: after publicity ended with every objection answered. Eligibility, including the yearly cap, is decided
    again under the person's lock, so concurrent approvals can never together exceed a limit."""
    claim = _officer_claim(actor, claim_id)
    _require_status(claim, Claim.Status.PUBLICITY)
    today = _today(today)
    if not claim.publicity_over(today):
        raise Conflict(_("公示期至%(d)s,期满后方可审批") % {"d": claim.publicity_ends_on}, code="publicity_running")
    if claim.objections.filter(status=Objection.Status.OPEN).exists():
        raise Conflict(_("尚有未处理的公示异议"), code="open_objections")
    result = _reassess(claim, today)
    if not result.eligible:
        raise _not_eligible(result)
    before = _state(claim)
    _apply(claim, result)
    # The budget row is locked after the person and the claim (always in this order): approvals in one region
    # queue on it, so two of them can never both fit in what only one would.
    use = budget_check_for_approval(claim, today)
    claim.status = Claim.Status.APPROVED
    claim.decided_by, claim.decided_on, claim.decision_reason = actor.user, today, (reason or "").strip()
    _clear_due(claim)
    claim.save()
    budget_text = ""
    if use is not None:
        use = budget_after_approval(use, claim.amount or 0)
        budget_text = use.text
    _record(
        claim,
        ClaimDecision.Step.APPROVE,
        "approve",
        actor,
        reason="\n".join(t for t in (claim.decision_reason, budget_text) if t),
        decision=result,
    )
    _audit(
        actor,
        claim,
        "approve",
        before=before,
        after={**_state(claim), "budget": use.as_dict() if use else None},
        reason=claim.decision_reason,
    )
    _tell_claimant(
        claim,
        _("技能提升补贴已审批通过"),
        _("补贴%(a)s元将在月度支付批次中发放至您尾号%(t)s的账户。")
        % {"a": claim.amount, "t": claim.account_number[-4:]},
    )
    return claim


@transaction.atomic
def claim_reject(*, actor: Actor, claim_id: int, reason: str, today: datetime.date | None = None) -> Claim:
    """不予补贴, with the reason the claimant will read; possible until the claim goes to the bank."""
    claim = _officer_claim(actor, claim_id)
    _require_status(claim, *Claim.IN_REVIEW, Claim.Status.APPROVED)
    today = _today(today)
    return _reject(actor, claim, ClaimDecision.Step.REJECT, _reason(reason), today, _reassess(claim, today))


# --- Scheduled ---------------------------------------------------------------------------------------------


def claims_remind_overdue(*, today: datetime.date | None = None) -> dict:
    """The daily job: tell each region's officers about claims past their working-day deadline, once a day."""
    from .selectors import with_overdue

    today = _today(today)
    overdue = (
        with_overdue(Claim.objects.filter(status__in=Claim.IN_REVIEW), today)
        .filter(overdue=True)
        .exclude(reminded_on=today)
        .select_related("region")
    )
    by_region: dict[str, list[int]] = {}
    for claim in overdue:
        by_region.setdefault(claim.region.code, []).append(claim.id)
    reminded = 0
    for code, ids in by_region.items():
        with transaction.atomic():
            officers = User.objects.filter(
                memberships__role=Role.BUREAU_STAFF,
                memberships__bureau__region__code__in={code[:2] + "0000", code[:4] + "00", code},
            ).distinct()
            notify(
                users=list(officers),
                title=_("技能提升补贴申请已超期"),
                body=_("有%(n)d件补贴申请已超过办理时限,请尽快处理。") % {"n": len(ids)},
                link="/subsidies/queue/?overdue=1",
            )
            Claim.objects.filter(pk__in=ids).update(reminded_on=today)
            reminded += len(ids)
    return {"reminded": reminded, "regions": len(by_region)}


def policies_warn_lapse(*, today: datetime.date | None = None) -> dict:
    """The daily job: once per policy version, tell the operators and the officers of its province that the region
    will have (or has) no policy of its own after it ends."""
    from .selectors import lapses_within

    today = _today(today)
    warned = 0
    for lapse in lapses_within(None, today=today):
        with transaction.atomic():
            policy = SubsidyPolicy.objects.select_for_update().get(pk=lapse.policy.pk)
            if policy.lapse_notified_on is not None:
                continue
            province = lapse.region_code[:2] + "0000"
            users = User.objects.filter(
                Q(is_superuser=True)
                | Q(
                    memberships__role=Role.BUREAU_STAFF,
                    memberships__bureau__region__code__in={province, lapse.region_code},
                )
            ).distinct()
            notify(
                users=list(users), title=_("技能提升补贴政策即将到期"), body=lapse.message, link="/subsidies/policies/"
            )
            policy.lapse_notified_on = today
            policy.save(update_fields=["lapse_notified_on"])
            audit_record(
                actor=Actor.platform(),
                action="subsidy_policy.lapse_warning",
                obj=policy,
                after={"ends_on": lapse.ends_on.isoformat(), "region": lapse.region_code},
                region_code=lapse.region_code,
            )
            warned += 1
    return {"warned": warned}


def catalogue_change_confirmed(*, impact, title: str, **_kwargs) -> dict:
    """occupations.signals.catalogue_change_confirmed: claimants with a claim in review are told that certificates
    earned before the change stay valid and their claims go on."""
    if impact.claims:
        people = Claim.objects.filter(pk__in=[c["id"] for c in impact.claims]).values("person_id")
        notify(
            users=list(User.objects.filter(person_id__in=people)),
            title=title,
            body=_("取消前取得的证书继续有效,可作为能力水平的证明;您的补贴申请照常办理。"),
            link="/subsidies/",
        )
    return {}
