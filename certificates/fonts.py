"""The certificate's typeface: a small CJK font cut once from the system's Noto CJK.

WeasyPrint embeds every font it uses, subset to the glyphs on the page. Pointed at the system's Noto CJK
collection (20-27 MB .ttc files, 65,535 glyphs per face), each render subsets a huge face: fine with
HarfBuzz, 7-8 s where WeasyPrint has to fall back to fontTools (no libharfbuzz-subset >= 4.1). WeasyPrint
also keeps glyph ids when subsetting, so the embedded font carries metrics up to the highest glyph id used:
the size of the source face shows up in every PDF.

So we cut the GB 2312 repertoire (6,763 hanzi, the set every Chinese system has covered since 1981, plus
ASCII and CJK punctuation) into a 7,600-glyph font. Measured with the certificate template: 0.08 s and 80 KB
per PDF, against 0.10 s / 165 KB for a GBK cut (21,886 characters) and 0.17 s / 245 KB for the system face;
under fontTools subsetting 1.1 s against 2.4 s and 8 s.

A character outside that repertoire (堃 and 喆 in names, 䶮 in Extension A, 𠇔 in Extension B) is still
printed correctly: `certificates.pdf` notices it and lets the system face supply just those glyphs.

The cut is done with HarfBuzz's subsetter (uharfbuzz): about 0.15 s per face, where fontTools needs 7 s or
more. It is cached under ``settings.VAR_DIR / "fonts"``.
"""

from __future__ import annotations

import functools
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import uharfbuzz as hb
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

#: Bump when the repertoire or the subsetting flags change, so that stale caches are not reused.
RECIPE = "gb2312-1"

#: Family name that the certificate's CSS uses for the prepared font.
FAMILY = "Skillcert Serif"

#: The typeface the prepared font is cut from, in order of preference, with the .ttc collections that hold it.
#: Serif first: it is the face of official documents; Sans is an acceptable stand-in.
SOURCE_FAMILIES: tuple[tuple[str, dict[str, str]], ...] = (
    (
        "Noto Serif CJK SC",
        {"regular": "NotoSerifCJK-Regular.ttc", "bold": "NotoSerifCJK-Bold.ttc"},
    ),
    (
        "Noto Sans CJK SC",
        {"regular": "NotoSansCJK-Regular.ttc", "bold": "NotoSansCJK-Bold.ttc"},
    ),
)

#: Where Debian's fonts-noto-cjk (and a hand install) put the collections.
SEARCH_DIRS: tuple[Path, ...] = (
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/share/fonts/opentype/noto-cjk"),
    Path("/usr/share/fonts/noto-cjk"),
    Path("/usr/local/share/fonts"),
)


class FontUnavailableError(ImproperlyConfigured):
    """No source CJK font is installed, so no certificate can be printed."""


@dataclass(frozen=True, slots=True)
class CertificateFonts:
    """The prepared font files and the system family they were cut from (used for rare characters)."""

    regular: Path
    bold: Path
    source_family: str


def font_dir() -> Path:
    return Path(settings.VAR_DIR) / "fonts"


def repertoire() -> frozenset[int]:
    """Code points kept in the prepared font: GB 2312, ASCII, and the punctuation a certificate may print."""
    codepoints: set[int] = set(range(0x20, 0x7F))
    codepoints.update(range(0x3000, 0x3040))  # CJK symbols and punctuation
    codepoints.update(range(0xFF01, 0xFF5F))  # fullwidth forms
    codepoints.update(range(0x2010, 0x2027))  # dashes, quotes, ellipsis
    codepoints.update((0x00B7, 0x00D7, 0x2116, 0x25A1))  # · × № □
    for lead in range(0xA1, 0xF8):
        for trail in range(0xA1, 0xFF):
            try:
                text = bytes((lead, trail)).decode("gb2312")
            except UnicodeDecodeError:
                continue
            codepoints.add(ord(text))
    return frozenset(codepoints)


def _find_source() -> tuple[str, dict[str, tuple[Path, int]]]:
    """Locate the SC face of a Noto CJK collection, as (family, {weight: (file, face index)})."""
    for family, files in SOURCE_FAMILIES:
        found: dict[str, tuple[Path, int]] = {}
        for weight, filename in files.items():
            for directory in SEARCH_DIRS:
                path = directory / filename
                if path.is_file():
                    index = _face_index(path, family)
                    if index is not None:
                        found[weight] = (path, index)
                        break
        if len(found) == len(files):
            return family, found
    raise FontUnavailableError(
        "No Noto CJK font found to print certificates with (looked for "
        + ", ".join(name for _, files in SOURCE_FAMILIES for name in files.values())
        + " in "
        + ", ".join(str(d) for d in SEARCH_DIRS)
        + "). Install the Debian package fonts-noto-cjk: apt-get install fonts-noto-cjk"
    )


def _face_index(path: Path, family: str) -> int | None:
    blob = hb.Blob.from_file_path(str(path))
    for index in range(hb.Face(blob).count):
        if hb.Face(blob, index).get_name(hb.OTNameIdPredefined.FONT_FAMILY) == family:
            return index
    return None


def _cut(source: Path, index: int, codepoints: frozenset[int]) -> bytes:
    """Subset one face to `codepoints`, without hinting (WeasyPrint strips it from embedded fonts anyway)
    and without OpenType layout features: none apply to horizontal Chinese, and their closure would pull in
    thousands of alternate glyphs (13,000 instead of 7,600 for GB 2312)."""
    face = hb.Face(hb.Blob.from_file_path(str(source)), index)
    subset_input = hb.SubsetInput()
    subset_input.unicode_set.update(codepoints)
    subset_input.flags = hb.SubsetFlags.NO_HINTING
    subset_input.sets(hb.SubsetInputSets.LAYOUT_FEATURE_TAG).clear()
    result = hb.subset(face, subset_input)
    if result is None:
        raise FontUnavailableError(f"HarfBuzz could not subset {source} (face {index})")
    return result.blob.data


def _write_atomically(path: Path, data: bytes) -> None:
    """Two processes may build at once: each writes its own temporary file and renames it into place,
    so a reader never sees a half-written font."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; the web and worker users must read it
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def ensure_font() -> CertificateFonts:
    """Return the prepared fonts, building them on first use (about half a second). Idempotent."""
    directory = font_dir()
    paths = {weight: directory / f"certificate-{weight}-{RECIPE}.otf" for weight in ("regular", "bold")}
    family_file = directory / f"certificate-source-{RECIPE}.txt"
    if all(path.is_file() for path in paths.values()) and family_file.is_file():
        return CertificateFonts(paths["regular"], paths["bold"], family_file.read_text().strip())

    family, sources = _find_source()
    directory.mkdir(parents=True, exist_ok=True)
    codepoints = repertoire()
    for weight, path in paths.items():
        if not path.is_file():
            source, index = sources[weight]
            _write_atomically(path, _cut(source, index, codepoints))
    _write_atomically(family_file, family.encode())
    return CertificateFonts(paths["regular"], paths["bold"], family)


@functools.cache
def covered_codepoints(path: Path) -> frozenset[int]:
    """Code points a font file maps, read once per process; used to route rare characters."""
    return frozenset(hb.Face(hb.Blob.from_file_path(str(path))).unicodes)


@functools.cache
def family_codepoints(family: str) -> frozenset[int]:
    """Code points of an installed source family (regular face), to tell a rare character we can print
    from one that no installed font has."""
    for known_family, files in SOURCE_FAMILIES:
        if known_family != family:
            continue
        for directory in SEARCH_DIRS:
            path = directory / files["regular"]
            if path.is_file() and (index := _face_index(path, family)) is not None:
                return frozenset(hb.Face(hb.Blob.from_file_path(str(path)), index).unicodes)
    return frozenset()
