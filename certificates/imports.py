"""Registering historical certificates (历史证书导入): bureau staff upload what was issued before the platform.

Typically 职业资格证书 from before the 2017–2020 reform, which "继续作为能力水平的证明", and skill-level
certificates issued on paper. Each row becomes a Certificate with imported=True, signed like any other, so it
verifies through the same QR token and lookup. All rows or none: every bad row is reported with its row number,
column and reason, and nothing is saved.
"""

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.conflicts import records_conflicts
from accounts.identity import ID_TYPES, id_type_from_label, normalise_id_number
from accounts.models import Person
from accounts.services import person_get_or_create
from core.audit import audit_record
from core.errors import PlatformError, ValidationFailed
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
from occupations.editions import edition_from_text, occupation_for_code
from occupations.levels import level_for_number, level_from_text, level_spellings
from occupations.models import Level, Occupation, Region

from . import signing
from .issuance import printed_fields, token_algorithm
from .models import Certificate
from .status_index import certificates_insert

COLUMNS = [
    Column("number", "证书编号", example="2201000300012345"),
    Column("kind", "证书类别", example="职业资格证书"),
    Column("name", "姓名", example="张伟"),
    Column("id_type", "证件类型", example="居民身份证"),
    Column("id_number", "证件号码", example="220102199501012238"),
    Column("occupation_code", "职业编码", required=False, example="6-31-01-03"),
    Column("occupation_edition", "大典版本", required=False, example="2015"),
    Column("occupation_name", "职业名称", example="电工"),
    Column("work_type", "工种", required=False, example=""),
    Column("level", "等级", example="高级"),
    Column("issuer", "发证机构", required=False, example="吉林省职业技能鉴定指导中心"),
    Column("issued_on", "发证日期", example="2015-06-30"),
    Column("valid_until", "有效期至", required=False, example=""),
]

# The same rule signing.token_sign enforces: old all-digit numbers and newer formats, 8–32 characters.
NUMBER_RE = re.compile(r"[A-Z0-9]{8,32}")
OCCUPATION_CODE_RE = re.compile(r"\d-\d{2}-\d{2}-\d{2}")
# Excel keeps 15 significant digits: a longer number typed as a number has already lost its last digits.
_EXCEL_DIGITS = 15
_KINDS = {
    "职业技能等级证书": Certificate.Kind.SKILL_LEVEL,
    "职业资格证书": Certificate.Kind.QUALIFICATION,
    **{str(label): value for value, label in Certificate.Kind.choices},
}
_ID_TYPE_LABELS = {code: str(label) for code, label in ID_TYPES}
# Only non-relational fields are checked by full_clean: foreign keys were resolved while validating rows.
_RELATIONS = ["person", "organisation", "registration", "occupation", "level", "superseded_by"]


@dataclass
class _Row:
    number: str
    kind: str
    name: str
    id_type: str
    id_number: str
    occupation: Occupation | None
    occupation_code: str
    occupation_edition: str
    occupation_name: str
    work_type: str
    level: Level
    issuer: str
    issued_on: datetime.date
    valid_until: datetime.date | None


def import_template() -> bytes:
    return template_workbook(COLUMNS, _("历史证书导入"))


def _number(value: object) -> str:
    if isinstance(value, int | float) and len(cell_text(value)) > _EXCEL_DIGITS:
        raise RowProblem(_("证书编号超过15位时请以文本格式填写(Excel 会截断长数字)"), "证书编号")
    number = cell_text(value).upper()
    if not NUMBER_RE.fullmatch(number):
        raise RowProblem(_("证书编号应为8—32位大写字母或数字"), "证书编号")
    return number


def _required(record: dict, key: str, header: str, max_length: int) -> str:
    text = cell_text(record.get(key))
    if not text:
        raise RowProblem(_("请填写%(h)s") % {"h": header}, header)
    if len(text) > max_length:
        raise RowProblem(_("%(h)s不能超过%(n)d个字") % {"h": header, "n": max_length}, header)
    return text


def _level(value: object, table: dict[str, Level]) -> Level:
    level = level_from_text(value, table)
    if level is None:
        choices = "、".join(lv.label for lv in sorted(set(table.values()), key=lambda lv: lv.rank))
        raise RowProblem(_("等级“%(v)s”无法识别,可填:%(c)s") % {"v": cell_text(value), "c": choices}, "等级")
    return level


def _number_matches_level(number: str, level: Level, table: dict[str, Level]) -> None:
    """A number written in one of the platform's formats names its level (the level digit): it must agree
    with the level column. Numbers in no known format (older 职业资格 numbers) are taken as printed."""
    named = level_for_number(number, set(table.values()))
    if named is not None and named.pk != level.pk:
        raise RowProblem(
            _("证书编号的等级位表示%(n)s,与所填等级“%(l)s”不符") % {"n": named.label, "l": level.label}, "证书编号"
        )


def _date(value: object, header: str) -> datetime.date:
    try:
        return parse_date(value)
    except ValueError as exc:
        raise RowProblem(str(exc), header) from None


def _check_row(record: dict, *, default_issuer: str, levels: dict[str, Level], today: datetime.date) -> _Row:
    number = _number(record.get("number"))
    kind = _KINDS.get(cell_text(record.get("kind")))
    if kind is None:
        raise RowProblem(_("证书类别应为“职业技能等级证书”或“职业资格证书”"), "证书类别")
    name = _required(record, "name", "姓名", 64)
    try:
        id_type = id_type_from_label(record.get("id_type"))
        id_number = normalise_id_number(id_type, cell_text(record.get("id_number")))
    except ValidationFailed as exc:
        raise RowProblem(exc.message, "证件号码" if exc.details.get("field") == "id_number" else "证件类型") from None
    occupation = None
    code = cell_text(record.get("occupation_code"))
    try:
        edition = edition_from_text(cell_text(record.get("occupation_edition")))
    except ValidationFailed as exc:
        raise RowProblem(exc.message, "大典版本") from None
    if code:
        if not OCCUPATION_CODE_RE.fullmatch(code):
            raise RowProblem(_("职业编码应为 X-XX-XX-XX 格式,不清楚可留空"), "职业编码")
        try:
            # An earlier edition's code stays as printed; the 2022 occupation it maps to (if known) is what
            # eligibility and 贯通 read.
            occupation = occupation_for_code(code, edition).occupation
        except ValidationFailed as exc:
            raise RowProblem(exc.message + _(",不清楚可留空"), "职业编码") from None
    occupation_name = _required(record, "occupation_name", "职业名称", 64)
    work_type = cell_text(record.get("work_type"))
    if len(work_type) > 64:
        raise RowProblem(_("工种不能超过64个字"), "工种")
    level = _level(record.get("level"), levels)
    _number_matches_level(number, level, levels)
    issuer = cell_text(record.get("issuer")) or default_issuer
    if not issuer:
        raise RowProblem(_("请填写发证机构"), "发证机构")
    if len(issuer) > 128:
        raise RowProblem(_("发证机构不能超过128个字"), "发证机构")
    issued_on = _date(record.get("issued_on"), "发证日期")
    if issued_on > today:
        raise RowProblem(_("发证日期不能晚于今天"), "发证日期")
    valid_until = _date(record["valid_until"], "有效期至") if cell_text(record.get("valid_until")) else None
    if valid_until is not None and valid_until < issued_on:
        raise RowProblem(_("有效期至不能早于发证日期"), "有效期至")
    return _Row(
        number=number,
        kind=kind,
        name=name,
        id_type=id_type,
        id_number=id_number,
        occupation=occupation,
        occupation_code=code,
        occupation_edition=edition,
        occupation_name=occupation_name,
        work_type=work_type,
        level=level,
        issuer=issuer,
        issued_on=issued_on,
        valid_until=valid_until,
    )


def _validate(rows: list[tuple[int, dict]], *, default_issuer: str, report: ImportReport) -> list[tuple[int, _Row]]:
    levels, today = level_spellings(), timezone.localdate()
    checked = check_rows(
        rows, lambda record: _check_row(record, default_issuer=default_issuer, levels=levels, today=today), report
    )
    existing = set(
        Certificate.objects.filter(number__in=[r.number for _n, r in checked]).values_list("number", flat=True)
    )
    known_people = {
        (p.id_type, p.id_number): p.name
        for p in Person.objects.filter(id_number__in=[r.id_number for _n, r in checked]).only(
            "id_type", "id_number", "name"
        )
    }
    numbers: dict[str, int] = {}
    names: dict[tuple[str, str], tuple[str, int]] = {}
    good = []
    for row_number, row in checked:
        key = (row.id_type, row.id_number)
        if row.number in existing:
            report.errors.append(RowError(row_number, _("证书编号%(n)s已在平台登记") % {"n": row.number}, "证书编号"))
        elif row.number in numbers:
            report.errors.append(
                RowError(row_number, _("与第%(r)d行证书编号重复") % {"r": numbers[row.number]}, "证书编号")
            )
        elif key in known_people and known_people[key] != row.name:
            report.errors.append(RowError(row_number, _("证件号码已登记在另一姓名下,请核对姓名与证件号码"), "姓名"))
        elif key in names and names[key][0] != row.name:
            report.errors.append(
                RowError(row_number, _("与第%(r)d行证件号码相同但姓名不同") % {"r": names[key][1]}, "姓名")
            )
        else:
            numbers[row.number] = row_number
            names.setdefault(key, (row.name, row_number))
            good.append((row_number, row))
    report.errors.sort(key=lambda e: e.row)
    return good


def _certificate(row: _Row, person: Person, region: Region) -> Certificate:
    cert = Certificate(
        number=row.number,
        kind=row.kind,
        person=person,
        organisation=None,
        occupation=row.occupation,
        occupation_code=row.occupation_code,
        occupation_edition=row.occupation_edition,
        level=row.level,
        holder_name=row.name,
        id_type=_ID_TYPE_LABELS.get(row.id_type, row.id_type),
        id_number=row.id_number,
        occupation_name=row.occupation_name,
        work_type=row.work_type,
        organisation_name=row.issuer,
        issued_on=row.issued_on,
        valid_until=row.valid_until,
        region_code=region.code,
        imported=True,
    )
    cert.token = signing.token_sign(cert.number, printed_fields(cert), alg=token_algorithm(region.code))
    try:
        cert.full_clean(exclude=_RELATIONS, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise ValidationFailed("; ".join(exc.messages)) from None
    return cert


@records_conflicts
def certificates_import(*, actor: Actor, upload, organisation_name: str = "", region_code: str = "") -> ImportReport:
    """Register historical certificates from a spreadsheet; `organisation_name` fills an empty 发证机构 cell."""
    region = actor.bureau_region(region_code, field="region", prompt=_("请选择证书登记的地区"))
    rows = read_rows(upload, COLUMNS)
    report = ImportReport(total=len(rows))
    if not rows:
        report.errors.append(RowError(0, _("表格中没有数据行")))
        return report
    checked = _validate(rows, default_issuer=(organisation_name or "").strip()[:128], report=report)
    if report.errors:
        return report
    people: dict[tuple[str, str], Person] = {}

    def save() -> int:
        certs = []
        for row_number, row in checked:
            key = (row.id_type, row.id_number)
            try:
                if key not in people:
                    people[key] = person_get_or_create(
                        actor=actor, name=row.name, id_type=row.id_type, id_number=row.id_number, source="import"
                    )
                certs.append(_certificate(row, people[key], region))
            except PlatformError as exc:  # another request changed the same person meanwhile
                report.errors.append(RowError(row_number, exc.message))
        if report.errors:
            return 0
        try:
            with transaction.atomic():
                certificates_insert(certs, batch_size=500)
        except IntegrityError:
            # Another upload registered some of these numbers since they were checked.
            taken = set(
                Certificate.objects.filter(number__in=[c.number for c in certs]).values_list("number", flat=True)
            )
            for row_number, row in checked:
                if row.number in taken:
                    report.errors.append(RowError(row_number, _("证书编号%(n)s已在平台登记") % {"n": row.number}))
            if not report.errors:
                raise
            return 0
        audit_record(
            actor=actor,
            action="certificate.import",
            object_type="certificates.certificate",
            after={"numbers": [c.number for c in certs], "count": len(certs)},
            region_code=region.code,
        )
        return len(certs)

    save_all_or_nothing(report, save)
    return report
