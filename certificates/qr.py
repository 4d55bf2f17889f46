"""QR codes for the certificate's verification link.

The printed certificate uses the SVG form: it is drawn as one vector path, so it stays sharp on any printer
and costs WeasyPrint less than decoding and re-encoding a bitmap. The PNG form is for screens and e-mail.
"""

from __future__ import annotations

import io

import segno

#: Level M (15 % recovery) keeps a ~140-character link at version 9 (53 modules), which still reads from
#: 3 cm of paper; segno raises the level further when that costs no extra modules.
ERROR_LEVEL = "m"

#: The standard asks for a four-module quiet zone; it is part of the image so no layout can eat it.
QUIET_ZONE = 4


def _make(url: str) -> segno.QRCode:
    return segno.make(url, error=ERROR_LEVEL, micro=False)


def qr_svg(url: str, *, dark: str = "#000") -> str:
    """Inline SVG markup (no XML declaration, no fixed size): the surrounding CSS decides the size."""
    return _make(url).svg_inline(scale=1, border=QUIET_ZONE, omitsize=True, dark=dark)


def qr_png(url: str, *, scale: int = 8) -> bytes:
    """PNG bytes, `scale` pixels per module."""
    buffer = io.BytesIO()
    _make(url).save(buffer, kind="png", scale=scale, border=QUIET_ZONE)
    return buffer.getvalue()
