"""Reading and writing the spreadsheets users upload and download (xlsx), one way for every import.

An import has two phases, both here: `check_rows` reads every row through the caller's check and reports each bad
row by its row number, column and reason; only if none is bad, `save_all_or_nothing` saves every row in one
transaction, and a row that fails to save then (another request took its number meanwhile) undoes them all. A
failed upload never half-saves.
"""

import datetime
import io
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from .errors import PlatformError, ValidationFailed

T = TypeVar("T")

MAX_ROWS = 20_000
MAX_BYTES = 10 * 1024 * 1024


@dataclass
class Column:
    key: str
    header: str
    required: bool = True
    example: str = ""


@dataclass
class RowError:
    row: int
    reason: str
    column: str = ""

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "reason": self.reason}


@dataclass
class ImportReport:
    """What an import did: rows created, or every bad row with its reason (and nothing saved)."""

    total: int = 0
    created: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {"total": self.total, "created": self.created, "errors": [e.as_dict() for e in self.errors]}


def read_rows(upload, columns: list[Column]) -> list[tuple[int, dict]]:
    """(row number as Excel shows it, {key: value}) for each non-empty row after the header row."""
    if getattr(upload, "size", 0) > MAX_BYTES:
        raise ValidationFailed(_("文件超过10MB上限"))
    data = upload.read()
    if not data.startswith(b"PK"):
        raise ValidationFailed(_("请上传 .xlsx 格式的电子表格(可先下载模板)"))
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, KeyError, ValueError, OSError):
        raise ValidationFailed(_("无法读取该电子表格,请确认是 .xlsx 文件")) from None
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        raise ValidationFailed(_("表格为空"))
    positions = {str(h).strip(): i for i, h in enumerate(header) if h is not None}
    missing = [c.header for c in columns if c.required and c.header not in positions]
    if missing:
        raise ValidationFailed(
            _("表头缺少列:%(cols)s") % {"cols": "、".join(missing)}, details={"missing_columns": missing}
        )
    result = []
    for number, values in enumerate(rows, start=2):
        if values is None or all(v is None or str(v).strip() == "" for v in values):
            continue
        if len(result) >= MAX_ROWS:
            raise ValidationFailed(_("一次最多导入%(n)d行") % {"n": MAX_ROWS})
        record = {}
        for c in columns:
            pos = positions.get(c.header)
            value = values[pos] if pos is not None and pos < len(values) else None
            record[c.key] = value.strip() if isinstance(value, str) else value
        result.append((number, record))
    workbook.close()
    return result


class RowProblem(Exception):
    """Raised by a row check: why this row cannot be imported, and in which column."""

    def __init__(self, reason: str, column: str = ""):
        self.reason, self.column = str(reason), column
        super().__init__(self.reason)


def cell_text(value: object) -> str:
    """A cell as text: empty for nothing, and a whole number Excel stored as 12.0 written as 12."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def check_rows(
    rows: Iterable[tuple[int, dict]],
    check: Callable[[dict], T],
    report: ImportReport,
    *,
    key: Callable[[T], Hashable] | None = None,
    duplicate: str = "",
    duplicate_column: str = "",
) -> list[tuple[int, T]]:
    """Phase one: each row through `check`, which returns the row's value or raises RowProblem (or a platform
    error, whose `details["column"]` names the column). With `key`, a row repeating an earlier row's key is an
    error naming that row (`duplicate`, a message with %(r)d for that row's number). Bad rows go to the report, sorted; the good ones come
    back with their numbers."""
    checked: list[tuple[int, T]] = []
    seen: dict[Hashable, int] = {}
    for number, record in rows:
        try:
            value = check(record)
        except RowProblem as problem:
            report.errors.append(RowError(number, problem.reason, problem.column))
            continue
        except PlatformError as exc:
            report.errors.append(RowError(number, exc.message, exc.details.get("column", "")))
            continue
        if key is not None:
            k = key(value)
            if k in seen:
                reason = (duplicate or _("与第%(r)d行重复")) % {"r": seen[k]}
                report.errors.append(RowError(number, reason, duplicate_column))
                continue
            seen[k] = number
        checked.append((number, value))
    report.errors.sort(key=lambda e: e.row)
    return checked


class _Rollback(Exception):
    pass


def save_all_or_nothing(report: ImportReport, save: Callable[[], int]) -> ImportReport:
    """Phase two: `save` runs in one transaction and returns how many rows it saved; it appends a RowError for each
    row that could not be saved. If the report has any error at the end, every row is undone and nothing counts
    as created."""
    try:
        with transaction.atomic():
            created = save()
            if report.errors:
                raise _Rollback()
            report.created = created
    except _Rollback:
        report.errors.sort(key=lambda e: e.row)
        report.created = 0
    return report


def parse_date(value) -> datetime.date:
    """A date cell, or text like 2025-03-01, 2025/3/1 or 2025年3月1日."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = str(value or "").strip().replace("年", "-").replace("月", "-").replace("日", "").replace("/", "-")
    try:
        y, m, d = (int(p) for p in text.split("-"))
        return datetime.date(y, m, d)
    except (ValueError, TypeError):
        raise ValueError(_("日期“%(v)s”无法识别,应为 2025-03-01 格式") % {"v": value}) from None


def template_workbook(columns: list[Column], title: str) -> bytes:
    """An empty workbook with the header row and one example row, for users to fill in."""
    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append([c.header for c in columns])
    ws.append([c.example for c in columns])
    for i, c in enumerate(columns, start=1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = max(12, len(c.header) * 2 + 4)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export_workbook(headers: list[str], rows, title: str) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    ws.append(headers)
    for row in rows:
        ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
