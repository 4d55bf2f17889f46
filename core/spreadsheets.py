"""Reading and writing the spreadsheets users upload and download (xlsx), one way for every import and export.

An import has two phases, both here: `check_rows` reads every row through the caller's check and reports each bad
row by its row number, column and reason; only if none is bad, `save_all_or_nothing` saves every row in one
transaction, and a row that fails to save then (another request took its number meanwhile) undoes them all. A
failed upload never half-saves.

Reading is bounded before any parsing. An xlsx is a zip of XML files: 310 KB of zip once held enough repeated text
to take 1.27 GB of memory in openpyxl. So the zip's directory is read first and the upload refused when its
members' declared uncompressed sizes add up to more than MAX_UNCOMPRESSED_BYTES (Python's zipfile never inflates
a member past its declared size: a member that lies fails its CRC check instead), then the first sheet's declared
range (`<dimension ref="A1:XFD1048576"/>`) is read from the head of its XML and refused beyond MAX_CELLS; only
then does openpyxl open the file, and it is made to stop at MAX_SHEET_ROWS × MAX_COLUMNS whatever the sheet says.

Writing neutralises formulas: a cell whose text starts with `=`, `+`, `-`, `@`, tab or CR is written as text
(an xlsx string cell; in CSV, with a leading apostrophe), so a candidate named `=HYPERLINK(...)` stays a name in
the score sheet, the bank file, the data report and every other export. Text a cell cannot hold (a control
character stored before input was checked) is written as U+FFFD instead of failing the whole export.
"""

import csv
import datetime
import io
import zipfile
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException, ElementTree
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils.cell import range_boundaries
from openpyxl.utils.exceptions import InvalidFileException

from .errors import PlatformError, ValidationFailed
from .text import has_control_characters

T = TypeVar("T")

MAX_ROWS = 20_000  # rows with data, after the header
MAX_BYTES = 10 * 1024 * 1024  # the upload as sent
MAX_UNCOMPRESSED_BYTES = (
    64 * 1024 * 1024
)  # all of the zip's members, as declared; a full 20,000-row import written with lxml is ~33 MB
MAX_ZIP_MEMBERS = 1_000
MAX_SHEET_ROWS = 50_000  # the sheet's extent, blank rows included
MAX_COLUMNS = 100
MAX_CELLS = 2_000_000  # rows × columns of the declared range

# A cell starting with one of these is run as a formula by Excel, LibreOffice and WPS (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_MB = 1024 * 1024


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


def _first_sheet_path(archive: zipfile.ZipFile) -> str | None:
    """The zip member holding the workbook's first sheet, from xl/workbook.xml and its relationships."""
    try:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ParseError, DefusedXmlException, zipfile.BadZipFile):
        return None
    sheet = workbook.find(f"{_SHEET_NS}sheets/{_SHEET_NS}sheet")
    if sheet is None:
        return None
    rel_id = sheet.get(f"{_REL_NS}id")
    for rel in rels.iter(f"{_PKG_REL_NS}Relationship"):
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else "xl/" + target
    return None


def _declared_range(archive: zipfile.ZipFile, member: str) -> tuple[int, int] | None:
    """(rows, columns) of the sheet's `<dimension>`, read from the head of its XML (parsing stops at the data)."""
    try:
        with archive.open(member) as source:
            for _event, element in ElementTree.iterparse(source, events=("start",)):
                if element.tag == f"{_SHEET_NS}dimension":
                    min_col, min_row, max_col, max_row = range_boundaries(element.get("ref", ""))
                    if None in (min_col, min_row, max_col, max_row):
                        return None
                    return max_row, max_col
                if element.tag == f"{_SHEET_NS}sheetData":
                    return None
    except (KeyError, ParseError, DefusedXmlException, ValueError, TypeError, zipfile.BadZipFile):
        return None
    return None


def check_archive(data: bytes) -> None:
    """Refuse, before any XML is parsed, an xlsx that would inflate or spread beyond the limits above."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ValidationFailed(_("无法读取该电子表格,请确认是 .xlsx 文件")) from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise ValidationFailed(_("无法读取该电子表格,请确认是 .xlsx 文件"), details={"members": len(members)})
        declared = sum(m.file_size for m in members)
        if declared > MAX_UNCOMPRESSED_BYTES:
            raise ValidationFailed(
                _("表格解压后约%(size)dMB,超过%(limit)dMB上限,请删除无关内容或拆分后分批导入")
                % {"size": declared // _MB, "limit": MAX_UNCOMPRESSED_BYTES // _MB},
                details={"uncompressed_bytes": declared, "limit": MAX_UNCOMPRESSED_BYTES},
            )
        sheet = _first_sheet_path(archive)
        extent = _declared_range(archive, sheet) if sheet else None
    if extent is not None:
        rows, columns = extent
        if rows > MAX_SHEET_ROWS or columns > MAX_COLUMNS or rows * columns > MAX_CELLS:
            raise ValidationFailed(
                _("表格范围过大(%(rows)d行 × %(cols)d列),上限为%(max_rows)d行、%(max_cols)d列,请删除空白行列后再导入")
                % {"rows": rows, "cols": columns, "max_rows": MAX_SHEET_ROWS, "max_cols": MAX_COLUMNS},
                details={"rows": rows, "columns": columns},
            )


def _too_large(what: str) -> ValidationFailed:
    return ValidationFailed(
        _("表格范围过大,上限为%(max_rows)d行、%(max_cols)d列,请删除空白行列后再导入")
        % {"max_rows": MAX_SHEET_ROWS, "max_cols": MAX_COLUMNS},
        details={"exceeds": what},
    )


def read_rows(upload, columns: list[Column], *, allow_csv: bool = False) -> list[tuple[int, dict]]:
    """(row number as Excel shows it, {key: value}) for each non-empty row after the header row.

    Text with a control character (core/text.py) in any cell that is read refuses the whole upload, every such
    cell listed as a row error, before anything is saved. With `allow_csv`, a file that is not an xlsx is read as
    CSV (UTF-8, with or without BOM, or GB18030 as Chinese banks' systems write it), under the same limits."""
    if getattr(upload, "size", 0) > MAX_BYTES:
        raise ValidationFailed(_("文件超过10MB上限"))
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValidationFailed(_("文件超过10MB上限"))
    if not data.startswith(b"PK"):
        if allow_csv:
            return _csv_rows(data, columns)
        raise ValidationFailed(_("请上传 .xlsx 格式的电子表格(可先下载模板)"))
    check_archive(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, KeyError, ValueError, OSError, zipfile.BadZipFile, ParseError, DefusedXmlException):
        raise ValidationFailed(_("无法读取该电子表格,请确认是 .xlsx 文件")) from None
    try:
        return _rows_of(workbook, columns)
    except (zipfile.BadZipFile, ParseError, DefusedXmlException, ValueError, TypeError, OSError):
        # A member that inflates past its declared size fails its CRC check here; so does broken XML.
        raise ValidationFailed(_("无法读取该电子表格,请确认是 .xlsx 文件")) from None
    finally:
        workbook.close()


def _rows_of(workbook, columns: list[Column]) -> list[tuple[int, dict]]:
    if not workbook.worksheets:
        raise ValidationFailed(_("表格为空"))
    sheet = workbook.worksheets[0]
    # Every row the sheet holds, not only those inside its declared range (which may lie); each row padded to
    # MAX_COLUMNS + 1 at most (cells further right are never read: no column the platform asks for is there).
    sheet.reset_dimensions()
    return _records(sheet.iter_rows(max_col=MAX_COLUMNS + 1, values_only=True), columns)


def _records(rows, columns: list[Column]) -> list[tuple[int, dict]]:
    """The header row, then each non-empty row as {key: value}, checked for control characters."""
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
    bad_text: list[RowError] = []
    for number, values in enumerate(rows, start=2):
        if number > MAX_SHEET_ROWS:  # openpyxl fills in every missing row up to the next one the sheet holds
            raise _too_large("rows")
        if values is None or all(v is None or str(v).strip() == "" for v in values):
            continue
        if len(result) >= MAX_ROWS:
            raise ValidationFailed(_("一次最多导入%(n)d行") % {"n": MAX_ROWS})
        record = {}
        for c in columns:
            pos = positions.get(c.header)
            value = values[pos] if pos is not None and pos < len(values) else None
            if isinstance(value, str) and has_control_characters(value):
                bad_text.append(RowError(number, _("含有不允许的控制字符"), c.header))
            record[c.key] = value.strip() if isinstance(value, str) else value
        result.append((number, record))
    if bad_text:
        raise ValidationFailed(
            _("第%(row)d行“%(col)s”含有不允许的控制字符(共%(n)d处),请删除后重新导入")
            % {"row": bad_text[0].row, "col": bad_text[0].column, "n": len(bad_text)},
            details={"errors": [e.as_dict() for e in bad_text]},
        )
    return result


def _csv_rows(data: bytes, columns: list[Column]) -> list[tuple[int, dict]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValidationFailed(_("无法读取该文件:请上传 .xlsx 或 UTF-8/GBK 编码的 .csv 文件"))
    if "\x00" in text:
        raise ValidationFailed(_("无法读取该文件:请上传 .xlsx 或 UTF-8/GBK 编码的 .csv 文件"))
    try:
        table = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        raise ValidationFailed(_("无法读取该CSV文件,请检查引号与分隔符")) from None
    if len(table) > MAX_SHEET_ROWS or any(len(r) > MAX_COLUMNS for r in table):
        raise _too_large("csv")
    return _records(iter(table), columns)


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


def _text_cell(ws, value: object) -> object:
    """A value as an export cell: text that a spreadsheet would run as a formula becomes a string cell."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    if not value.startswith(FORMULA_START):
        return value
    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
    return cell


def csv_cell(value: object) -> object:
    """The same neutralisation for CSV, which has no cell types: a leading apostrophe, as OWASP recommends."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def template_workbook(columns: list[Column], title: str) -> bytes:
    """An empty workbook with the header row and one example row, for users to fill in."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    for i, c in enumerate(columns, start=1):
        ws.column_dimensions[_column_letter(i)].width = max(12, len(c.header) * 2 + 4)
    ws.append([_text_cell(ws, c.header) for c in columns])
    ws.append([_text_cell(ws, c.example) for c in columns])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def export_workbook(headers: list[str], rows, title: str) -> bytes:
    """Every export (score sheets, bank files, data reports, dashboards): formulas neutralised in every cell."""
    buf = io.BytesIO()
    write_workbook(buf, headers, rows, title)
    return buf.getvalue()


def write_workbook(target, headers: list[str], rows, title: str) -> None:
    """The same, written to a file as the rows come (openpyxl's write-only mode keeps no rows in memory)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    ws.append([_text_cell(ws, h) for h in headers])
    for row in rows:
        ws.append([_text_cell(ws, v) for v in row])
    wb.save(target)
