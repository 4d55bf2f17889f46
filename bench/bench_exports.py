"""Exports and dashboards at province size: the bureau's data report built by a worker into a file, and the
statistics pages, against the certificates bench/load_scale.py loads.

    .venv/bin/python bench/bench_exports.py                 # 1,000,000 certificates (loads what is missing)
    .venv/bin/python bench/bench_exports.py --count 10000000 --skip-xlsx

Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/bench_scale). Runs in one
process, as a worker would (core/exports.py's export_run), and reports for each export: rows, seconds, rows/s,
file size and the process's peak memory; then the time of each dashboard and statistics query, each the best of
three (the first run warms the cache), against the 0.5 s target.
"""

import argparse
import resource
import sys
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load_scale import load, setup_django  # noqa: E402


def _officer(bureau_region: str):
    """A bench bureau officer of the province (sees every bench certificate)."""
    from accounts.models import Bureau, Membership, Role, User
    from occupations.models import Region

    region = Region.objects.get(code=bureau_region)
    bureau, _ = Bureau.objects.get_or_create(name="基准测试省人社厅", defaults={"region": region})
    user, created = User.objects.get_or_create(username="bench-province-officer")
    if created:
        Membership.objects.create(user=user, role=Role.BUREAU_STAFF, bureau=bureau)
    return user


def _best_of(fn, times: int = 3) -> float:
    best = float("inf")
    for _ in range(times):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--skip-xlsx", action="store_true")
    parser.add_argument("--skip-exports", action="store_true")
    parser.add_argument("--xlsx-since", default="2026-01-01", help="the xlsx export's first issue date")
    args = parser.parse_args()
    setup_django()
    load(args.count)

    from accounts.actors import Actor
    from certificates import reporting
    from certificates.models import Certificate
    from core.exports import export_run
    from oversight.dashboards import dashboard_for

    user = _officer("220000")
    actor = Actor.for_user(user)
    total = Certificate.objects.count()
    print(f"\ncertificates in PostgreSQL: {total:,}")
    print(f"{'export':34}{'rows':>11}{'seconds':>9}{'rows/s':>9}{'MB':>8}{'peak RSS MB':>13}")
    for fmt, since in (("csv", None), ("xlsx", args.xlsx_since)):
        if (fmt == "xlsx" and args.skip_xlsx) or args.skip_exports:
            continue
        import datetime

        report = reporting.certificate_report(
            actor=actor, file_format=fmt, since=datetime.date.fromisoformat(since) if since else None
        )
        t0 = time.perf_counter()
        # What the web request does (the worker's task is not sent: this process plays the worker next).
        with mock.patch("core.tasks.export_run_task.delay"):
            export = reporting.report_export(actor=actor, report=report, file_format=fmt)
        asked = time.perf_counter() - t0
        export = export_run(export_id=export.id)
        seconds = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        label = f"data report {fmt}" + (f" (since {since})" if since else " (all)")
        print(
            f"{label:34}{export.done:>11,}{seconds:>9.1f}{export.done / seconds:>9,.0f}{export.size / 2**20:>8.1f}"
            f"{peak:>13.0f}   (request answered in {asked * 1000:.0f} ms; status {export.status})"
        )
        export.file.delete(save=False)

    from django.test import override_settings

    from oversight.aggregates import daily_counts_rebuild, daily_counts_refresh

    t0 = time.perf_counter()
    daily_counts_rebuild()
    print(f"\ndaily counts rebuilt from scratch in {time.perf_counter() - t0:.1f} s", end="; ")
    t0 = time.perf_counter()
    daily_counts_refresh()
    print(f"a refresh (beat, every 5 min) right after the load in {time.perf_counter() - t0:.2f} s", end="; ")
    # The loaded certificates were all created in the last hours, so the refresh above recounts every day; in
    # steady state it recounts the days certificates created in its lookback were dated (and two days of scans).
    from django.utils import timezone

    from oversight.aggregates import REFRESH_LOOKBACK

    later = timezone.now() + REFRESH_LOOKBACK
    t0 = time.perf_counter()
    daily_counts_refresh(later)
    print(f"once the load is {REFRESH_LOOKBACK} old: {time.perf_counter() - t0:.2f} s")
    print(f"{'statistics (best of 3)':46}{'live':>9}{'pre-agg.':>10}  target ≤ 0.5 s")
    checks = {
        "dashboard, province, 12 months": lambda: dashboard_for(actor=actor, months=12),
        "dashboard, province, 36 months": lambda: dashboard_for(actor=actor, months=36),
        "dashboard, one county, 12 months": lambda: dashboard_for(actor=actor, region_code="220102", months=12),
        "report request, csv (bounded count)": lambda: reporting.certificate_report(actor=actor, file_format="csv"),
        "report request, xlsx": lambda: reporting.certificate_report(
            actor=actor, file_format="csv" if total > reporting.XLSX_MAX_ROWS else "xlsx"
        ),
    }
    for name, fn in checks.items():
        with override_settings(DASHBOARD_PREAGGREGATED=False):
            live = _best_of(fn)
        with override_settings(DASHBOARD_PREAGGREGATED=True):
            pre = _best_of(fn)
        print(f"{name:46}{live:>9.3f}{pre:>10.3f}  {'ok' if pre <= 0.5 else 'OVER'}")


if __name__ == "__main__":
    main()
