"""The printed certificate, checked the way a reader, a printer and a phone see it: poppler's pdfinfo,
pdffonts, pdftotext and pdftoppm, and zxing-cpp scanning the QR code off the rendered page."""

from __future__ import annotations

import datetime
import io
import logging
import multiprocessing
import subprocess
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import factory
import pytest
import uharfbuzz as hb
import zxingcpp
from django.utils import translation
from PIL import Image

from certificates import fonts
from certificates.pdf import (
    CertificatePhotoInvalid,
    CertificateUnprintable,
    CertificateView,
    render_batch,
    render_certificate,
    render_html,
    uses_fallback_font,
)
from certificates.qr import qr_png, qr_svg

VERIFY_URL = (
    "http://127.0.0.1:8000/v/k1.S000022000102263000001."
    "eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.Qx2v7m3Kp9ZcL0aWnT4yHf8sRjU1bE6dGiO5_-NtYlVqMwXe3rAoBhCkDuFgIsPz"
)


def _jpeg_photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (295, 413), (240, 240, 240)).save(buffer, "JPEG")
    return buffer.getvalue()


class CertificateViewFactory(factory.Factory):
    class Meta:
        model = CertificateView

    holder_name = "张晓明"
    id_type_label = "居民身份证"
    id_number_display = "220102********1234"
    photo = factory.LazyFunction(_jpeg_photo)
    occupation_name = "电工"
    work_type = "--"
    level_label = "三级/高级工"
    number = factory.Sequence(lambda n: f"S000022000102263{n + 1:06d}")
    organisation_name = "长春市职业技能鉴定中心"
    issue_date = datetime.date(2026, 11, 29)
    verify_url = VERIFY_URL
    notes = ()


def _run(*command: str | Path) -> str:
    return subprocess.run([str(part) for part in command], check=True, capture_output=True, text=True).stdout


def _write(tmp_path: Path, data: bytes, name: str = "certificate.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _page_count(path: Path) -> int:
    line = next(line for line in _run("pdfinfo", path).splitlines() if line.startswith("Pages:"))
    return int(line.split()[1])


def _fonts(path: Path) -> list[tuple[str, str]]:
    """(name, emb) for each font pdffonts lists; the type column has spaces, so count from the right."""
    rows = _run("pdffonts", path).splitlines()[2:]
    return [(row.split()[0], row.split()[-5]) for row in rows if row.strip()]


def _text(path: Path) -> str:
    return _run("pdftotext", "-enc", "UTF-8", path, "-")


@pytest.fixture(scope="session")
def prepared_fonts() -> fonts.CertificateFonts:
    """Built once (or found in the cache) for the whole session."""
    return fonts.ensure_font()


@pytest.fixture(scope="session")
def certificate(prepared_fonts, tmp_path_factory) -> Path:
    view = CertificateViewFactory(number="S000022000102263000001")
    return _write(tmp_path_factory.mktemp("pdf"), render_certificate(view))


def test_it_is_one_a4_page(certificate):
    info = _run("pdfinfo", certificate)
    assert _page_count(certificate) == 1
    assert "595.276 x 841.89 pts (A4)" in info


def test_every_font_is_embedded(certificate):
    listed = _fonts(certificate)
    assert listed, "the certificate has text, so it must carry fonts"
    assert all(emb == "yes" for _, emb in listed), listed
    assert all("Skillcert-Serif" in name for name, _ in listed), "common text must use the prepared font"


def test_its_text_can_be_extracted(certificate):
    text = _text(certificate)
    for printed in (
        "职业技能等级证书",
        "张晓明",
        "居民身份证",
        "220102********1234",
        "电工",
        "三级/高级工",
        "S000022000102263000001",
        "长春市职业技能鉴定中心",
        "2026年11月29日",
        "证书查询:http://jndj.osta.org.cn",
        "评价机构查询:http://pjjg.osta.org.cn",
        "掌上12333",
    ):
        assert printed in text, printed


def test_its_qr_code_scans_to_the_verify_url(certificate, tmp_path):
    _run("pdftoppm", "-r", "150", "-png", "-singlefile", certificate, tmp_path / "page")
    results = zxingcpp.read_barcodes(Image.open(tmp_path / "page.png"))
    assert [result.text for result in results] == [VERIFY_URL]


def test_the_old_query_address_is_gone(certificate):
    assert "www.osta.org.cn" not in _text(certificate)


def test_a_missing_photo_leaves_no_empty_box(prepared_fonts, tmp_path):
    with_photo = _write(tmp_path, render_certificate(CertificateViewFactory()), "with.pdf")
    without = _write(tmp_path, render_certificate(CertificateViewFactory(photo=None)), "without.pdf")
    assert len(_run("pdfimages", "-list", with_photo).splitlines()[2:]) == 1
    assert _run("pdfimages", "-list", without).splitlines()[2:] == []
    text = _text(without)
    assert "照片" not in text and "一寸白底" not in text
    assert '<div class="photo' not in render_html([CertificateViewFactory(photo=None)])
    # The holder's rows take the width the photo had: the same name stays on one line at full size.
    assert "no-photo" in render_html([CertificateViewFactory(photo=None)])


def test_a_pre_reform_qualification_keeps_its_own_title_and_labels(prepared_fonts, tmp_path):
    view = CertificateViewFactory(
        title="职业资格证书", level_caption="职业资格等级", issuer_caption="发证机构", level_label="三级/高级工"
    )
    text = _text(_write(tmp_path, render_certificate(view)))
    assert text.startswith("职业资格证书")
    assert "职业技能等级证书" not in text and "职业技能等级" not in text
    assert "职业资格等级" in text and "发证机构" in text


def test_a_revoked_certificate_is_marked_across_the_page(prepared_fonts, tmp_path):
    view = CertificateViewFactory(status_mark="已撤销", status_note="本证书已于2026年12月1日撤销:考试作弊。")
    path = _write(tmp_path, render_certificate(view))
    text = _text(path)
    assert "本证书已于2026年12月1日撤销:考试作弊。" in text
    assert _page_count(path) == 1
    # The mark is drawn in red over the middle of the page, where the printed fields are.
    _run("pdftoppm", "-r", "40", "-png", "-singlefile", path, tmp_path / "void")
    _run(
        "pdftoppm",
        "-r",
        "40",
        "-png",
        "-singlefile",
        _write(tmp_path, render_certificate(CertificateViewFactory()), "ok.pdf"),
        tmp_path / "ok",
    )

    def reddish(name: str) -> int:
        image = Image.open(tmp_path / name).convert("RGB")
        w, h = image.size
        middle = image.crop((0, h // 3, w, 2 * h // 3))
        return sum(1 for r, g, b in middle.get_flattened_data() if r > 150 and r - g > 50 and r - b > 50)

    assert reddish("void.png") > reddish("ok.png") + 500


def test_an_empty_work_type_prints_dashes(prepared_fonts, tmp_path):
    path = _write(tmp_path, render_certificate(CertificateViewFactory(work_type=" ")))
    assert _text(path).split("工种/职业方向")[1].split()[0] == "--"


def test_a_long_organisation_name_stays_on_one_page_in_full(prepared_fonts, tmp_path):
    name = "吉林省长春市朝阳区某某职业技能培训学校有限责任公司（社会培训评价组织）第一分校"
    path = _write(tmp_path, render_certificate(CertificateViewFactory(organisation_name=name)))
    assert _page_count(path) == 1
    assert name in "".join(_text(path).split())


def test_notes_are_printed(prepared_fonts, tmp_path):
    path = _write(tmp_path, render_certificate(CertificateViewFactory(notes=("本证书为补发证书。",))))
    assert "本证书为补发证书。" in _text(path)


def test_common_names_take_the_fast_path(prepared_fonts):
    assert not uses_fallback_font(CertificateViewFactory(holder_name="欧阳娜娜"))
    assert not uses_fallback_font(CertificateViewFactory(holder_name="买买提·艾力"))


@pytest.mark.parametrize("name", ["李䶮", "王𠇔明", "张堃"])
def test_a_rare_character_falls_back_to_the_system_font(prepared_fonts, tmp_path, name):
    view = CertificateViewFactory(holder_name=name)
    notdef = _RecordingHandler()
    logging.getLogger("weasyprint").addHandler(notdef)
    try:
        path = _write(tmp_path, render_certificate(view))
    finally:
        logging.getLogger("weasyprint").removeHandler(notdef)

    assert uses_fallback_font(view)
    assert not [message for message in notdef.messages if ".notdef" in message], notdef.messages
    assert name in _text(path)
    listed = _fonts(path)
    assert all(emb == "yes" for _, emb in listed), listed
    assert any("Noto-Serif-CJK-SC" in font for font, _ in listed), "the rare glyph comes from the system face"
    assert any("Skillcert-Serif" in font for font, _ in listed), "the rest still uses the prepared font"


def test_a_character_no_installed_font_has_is_refused(prepared_fonts):
    with pytest.raises(CertificateUnprintable) as raised:
        render_certificate(CertificateViewFactory(holder_name="王\U000f0000"))
    assert raised.value.details == {"characters": "\U000f0000"}


def test_a_photo_that_is_not_an_image_is_refused(prepared_fonts):
    with pytest.raises(CertificatePhotoInvalid):
        render_certificate(CertificateViewFactory(photo=b"not an image"))


def test_it_prints_chinese_whatever_language_the_user_browses_in(prepared_fonts):
    with translation.override("en"):
        html = render_html([CertificateViewFactory()])
    assert "职业技能等级证书" in html
    assert "证书编号" in html


def test_a_batch_is_one_pdf_with_a_page_per_certificate(prepared_fonts, tmp_path):
    views = CertificateViewFactory.build_batch(3)
    path = _write(tmp_path, render_batch(views))
    assert _page_count(path) == 3
    text = _text(path)
    assert all(view.number in text for view in views)


def test_a_batch_larger_than_a_chunk_is_joined_in_order(prepared_fonts, tmp_path):
    views = CertificateViewFactory.build_batch(3)
    path = _write(tmp_path, render_batch(views, chunk_size=2))
    assert _page_count(path) == 3
    assert _run("pdfinfo", "-f", "1", "-l", "3", path).count("595.276 x 841.89 pts (A4)") == 3
    assert all(emb == "yes" for _, emb in _fonts(path))
    pages = [_run("pdftotext", "-f", str(page), "-l", str(page), path, "-") for page in (1, 2, 3)]
    assert [view.number in page for view, page in zip(views, pages, strict=True)] == [True, True, True]


def test_an_empty_batch_is_an_error(prepared_fonts):
    with pytest.raises(ValueError):
        render_batch([])


def test_qr_png_scans_to_the_url():
    image = Image.open(io.BytesIO(qr_png(VERIFY_URL)))
    assert [result.text for result in zxingcpp.read_barcodes(image)] == [VERIFY_URL]


def test_qr_svg_is_inline_markup_sized_by_css():
    svg = qr_svg(VERIFY_URL)
    assert svg.startswith("<svg") and "viewBox" in svg
    assert "<?xml" not in svg and "width=" not in svg


class TestEnsureFont:
    def test_it_builds_a_small_font_that_covers_gb2312(self, settings, tmp_path):
        settings.VAR_DIR = tmp_path
        built = fonts.ensure_font()
        assert built.regular.parent == tmp_path / "fonts"
        for path in (built.regular, built.bold):
            face = hb.Face(hb.Blob.from_file_path(str(path)))
            assert face.glyph_count < 8000
            assert {ord(char) for char in "职业技能等级证书张晓明齄"} <= set(face.unicodes)
        assert built.source_family == "Noto Serif CJK SC"

    def test_it_is_idempotent(self, settings, tmp_path):
        settings.VAR_DIR = tmp_path
        first = fonts.ensure_font()
        modified = first.regular.stat().st_mtime_ns
        assert fonts.ensure_font() == first
        assert first.regular.stat().st_mtime_ns == modified

    def test_two_processes_building_at_once_both_get_a_whole_font(self, settings, tmp_path):
        settings.VAR_DIR = tmp_path
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
            results = [pool.submit(fonts.ensure_font) for _ in range(2)]
            built = [result.result() for result in results]
        assert built[0] == built[1]
        assert hb.Face(hb.Blob.from_file_path(str(built[0].regular))).glyph_count > 7000
        assert sorted(path.name for path in (tmp_path / "fonts").iterdir()) == [
            built[0].bold.name,
            built[0].regular.name,
            f"certificate-source-{fonts.RECIPE}.txt",
        ], "no temporary file is left behind"

    def test_without_a_source_font_it_names_the_debian_package(self, settings, tmp_path, monkeypatch):
        settings.VAR_DIR = tmp_path
        monkeypatch.setattr(fonts, "SEARCH_DIRS", (tmp_path / "nowhere",))
        with pytest.raises(fonts.FontUnavailableError, match="fonts-noto-cjk"):
            fonts.ensure_font()


class _RecordingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
