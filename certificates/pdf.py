"""The printed certificate (职业技能等级证书) as PDF, from a plain `CertificateView`.

Speed comes from a few choices, each measured with bench/bench_pdf.py:

* the font is a prepared GB 2312 cut of Noto Serif CJK SC (`certificates.fonts`) instead of the
  65,535-glyph system face, so WeasyPrint's per-document subsetting is cheap and the PDF small;
* the FontConfiguration and the parsed stylesheets are built once per thread and reused: fontconfig does not
  rescan and WeasyPrint does not copy the font files into a fresh temporary folder for every certificate;
* the layout uses positioned blocks, not tables (fewer boxes: faster, and less memory in a batch);
* the QR code is one inline SVG path: vector on paper, and no bitmap to decode and re-encode.

A holder whose name has a character outside the prepared font (堃, 䶮, 𠇔) still gets a correct certificate:
that document is rendered with the system Noto CJK family listed after the prepared one, and Pango takes only
the missing glyphs from it (one more embedded, subset font, about 0.04 s more).
"""

from __future__ import annotations

import base64
import io
import logging
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader, PdfWriter
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from core.errors import ValidationFailed

from . import fonts
from .qr import qr_svg

logger = logging.getLogger(__name__)

TEMPLATE = "certificates/certificate_pdf.html"
STYLESHEET = Path(__file__).parent / "templates" / "certificates" / "certificate_pdf.css"

#: The certificate is an official Chinese document, printed in Chinese whatever language the person who
#: asks for it browses in.
CERTIFICATE_LANGUAGE = "zh-hans"

#: Photos larger than this are resampled when embedded; 300 dpi is what a printer can show.
IMAGE_DPI = 300

#: A batch is laid out this many certificates at a time and the parts are joined: WeasyPrint keeps every
#: laid-out page in memory until it writes (about 0.8 MB a page), so 1,000 pages in one go peak at 1 GB.
BATCH_CHUNK = 100


class CertificateUnprintable(ValidationFailed):
    """The certificate cannot be printed faithfully: no installed font has some character of it."""

    code = "certificate_unprintable"
    default_message = _("证书中有字符无法用已安装的字体打印")


class CertificatePhotoInvalid(ValidationFailed):
    code = "certificate_photo_invalid"
    default_message = _("证书照片不是可识别的图片")


#: The national query addresses (人社鉴发〔2021〕1号): certificates, and evaluation organisations.
CERTIFICATE_QUERY_URL = "http://jndj.osta.org.cn"
ORGANISATION_QUERY_URL = "http://pjjg.osta.org.cn"


@dataclass(frozen=True, slots=True)
class CertificateView:
    """Everything printed on one certificate, already formatted for print by the caller.

    `title`, `level_caption` and `issuer_caption` differ by kind of certificate (a pre-reform 职业资格证书 keeps its
    own title); `status_mark` ("已撤销") and `status_note` stamp a certificate that is no longer valid across the
    page; `seal` is the issuing organisation's seal image (PNG), printed where the national layout stamps it.
    """

    holder_name: str
    id_type_label: str
    id_number_display: str
    photo: bytes | None
    occupation_name: str
    work_type: str
    level_label: str
    number: str
    organisation_name: str
    issue_date: date
    verify_url: str
    notes: tuple[str, ...] = field(default_factory=tuple)
    title: str = "职业技能等级证书"
    level_caption: str = "职业技能等级"
    issuer_caption: str = "评价机构名称"
    status_mark: str = ""
    status_note: str = ""
    seal: bytes | None = None
    ecert_id: str = ""


def format_issue_date(value: date) -> str:
    """2026年11月29日: no leading zeros, as certificates print it."""
    return f"{value.year}年{value.month}月{value.day}日"


def _image_data_uri(image_bytes: bytes) -> str:
    """Sniff the image's format (only the header is read) so the data URI carries the right type."""
    try:
        with Image.open(io.BytesIO(image_bytes)) as image:
            mime = Image.MIME.get(image.format or "", "")
    except UnidentifiedImageError as error:
        raise CertificatePhotoInvalid() from error
    if mime not in ("image/jpeg", "image/png"):
        raise CertificatePhotoInvalid()
    return f"data:{mime};base64,{base64.b64encode(image_bytes).decode('ascii')}"


#: One line of each field holds this many em at its normal size (from the CSS boxes: 78 mm beside the photo,
#: 112 mm below it or when there is no photo), and the normal size in points.
_FIELD_BOXES: dict[str, tuple[float, float]] = {
    "holder_name": (12.5, 16),
    "id_type_label": (16.5, 13),
    "id_number_display": (16.5, 13),
    "occupation_name": (23.5, 13),
    "work_type": (23.5, 13),
    "organisation_name": (23.5, 13),
}
_SMALL_PT = 11


def _em_width(text: str) -> float:
    """Approximate advance in em: CJK and full-width characters are square, Latin about 0.6."""
    return sum(1.0 if ord(char) >= 0x2E80 else 0.6 for char in text)


def _fit(text: str, capacity_em: float, size_pt: float) -> str:
    """CSS class that keeps a long value inside its row: "" as is, "small" on one line, "wrap" on two."""
    width = _em_width(text)
    if width <= capacity_em:
        return ""
    if width <= capacity_em * size_pt / _SMALL_PT:
        return "small"
    return "wrap"


_HOLDER_FIELDS_WITHOUT_PHOTO = {"holder_name": (17.5, 16), "id_type_label": (23.5, 13), "id_number_display": (23.5, 13)}


def _context_item(view: CertificateView) -> dict[str, Any]:
    work_type = view.work_type.strip() or "--"
    values = {name: getattr(view, name) for name in _FIELD_BOXES} | {"work_type": work_type}
    boxes = _FIELD_BOXES if view.photo else _FIELD_BOXES | _HOLDER_FIELDS_WITHOUT_PHOTO
    return {
        "view": view,
        "work_type": work_type,
        "issue_date": format_issue_date(view.issue_date),
        "qr_svg": qr_svg(view.verify_url),
        "photo_uri": _image_data_uri(view.photo) if view.photo else None,
        "seal_uri": _image_data_uri(view.seal) if view.seal else None,
        "fit": {name: _fit(values[name], *box) for name, box in boxes.items()},
        "certificate_query_url": CERTIFICATE_QUERY_URL,
        "organisation_query_url": ORGANISATION_QUERY_URL,
    }


def render_html(views: list[CertificateView]) -> str:
    """The certificate markup; exposed for previews and tests."""
    with translation.override(CERTIFICATE_LANGUAGE):
        return render_to_string(TEMPLATE, {"certificates": [_context_item(view) for view in views]})


class _Renderer:
    """WeasyPrint state that is expensive to build and safe to reuse between documents of one thread.

    Pango's font map is not thread-safe, so each thread gets its own (see `_renderer()`).
    """

    def __init__(self) -> None:
        if not _harfbuzz_subset_available():
            logger.warning(
                "WeasyPrint cannot load libharfbuzz-subset (>= 4.1) and subsets fonts with fontTools: "
                "each certificate will take about a second. Install the Debian package libharfbuzz-subset0."
            )
        prepared = fonts.ensure_font()
        self.source_family = prepared.source_family
        self.covered = fonts.covered_codepoints(prepared.regular) & fonts.covered_codepoints(prepared.bold)
        self.font_config = FontConfiguration()
        font_faces = "".join(
            f'@font-face {{ font-family: "{fonts.FAMILY}"; src: url("{path.as_uri()}"); font-weight: {weight}; }}\n'
            for path, weight in ((prepared.regular, 400), (prepared.bold, 700))
        )
        # Only our own font files may be read while parsing the stylesheet; the document itself may only
        # use data: URIs (photo), so a crafted field can never make the renderer fetch a URL or a file.
        self.stylesheet = CSS(
            string=font_faces + STYLESHEET.read_text(encoding="utf-8"),
            font_config=self.font_config,
            url_fetcher=URLFetcher(allowed_protocols=("file",)),
        )
        self.fast_family = CSS(string=f'html {{ font-family: "{fonts.FAMILY}"; }}', font_config=self.font_config)
        self.fallback_family = CSS(
            string=f'html {{ font-family: "{fonts.FAMILY}", "{self.source_family}"; }}', font_config=self.font_config
        )
        self.html_fetcher = URLFetcher(allowed_protocols=("data",))

    def missing(self, text: str) -> set[str]:
        """Characters of `text` that the prepared font cannot draw."""
        return {char for char in set(text) if ord(char) not in self.covered and not char.isspace()}

    def write_pdf(self, html: str) -> bytes:
        family = self.fast_family
        if missing := self.missing(html):
            unprintable = {char for char in missing if ord(char) not in fonts.family_codepoints(self.source_family)}
            if unprintable:
                raise CertificateUnprintable(details={"characters": "".join(sorted(unprintable))})
            logger.info("certificate uses %s for rare characters %s", self.source_family, "".join(sorted(missing)))
            family = self.fallback_family
        document = HTML(string=html, url_fetcher=self.html_fetcher).render(
            font_config=self.font_config, stylesheets=[self.stylesheet, family], dpi=IMAGE_DPI
        )
        return document.write_pdf()


_local = threading.local()


def _renderer() -> _Renderer:
    renderer = getattr(_local, "renderer", None)
    if renderer is None:
        renderer = _local.renderer = _Renderer()
    return renderer


def uses_fallback_font(view: CertificateView) -> bool:
    """Whether this certificate needs the slower path (a character outside the prepared font)."""
    return bool(_renderer().missing(render_html([view])))


def render_certificate(view: CertificateView) -> bytes:
    """One certificate as a one-page A4 PDF with embedded fonts."""
    return _renderer().write_pdf(render_html([view]))


def render_batch(views: list[CertificateView], *, chunk_size: int = BATCH_CHUNK) -> bytes:
    """Many certificates as ONE PDF, one per page, for the organisation's printer.

    Rendered `chunk_size` certificates at a time and joined with pypdf, so memory stays flat however large
    the batch; each part embeds its own font subset (about 80 KB per 100 pages).
    """
    if not views:
        raise ValueError("render_batch needs at least one certificate")
    renderer = _renderer()
    if len(views) <= chunk_size:
        return renderer.write_pdf(render_html(views))
    writer = PdfWriter()
    for start in range(0, len(views), chunk_size):
        part = renderer.write_pdf(render_html(views[start : start + chunk_size]))
        writer.append(PdfReader(io.BytesIO(part)))
    with translation.override(CERTIFICATE_LANGUAGE):
        writer.add_metadata({"/Title": str(_("职业技能等级证书")), "/Producer": "WeasyPrint, pypdf"})
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def _harfbuzz_subset_available() -> bool:
    """WeasyPrint's fast subsetting path needs libharfbuzz-subset; without it a certificate takes seconds."""
    from weasyprint.text import ffi

    harfbuzz_subset = getattr(ffi, "harfbuzz_subset", None)
    return bool(harfbuzz_subset) and bool(ffi.harfbuzz.hb_version_atleast(4, 1, 0))
