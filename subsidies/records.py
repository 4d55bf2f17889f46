"""Records the bureau imports for the rules to read: unemployment-insurance contributions (from the social
insurance agency's extract, with the job each worker is registered in), 职业培训补贴 already granted, military
service (from veterans' affairs), and the subsidies another region paid (that region's extract, so a worker who
moved in can be verified); and certificates held outside the platform, declared and verified one by one.
Matched to people by ID number.

An extract covers many people who never use the platform: rows for unknown ID numbers are counted as
unmatched and skipped, not errors. Bad rows (an invalid ID number, a name that contradicts the platform's,
months that are not a number) are errors, and then nothing is saved.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.identity import id_type_from_label, normalise_id_number
from accounts.models import Person, User
from core.audit import audit_record
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.notifications import notify
from core.spreadsheets import (
    Column,
    ImportReport,
    RowError,
    RowProblem,
    cell_text,
    check_rows,
    parse_date,
    read_rows,
    save_all_or_nothing,
    template_workbook,
)
from occupations.levels import level_from_text, level_spellings
from occupations.models import Level, Occupation, Region

from .models import (
    DeclaredCertificate,
    InsuranceRecord,
    MilitaryServiceRecord,
    OtherRegionExtract,
    OtherRegionSubsidyRecord,
    TrainingSubsidyRecord,
)
from .selectors import declared_for

INSURANCE_COLUMNS = [
    Column("name", "姓名", example="张伟"),
    Column("id_type", "证件类型", required=False, example="居民身份证"),
    Column("id_number", "证件号码", example="220102199501012238"),
    Column("months", "失业保险累计缴费月数", example="24"),
    Column("as_of", "截至日期", example="2026-10-31"),
    Column("benefit", "领取失业保险金", required=False, example="否"),
    Column("job_occupation", "岗位职业编码", required=False, example="6-31-01-03"),
]
TRAINING_COLUMNS = [
    Column("name", "姓名", example="张伟"),
    Column("id_type", "证件类型", required=False, example="居民身份证"),
    Column("id_number", "证件号码", example="220102199501012238"),
    Column("occupation_code", "职业编码", example="6-31-01-03"),
    Column("level", "等级", required=False, example="四级"),
    Column("granted_on", "享受日期", example="2026-05-20"),
    Column("amount", "金额", required=False, example="1200"),
]
MILITARY_COLUMNS = [
    Column("name", "姓名", example="张伟"),
    Column("id_type", "证件类型", required=False, example="居民身份证"),
    Column("id_number", "证件号码", example="220102199501012238"),
    Column("months", "服役月数", example="24"),
    Column("discharged_on", "退役日期", example="2024-09-01"),
]
OTHER_REGION_COLUMNS = [
    Column("name", "姓名", example="张伟"),
    Column("id_type", "证件类型", required=False, example="居民身份证"),
    Column("id_number", "证件号码", example="220102199501012238"),
    Column("occupation_code", "职业编码", example="6-31-01-03"),
    Column("level", "等级", example="四级"),
    Column("paid_on", "发放日期", example="2025-05-20"),
    Column("amount", "金额", required=False, example="1500"),
]
_YES = {"是", "y", "yes", "true", "1", "领取"}
_NO = {"", "否", "n", "no", "false", "0", "未领取"}


@dataclass
class RecordImportReport(ImportReport):
    unmatched: int = 0

    def as_dict(self) -> dict:
        return {**super().as_dict(), "unmatched": self.unmatched}


def _identity(record: dict) -> tuple[str, str, str]:
    name = cell_text(record.get("name"))
    if not name:
        raise RowProblem(_("请填写姓名"), "姓名")
    try:
        id_type = id_type_from_label(record.get("id_type"))
        return name, id_type, normalise_id_number(id_type, cell_text(record.get("id_number")))
    except ValidationFailed as exc:
        raise RowProblem(exc.message, "证件号码") from None


def _date(value, header: str) -> datetime.date:
    try:
        day = parse_date(value)
    except ValueError as exc:
        raise RowProblem(str(exc), header) from None
    if day > timezone.localdate():
        raise RowProblem(_("%(h)s不能晚于今天") % {"h": header}, header)
    return day


def _insurance_row(record: dict, occupations: dict[str, Occupation] | None = None) -> dict:
    try:
        months = int(cell_text(record.get("months")))
    except ValueError:
        raise RowProblem(_("缴费月数应为整数"), "失业保险累计缴费月数") from None
    if not 0 <= months <= 600:
        raise RowProblem(_("缴费月数应在0—600之间"), "失业保险累计缴费月数")
    benefit = cell_text(record.get("benefit")).lower()
    if benefit not in _YES | _NO:
        raise RowProblem(_("“领取失业保险金”应填是或否"), "领取失业保险金")
    job_code = cell_text(record.get("job_occupation"))
    job = None
    if job_code:
        job = (occupations or {}).get(job_code)
        if job is None:
            raise RowProblem(_("岗位职业编码%(c)s不在职业分类大典中") % {"c": job_code}, "岗位职业编码")
    return {
        "months": months,
        "as_of": _date(record.get("as_of"), "截至日期"),
        "benefit": benefit in _YES,
        "job": job,
    }


def _military_row(record: dict) -> dict:
    try:
        months = int(cell_text(record.get("months")))
    except ValueError:
        raise RowProblem(_("服役月数应为整数"), "服役月数") from None
    if not 1 <= months <= 600:
        raise RowProblem(_("服役月数应在1—600之间"), "服役月数")
    return {"months": months, "discharged_on": _date(record.get("discharged_on"), "退役日期")}


def _occupation_level(record: dict, occupations: dict[str, Occupation], levels: dict[str, Level], *, required: bool):
    code = cell_text(record.get("occupation_code"))
    occupation = occupations.get(code)
    if occupation is None:
        raise RowProblem(_("职业编码%(c)s不在职业分类大典中") % {"c": code or "—"}, "职业编码")
    level_text = cell_text(record.get("level"))
    level = level_from_text(level_text, levels) if level_text else None
    if level is None and (level_text or required):
        choices = "、".join(lv.label for lv in sorted(set(levels.values()), key=lambda lv: lv.rank))
        raise RowProblem(_("等级“%(v)s”无法识别,可填%(c)s") % {"v": level_text or "—", "c": choices}, "等级")
    return occupation, level


def _amount(record: dict) -> Decimal | None:
    if not cell_text(record.get("amount")):
        return None
    try:
        amount = Decimal(cell_text(record.get("amount"))).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise RowProblem(_("金额应为数字"), "金额") from None
    if amount < 0:
        raise RowProblem(_("金额不能为负数"), "金额")
    return amount


def _other_region_row(record: dict, occupations, levels) -> dict:
    occupation, level = _occupation_level(record, occupations, levels, required=True)
    return {
        "occupation": occupation,
        "level": level,
        "amount": _amount(record),
        "paid_on": _date(record.get("paid_on"), "发放日期"),
    }


def _training_row(record: dict, occupations: dict[str, Occupation], levels: dict[str, Level]) -> dict:
    code = cell_text(record.get("occupation_code"))
    occupation = occupations.get(code)
    if occupation is None:
        raise RowProblem(_("职业编码%(c)s不在职业分类大典中") % {"c": code or "—"}, "职业编码")
    level_text = cell_text(record.get("level"))
    level = None
    if level_text:
        level = level_from_text(level_text, levels)
        if level is None:
            choices = "、".join(lv.label for lv in sorted(set(levels.values()), key=lambda lv: lv.rank))
            raise RowProblem(_("等级“%(v)s”无法识别,可填%(c)s或留空") % {"v": level_text, "c": choices}, "等级")
    amount = None
    if cell_text(record.get("amount")):
        try:
            amount = Decimal(cell_text(record.get("amount"))).quantize(Decimal("0.01"))
        except InvalidOperation:
            raise RowProblem(_("金额应为数字"), "金额") from None
        if amount < 0:
            raise RowProblem(_("金额不能为负数"), "金额")
    return {
        "occupation": occupation,
        "level": level,
        "amount": amount,
        "granted_on": _date(record.get("granted_on"), "享受日期"),
    }


def _import(
    *,
    actor: Actor,
    upload,
    region_code: str,
    columns: list[Column],
    parse: Callable[[dict], dict],
    save: Callable[[Person, dict, Region], None],
    action: str,
    before_save: Callable[[Region, int], None] | None = None,
) -> RecordImportReport:
    region = actor.bureau_region(region_code, field="region_code", prompt=_("请选择记录所属地区"))
    rows = read_rows(upload, columns)
    report = RecordImportReport(total=len(rows))
    parsed = [
        (row, ident, values)
        for row, (ident, values) in check_rows(rows, lambda record: (_identity(record), parse(record)), report)
    ]
    people = {
        (p.id_type, p.id_number): p for p in Person.objects.filter(id_number__in=[ident[2] for _r, ident, _v in parsed])
    }
    matched = []
    for row, (name, id_type, id_number), values in parsed:
        person = people.get((id_type, id_number))
        if person is None:
            report.unmatched += 1
        elif person.name != name:
            report.errors.append(RowError(row, _("证件号码已登记在另一姓名下,请核对姓名与证件号码"), "姓名"))
        else:
            matched.append((person, values))
    if report.errors:
        report.errors.sort(key=lambda e: e.row)
        return report

    def save_all() -> int:
        if before_save is not None:
            before_save(region, report.total)
        for person, values in matched:
            save(person, values, region)
        audit_record(
            actor=actor,
            action=action,
            object_type="subsidies.record",
            after={"rows": report.total, "saved": len(matched), "unmatched": report.unmatched},
            region_code=region.code,
        )
        return len(matched)

    return save_all_or_nothing(report, save_all)


def insurance_records_import(*, actor: Actor, upload, region_code: str = "") -> RecordImportReport:
    """Contribution records from the agency's extract; a person's record for the same date is replaced."""
    occupations = {o.code: o for o in Occupation.objects.all()}

    def save(person: Person, values: dict, region: Region) -> None:
        InsuranceRecord.objects.update_or_create(
            person=person,
            as_of=values["as_of"],
            defaults={
                "months": values["months"],
                "receives_unemployment_benefit": values["benefit"],
                "job_occupation": values["job"],
                "region": region,
                "source": _("%(r)s社保经办机构数据") % {"r": region.name},
                "imported_by": actor.user,
            },
        )

    return _import(
        actor=actor,
        upload=upload,
        region_code=region_code,
        columns=INSURANCE_COLUMNS,
        parse=lambda record: _insurance_row(record, occupations),
        save=save,
        action="subsidy_insurance.import",
    )


def training_subsidies_import(*, actor: Actor, upload, region_code: str = "") -> RecordImportReport:
    """职业培训补贴 already granted, so the same skill is not subsidised twice."""
    occupations = {o.code: o for o in Occupation.objects.all()}
    levels = level_spellings()

    def save(person: Person, values: dict, region: Region) -> None:
        TrainingSubsidyRecord.objects.update_or_create(
            person=person,
            occupation=values["occupation"],
            granted_on=values["granted_on"],
            defaults={
                "level": values["level"],
                "amount": values["amount"],
                "region": region,
                "source": _("%(r)s职业培训补贴发放记录") % {"r": region.name},
                "imported_by": actor.user,
            },
        )

    return _import(
        actor=actor,
        upload=upload,
        region_code=region_code,
        columns=TRAINING_COLUMNS,
        parse=lambda record: _training_row(record, occupations, levels),
        save=save,
        action="subsidy_training.import",
    )


def military_records_import(*, actor: Actor, upload, region_code: str = "") -> RecordImportReport:
    """Military service from the veterans' affairs extract; a person's record for the same discharge is replaced."""

    def save(person: Person, values: dict, region: Region) -> None:
        MilitaryServiceRecord.objects.update_or_create(
            person=person,
            discharged_on=values["discharged_on"],
            defaults={
                "months": values["months"],
                "region": region,
                "source": _("%(r)s退役军人事务部门数据") % {"r": region.name},
                "imported_by": actor.user,
            },
        )

    return _import(
        actor=actor,
        upload=upload,
        region_code=region_code,
        columns=MILITARY_COLUMNS,
        parse=_military_row,
        save=save,
        action="subsidy_military.import",
    )


def other_region_records_import(
    *, actor: Actor, upload, source_region_code: str, as_of: datetime.date | None = None, region_code: str = ""
) -> RecordImportReport:
    """Another region's payments of 技能提升补贴 (its extract, as of a date): the rules read them to refuse the same
    subsidy twice and to verify what a worker who moved in declared. Each import is kept as an extract of that
    region; an extract with no matching rows still verifies that nobody in it was paid there."""
    source = Region.objects.filter(code=(source_region_code or "").strip()).first()
    if source is None:
        raise ValidationFailed(_("请选择记录所属地区(原参保地)"), details={"field": "source_region_code"})
    as_of = as_of or timezone.localdate()
    if as_of > timezone.localdate():
        raise ValidationFailed(_("记录截至日期不能晚于今天"), details={"field": "as_of"})
    occupations = {o.code: o for o in Occupation.objects.all()}
    levels = level_spellings()
    extract: dict[str, OtherRegionExtract] = {}

    def start(region: Region, rows: int) -> None:
        extract["row"] = OtherRegionExtract.objects.create(
            source_region=source, as_of=as_of, rows=rows, region=region, imported_by=actor.user
        )

    def save(person: Person, values: dict, region: Region) -> None:
        OtherRegionSubsidyRecord.objects.create(extract=extract["row"], person=person, **values)

    return _import(
        actor=actor,
        upload=upload,
        region_code=region_code,
        columns=OTHER_REGION_COLUMNS,
        parse=lambda record: _other_region_row(record, occupations, levels),
        save=save,
        action="subsidy_other_region.import",
        before_save=start,
    )


def _declared_date(value) -> datetime.date | None:
    if value is None or isinstance(value, datetime.date):
        return value
    text = str(value).strip()
    if not text:
        return None
    return datetime.date.fromisoformat(text)


def _declared_facts(
    *, person: Person | None, occupation_code: str, level_code: str, number: str, issued_on, issuer: str
) -> tuple[dict, list[dict]]:
    """The facts of a certificate held outside the platform, checked field by field: (values, errors), each error
    {"field", "message"}, so that a form can show every problem at once. The one check for the worker's
    declaration and the officer's record alike."""
    errors: list[dict] = []

    def fail(field: str, message) -> None:
        errors.append({"field": field, "message": str(message)})

    occupation = Occupation.objects.filter(code=(occupation_code or "").strip()).first()
    if occupation is None:
        fail("occupation_code", _("请选择职业(职业分类大典中的职业)"))
    level = Level.objects.filter(code=(level_code or "").strip()).first()
    if level is None:
        fail("level_code", _("请选择证书等级"))
    number = (number or "").strip().upper().replace(" ", "")
    if not number or len(number) > 32:
        fail("number", _("请填写证书编号(32字以内)"))
    elif person is not None and DeclaredCertificate.objects.filter(person=person, number=number).exists():
        fail("number", _("该人员已登记过此证书编号"))
    try:
        day = _declared_date(issued_on)
    except ValueError:
        day = None
        fail("issued_on", _("发证日期格式应为 YYYY-MM-DD,如 2020-06-01"))
    else:
        if day is None:
            fail("issued_on", _("请填写发证日期"))
        elif day > timezone.localdate():
            fail("issued_on", _("发证日期不能晚于今天"))
    values = {
        "occupation": occupation,
        "level": level,
        "number": number,
        "issued_on": day,
        "issuer": (issuer or "").strip()[:128],
    }
    return values, errors


def _refuse(errors: list[dict]) -> None:
    if errors:
        raise ValidationFailed(
            ";".join(e["message"] for e in errors), details={"field": errors[0]["field"], "errors": errors}
        )


def _declared_save(declared: DeclaredCertificate, *, actor: Actor, action: str) -> DeclaredCertificate:
    declared.full_clean(
        exclude=["person", "occupation", "level", "region", "recorded_by", "verified_by"], validate_unique=False
    )
    declared.save()
    audit_record(
        actor=actor,
        action=action,
        obj=declared,
        after={
            "number": declared.number,
            "level": declared.level.code,
            "occupation": declared.occupation.code,
            "status": declared.status,
        },
        reason=declared.verification,
        region_code=declared.region.code if declared.region else "",
    )
    return declared


@transaction.atomic
def declared_certificate_record(
    *,
    actor: Actor,
    id_number: str,
    occupation_code: str,
    level_code: str,
    number: str,
    issued_on: datetime.date,
    issuer: str = "",
    verified: bool = False,
    verification: str = "",
    region_code: str = "",
) -> DeclaredCertificate:
    """A bureau officer records a certificate held outside the platform, as the worker declared it; verified when
    checked (e.g. against the national query), else pending: only a verified one refuses a lower-level subsidy."""
    region = actor.bureau_region(region_code, field="region_code", prompt=_("请选择核实地区"))
    person = Person.objects.filter(id_number=(id_number or "").strip().upper()).first()
    if person is None:
        raise ValidationFailed(_("平台中没有该证件号码的人员"), details={"field": "id_number"})
    values, errors = _declared_facts(
        person=person,
        occupation_code=occupation_code,
        level_code=level_code,
        number=number,
        issued_on=issued_on,
        issuer=issuer,
    )
    verification = (verification or "").strip()[:255]
    if verified and not verification:
        errors.append({"field": "verification", "message": str(_("已核实的证书请写明核实方式与结果"))})
    _refuse(errors)
    declared = DeclaredCertificate(
        person=person,
        region=region,
        status=DeclaredCertificate.Status.VERIFIED if verified else DeclaredCertificate.Status.PENDING,
        verification=verification,
        recorded_by=actor.user,
        verified_by=actor.user if verified else None,
        verified_at=timezone.now() if verified else None,
        **values,
    )
    return _declared_save(declared, actor=actor, action="subsidy_declared_certificate.record")


@transaction.atomic
def declared_certificate_declare(
    *,
    actor: Actor,
    occupation_code: str,
    level_code: str,
    number: str,
    issued_on,
    region_code: str,
    issuer: str = "",
) -> DeclaredCertificate:
    """The worker declares a certificate they hold outside the platform (another province's system, a paper
    职业资格证书) to the bureau of their 参保地, which verifies it. Every problem with the input is reported at
    once (details["errors"]). `issued_on` may be a date or its ISO text as typed."""
    actor.require_person()
    person = actor.person
    values, errors = _declared_facts(
        person=person,
        occupation_code=occupation_code,
        level_code=level_code,
        number=number,
        issued_on=issued_on,
        issuer=issuer,
    )
    region = Region.objects.filter(code=(region_code or "").strip(), active=True).first()
    if region is None:
        errors.append({"field": "region_code", "message": str(_("请选择参保地(由该地人社部门核实)"))})
    _refuse(errors)
    declared = DeclaredCertificate(person=person, region=region, recorded_by=actor.user, **values)
    return _declared_save(declared, actor=actor, action="subsidy_declared_certificate.declare")


def _declared_state(declared: DeclaredCertificate) -> dict:
    return {
        "number": declared.number,
        "level": declared.level.code,
        "occupation": declared.occupation.code,
        "status": declared.status,
        "verification": declared.verification,
    }


@transaction.atomic
def declared_certificate_withdraw(*, actor: Actor, declared_id: int) -> None:
    """The worker takes back a declaration no officer has decided yet (it is removed; the audit log keeps it)."""
    actor.require_person()
    declared = (
        DeclaredCertificate.objects.select_for_update(of=("self",))
        .select_related("occupation", "level", "region")
        .filter(pk=declared_id, person=actor.person)
        .first()
    )
    if declared is None:
        raise NotFound()
    if declared.status != DeclaredCertificate.Status.PENDING:
        raise Conflict(_("人社部门已作出核实结论,不能撤回;如有疑问请联系当地人社部门"), code="declared_decided")
    audit_record(
        actor=actor,
        action="subsidy_declared_certificate.withdraw",
        obj=declared,
        before=_declared_state(declared),
        region_code=declared.region.code if declared.region else "",
    )
    declared.delete()


@transaction.atomic
def declared_certificate_decide(
    *, actor: Actor, declared_id: int, verified: bool, verification: str
) -> DeclaredCertificate:
    """An officer of the region it was declared to records the verification: consistent (it then counts as held,
    and refuses lower-level subsidies of the same occupation) or not. Once, with how it was checked."""
    actor.require_bureau()
    declared = declared_for(actor).select_for_update(of=("self",)).filter(pk=declared_id).first()
    if declared is None:
        raise NotFound()
    if actor.person is not None and actor.person.id == declared.person_id and not actor.is_operator:
        raise PermissionDenied(_("不得核实本人申报的证书"))
    if declared.status != DeclaredCertificate.Status.PENDING:
        raise Conflict(_("该申报已有核实结论"), code="declared_decided")
    verification = (verification or "").strip()
    if not verification:
        raise ValidationFailed(_("请写明核实方式与结果(如 全国联网查询,信息一致)"), details={"field": "verification"})
    before = _declared_state(declared)
    declared.status = DeclaredCertificate.Status.VERIFIED if verified else DeclaredCertificate.Status.REJECTED
    declared.verification = verification[:255]
    declared.verified_by, declared.verified_at = actor.user, timezone.now()
    declared.save(update_fields=["status", "verification", "verified_by", "verified_at"])
    audit_record(
        actor=actor,
        action="subsidy_declared_certificate." + ("verify" if verified else "reject"),
        obj=declared,
        before=before,
        after=_declared_state(declared),
        reason=declared.verification,
        region_code=declared.region.code if declared.region else "",
    )
    # The accounts that act as the person (a live binding): the same people who can open the declaration.
    holders = User.objects.filter(
        person_id=declared.person_id, bindings__person_id=declared.person_id, bindings__ended_at__isnull=True
    ).distinct()
    notify(
        users=list(holders),
        title=_("平台外证书核实结果:%(s)s") % {"s": declared.get_status_display()},
        body=_("%(o)s %(l)s 证书 %(n)s:%(v)s")
        % {"o": declared.occupation.name, "l": declared.level.label, "n": declared.number, "v": declared.verification},
        link=reverse("subsidies:declared"),
    )
    return declared


def insurance_template() -> bytes:
    return template_workbook(INSURANCE_COLUMNS, _("失业保险参保记录"))


def training_template() -> bytes:
    return template_workbook(TRAINING_COLUMNS, _("职业培训补贴记录"))


def military_template() -> bytes:
    return template_workbook(MILITARY_COLUMNS, _("服役记录"))


def other_region_template() -> bytes:
    return template_workbook(OTHER_REGION_COLUMNS, _("异地技能提升补贴记录"))
