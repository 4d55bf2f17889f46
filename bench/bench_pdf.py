"""Benchmark certificate PDF rendering: `.venv/bin/python bench/bench_pdf.py [--n 1000] [--fonttools]`.

Reports the cold font build, single on-demand renders, a run of separate PDFs in one process (one worker),
one many-page batch PDF, and for comparison the straightforward approach (system font, nothing reused); and the
same with the PAdES signature every PDF handed out carries (certificates/docsign.py), ECDSA and, for the regions
that chose 国密, SM2 with SM3, beside the unsigned figures.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.test import override_settings  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from certificates import docsign, fonts, pdf  # noqa: E402
from certificates.pdf import CertificateView, render_batch, render_certificate  # noqa: E402

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["晓明", "芳", "建国", "丽华", "伟", "秀英", "志强", "静", "海燕", "俊杰", "雪梅", "国庆"]
OCCUPATIONS = ["电工", "焊工", "茶艺师", "保育师", "养老护理员", "中式烹调师", "工业机器人系统操作员"]


def _photo() -> bytes:
    """A 295 x 413 px JPEG (one inch at 300 dpi), like a real ID photo."""
    image = Image.new("RGB", (295, 413), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((80, 60, 215, 230), fill=(230, 200, 180))
    draw.rectangle((40, 250, 255, 413), fill=(40, 60, 110))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def make_views(count: int) -> list[CertificateView]:
    photo = _photo()
    views = []
    for i in range(count):
        number = f"S000022000102263{i:06d}"
        views.append(
            CertificateView(
                holder_name=SURNAMES[i % len(SURNAMES)] + GIVEN[i % len(GIVEN)],
                id_type_label="居民身份证",
                id_number_display=f"2201021990{i % 12 + 1:02d}01****",
                photo=photo,
                occupation_name=OCCUPATIONS[i % len(OCCUPATIONS)],
                work_type="--",
                level_label="三级/高级工",
                number=number,
                organisation_name="长春市职业技能鉴定中心有限公司",
                issue_date=date(2026, 11, 29),
                verify_url=f"http://127.0.0.1:8000/v/k1.{number}.{'eyJhbGciOiJFZERTQSJ9' * 3}.{'x9Tq' * 15}",
            )
        )
    return views


def _timed(function: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def _peak_rss_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _naive_render(view: CertificateView) -> bytes:
    """What one writes first: the system font by family name, a new HTML/CSS/FontConfiguration per call."""
    from weasyprint import CSS, HTML

    stylesheet = pdf.STYLESHEET.read_text(encoding="utf-8") + 'html { font-family: "Noto Serif CJK SC"; }'
    return HTML(string=pdf.render_html([view])).write_pdf(stylesheets=[CSS(string=stylesheet)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000, help="certificates in the run and in the batch PDF")
    parser.add_argument("--singles", type=int, default=30, help="single renders to time")
    parser.add_argument(
        "--fonttools", action="store_true", help="also time renders with WeasyPrint's fontTools subsetting"
    )
    args = parser.parse_args()
    # The project logs at INFO; WeasyPrint's progress messages (7 per document) would flood the output.
    for name in ("weasyprint", "weasyprint.progress", "certificates"):
        logging.getLogger(name).setLevel(logging.WARNING)

    rows: list[tuple[str, str]] = []

    with tempfile.TemporaryDirectory() as scratch, override_settings(VAR_DIR=Path(scratch)):
        cold_build, _ = _timed(fonts.ensure_font)
        warm_check, _ = _timed(fonts.ensure_font)
    rows.append(("font build, cold (2 faces, uharfbuzz)", f"{cold_build:.2f} s"))
    rows.append(("ensure_font() when cached", f"{warm_check * 1000:.2f} ms"))
    fonts.ensure_font()

    views = make_views(max(args.n, args.singles))
    first, _ = _timed(lambda: render_certificate(views[0]))
    rows.append(("first render in a process (fontconfig setup)", f"{first:.3f} s"))

    singles = [_timed(lambda view=view: render_certificate(view))[0] for view in views[1 : args.singles + 1]]
    rows.append(
        (
            f"single render, median / p95 of {len(singles)}",
            f"{statistics.median(singles):.3f} s / {_percentile(singles, 0.95):.3f} s",
        )
    )
    size = len(render_certificate(views[0]))
    rows.append(("single PDF size (with photo)", f"{size / 1024:.0f} KB"))

    rare = [replace(view, holder_name="李䶮" if i % 2 else "王𠇔明") for i, view in enumerate(views[:10])]
    rare_times = [_timed(lambda view=view: render_certificate(view))[0] for view in rare]
    rows.append(("single render, rare character (fallback), median", f"{statistics.median(rare_times):.3f} s"))

    naive = [_timed(lambda view=view: _naive_render(view))[0] for view in views[:5]]
    rows.append(("baseline: system font, nothing reused, median of 5", f"{statistics.median(naive):.3f} s"))

    # The PAdES signature every PDF handed out carries (certificates/docsign.py), measured apart and with the render:
    # ECDSA P-256 with SHA-256, and SM2 with SM3 for the regions that chose 国密 (certificates/docsign_sm2.py).
    schemes = ((docsign.ECDSA, "ECDSA"), (docsign.SM2, "SM2/SM3"))
    with tempfile.TemporaryDirectory() as keys, override_settings(SIGNING_KEYS_DIR=Path(keys)):
        for scheme, _name in schemes:
            docsign.document_signer(scheme)  # the development key and chain, generated once
        unsigned = [render_certificate(view) for view in views[1 : args.singles + 1]]
        for scheme, name in schemes:
            alone = [
                _timed(lambda data=data, s=scheme: docsign.sign_pdf(data, reason="bench", scheme=s))[0]
                for data in unsigned
            ]
            rows.append(
                (
                    f"PAdES {name} signing alone, median / p95 of {len(alone)}",
                    f"{statistics.median(alone):.3f} s / {_percentile(alone, 0.95):.3f} s",
                )
            )
        for scheme, name in schemes:
            signed_singles = [
                _timed(
                    lambda view=view, s=scheme: docsign.sign_pdf(render_certificate(view), reason="bench", scheme=s)
                )[0]
                for view in views[1 : args.singles + 1]
            ]
            rows.append(
                (
                    f"single render + {name} signature, median / p95 of {len(signed_singles)}",
                    f"{statistics.median(signed_singles):.3f} s / {_percentile(signed_singles, 0.95):.3f} s",
                )
            )
            signed_size = len(docsign.sign_pdf(render_certificate(views[0]), reason="bench", scheme=scheme))
            rows.append((f"{name}-signed single PDF size (with photo)", f"{signed_size / 1024:.0f} KB"))

        run = views[: args.n]
        total, _ = _timed(lambda: [render_certificate(view) for view in run])
        rows.append((f"{len(run)} separate PDFs, one process", f"{total:.1f} s = {total / len(run):.3f} s each"))
        for scheme, name in schemes:
            signed_total, _ = _timed(
                lambda s=scheme: [docsign.sign_pdf(render_certificate(view), reason="b", scheme=s) for view in run]
            )
            rows.append(
                (
                    f"{len(run)} separate {name}-signed PDFs, one process",
                    f"{signed_total:.1f} s = {signed_total / len(run):.3f} s each",
                )
            )
        rows.append(("peak RSS so far", f"{_peak_rss_mb()} MB"))

        batch_time, batch = _timed(lambda: render_batch(run))
        assert isinstance(batch, bytes)
        rows.append(
            (
                f"one {len(run)}-page batch PDF",
                f"{batch_time:.1f} s = {batch_time / len(run):.3f} s/page, {len(batch) / 1024 / 1024:.1f} MB",
            )
        )
        for scheme, name in schemes:
            batch_sign, signed_batch = _timed(lambda s=scheme: docsign.sign_pdf(batch, reason="bench", scheme=s))
            rows.append(
                (
                    f"{name}-signing the {len(run)}-page batch once",
                    f"{batch_sign:.2f} s; batch signed: {(batch_time + batch_sign) / len(run):.3f} s/page, "
                    f"{len(signed_batch) / 1024 / 1024:.1f} MB",
                )
            )
    rows.append(("peak RSS after batch", f"{_peak_rss_mb()} MB"))

    if args.fonttools:
        import weasyprint.pdf.fonts as weasyprint_fonts

        saved, weasyprint_fonts.harfbuzz_subset = weasyprint_fonts.harfbuzz_subset, None
        logging.getLogger("weasyprint").setLevel(logging.ERROR)
        try:
            slow = [_timed(lambda view=view: render_certificate(view))[0] for view in views[:3]]
            naive_slow = _timed(lambda: _naive_render(views[0]))[0]
        finally:
            weasyprint_fonts.harfbuzz_subset = saved
        rows.append(("fontTools subsetting: prepared font, median of 3", f"{statistics.median(slow):.2f} s"))
        rows.append(("fontTools subsetting: system font (baseline)", f"{naive_slow:.2f} s"))

    width = max(len(label) for label, _ in rows)
    print(f"{'measure'.ljust(width)}  result")
    print(f"{'-' * width}  {'-' * 30}")
    for label, value in rows:
        print(f"{label.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
