"""Records the bureau imports for the rules to read: unemployment-insurance contributions (from the social
insurance agency's extract) and 职业培训补贴 already granted. Matched to people by ID number.

An extract covers many people who never use the platform: rows for unknown ID numbers are counted as
unmatched and skipped, not errors. Bad rows (an invalid ID number, a name that contradicts the platform's,
months that are not a number) are errors, and then nothing is saved.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.identity import id_type_from_label, normalise_id_number
from accounts.models import Person
from core.audit import audit_record
from core.errors import ValidationFailed
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

from .models import InsuranceRecord, TrainingSubsidyRecord

INSURANCE_COLUMNS = [
    Column("name", "姓名", example="张伟"),
    Column("id_type", "证件类型", required=False, example="居民身份证"),
    Column("id_number", "证件号码", example="220102199501012238"),
    Column("months", "失业保险累计缴费月数", example="24"),
    Column("as_of", "截至日期", example="2026-10-31"),
    Column("benefit", "领取失业保险金", required=False, example="否"),
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


def _insurance_row(record: dict) -> dict:
    try:
        months = int(cell_text(record.get("months")))
    except ValueError:
        raise RowProblem(_("缴费月数应为整数"), "失业保险累计缴费月数") from None
    if not 0 <= months <= 600:
        raise RowProblem(_("缴费月数应在0—600之间"), "失业保险累计缴费月数")
    benefit = cell_text(record.get("benefit")).lower()
    if benefit not in _YES | _NO:
        raise RowProblem(_("“领取失业保险金”应填是或否"), "领取失业保险金")
    return {"months": months, "as_of": _date(record.get("as_of"), "截至日期"), "benefit": benefit in _YES}


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

    def save(person: Person, values: dict, region: Region) -> None:
        InsuranceRecord.objects.update_or_create(
            person=person,
            as_of=values["as_of"],
            defaults={
                "months": values["months"],
                "receives_unemployment_benefit": values["benefit"],
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
        parse=_insurance_row,
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


def insurance_template() -> bytes:
    return template_workbook(INSURANCE_COLUMNS, _("失业保险参保记录"))


def training_template() -> bytes:
    return template_workbook(TRAINING_COLUMNS, _("职业培训补贴记录"))
