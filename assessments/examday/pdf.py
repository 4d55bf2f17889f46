"""The admission ticket (准考证) as an A4 PDF: WeasyPrint with the system's Noto CJK face (fonts-noto-cjk, which the
setup installs for certificates too), the photo and the QR code as data: URIs, nothing else fetched."""

import base64
import threading
from dataclasses import dataclass

import segno
from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

TEMPLATE = "assessments/examday/ticket_pdf.html"
STYLE = """
@page { size: A4; margin: 18mm 16mm; }
html { font-family: "Noto Sans CJK SC", "Noto Serif CJK SC", sans-serif; font-size: 11pt; color: #111; }
h1 { text-align: center; font-size: 22pt; letter-spacing: 0.4em; margin: 0 0 4mm; }
.sub { text-align: center; margin: 0 0 8mm; }
.head { position: relative; min-height: 42mm; }
.facts { margin-right: 40mm; }
.facts div { margin: 0 0 2.5mm; }
.facts b { display: inline-block; width: 24mm; }
.photo { position: absolute; right: 0; top: 0; width: 30mm; height: 40mm; border: 0.3mm solid #444; }
.photo img { width: 30mm; height: 40mm; object-fit: cover; }
.photo span { display: block; padding-top: 16mm; text-align: center; color: #777; }
table { width: 100%; border-collapse: collapse; margin: 6mm 0; }
th, td { border: 0.3mm solid #444; padding: 2mm; text-align: left; }
.qr { position: relative; margin-top: 6mm; min-height: 42mm; }
.qr img { position: absolute; right: 0; top: 0; width: 40mm; height: 40mm; }
.qr ol { margin-right: 46mm; padding-left: 5mm; font-size: 10pt; }
"""


@dataclass(frozen=True)
class TicketSession:
    name: str
    when: str
    room: str


@dataclass(frozen=True)
class TicketView:
    number: str
    seat: int
    holder_name: str
    id_number_display: str
    occupation: str
    level: str
    plan_title: str
    organisation: str
    venue: str
    sessions: tuple[TicketSession, ...]
    token: str
    photo: bytes | None


def qr_data_uri(token: str) -> str:
    svg = segno.make(token, error="m", micro=False).svg_data_uri(scale=1, border=4)
    return svg


def _photo_uri(photo: bytes) -> str:
    kind = "image/png" if photo.startswith(b"\x89PNG") else "image/jpeg"
    return f"data:{kind};base64,{base64.b64encode(photo).decode('ascii')}"


_local = threading.local()


def _resources() -> tuple[FontConfiguration, CSS]:
    if getattr(_local, "resources", None) is None:
        config = FontConfiguration()
        _local.resources = (config, CSS(string=STYLE, font_config=config))
    return _local.resources


def render_ticket(view: TicketView) -> bytes:
    with translation.override("zh-hans"):
        html = render_to_string(
            TEMPLATE,
            {"t": view, "qr": qr_data_uri(view.token), "photo": _photo_uri(view.photo) if view.photo else None},
        )
    config, css = _resources()
    # Only data: URIs (photo, QR): a crafted field can never make the renderer fetch a URL or read a file.
    document = HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=("data",))).render(
        font_config=config, stylesheets=[css]
    )
    return document.write_pdf()
