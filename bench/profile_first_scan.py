"""Where a first scan's time goes, in one process, through Django's whole request path (no WSGI server, no wrk):
the whole request, the one database round trip (certificates/verification.py::_fetch_by_number), and a profile of
the rest, sorted by the time spent in each function itself.

    .venv/bin/python bench/profile_first_scan.py                  # 1,000 first scans on BENCH_DATABASE_URL
    .venv/bin/python bench/profile_first_scan.py --scans 3000 --top 30

Each token is scanned once (a first scan: not in this process's verification cache), taken at random from the
certificates bench/load_scale.py loaded (BENCH_DATABASE_URL, default bench_scale; load them first). The figures are
wall times in this process; under a server, PostgreSQL's share of the CPU is on top of the round trip's wait.
"""

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_scale")


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def line(label: str, seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return (
        f"{label:<28} median {statistics.median(ms):6.2f} ms   p90 {quantile(ms, 0.9):6.2f} ms"
        f"   p99 {quantile(ms, 0.99):6.2f} ms   n={len(ms)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--scans", type=int, default=1000, help="first scans timed (as many again are profiled)")
    parser.add_argument("--top", type=int, default=20, help="functions shown in the profile")
    args = parser.parse_args()
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": DB_URL,
            "DEBUG": "false",
            "SIGNING_KEYS_DIR": str(ROOT / "var" / "bench-keys"),
            "CELERY_BROKER_URL": "",
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.setdefault("VERIFICATION_LOG_REDIS_URL", "redis://127.0.0.1:6379/4")
    import django

    django.setup()
    from django.test import Client

    from bench.load_scale import sample_tokens
    from certificates import verification

    tokens = sample_tokens(2 * args.scans)
    if len(tokens) < 2 * args.scans:
        sys.exit(f"only {len(tokens)} loaded certificates: run bench/load_scale.py first")
    client = Client()
    fetch = verification._fetch_by_number
    fetched: list[float] = []

    def timed_fetch(number: str):
        started = time.perf_counter()
        try:
            return fetch(number)
        finally:
            fetched.append(time.perf_counter() - started)

    verification._fetch_by_number = timed_fetch
    whole: list[float] = []
    for token in tokens[: args.scans]:
        started = time.perf_counter()
        response = client.get(f"/api/v1/verify/{token}")
        whole.append(time.perf_counter() - started)
        if response.status_code != 200 or response.json()["status"] != "valid":
            sys.exit(f"unexpected answer {response.status_code}: {response.content[:200]!r}")
    verification._fetch_by_number = fetch
    print(line("first scan, whole request", whole))
    print(line("database round trip", fetched))

    profile = cProfile.Profile()
    profile.enable()
    for token in tokens[args.scans :]:
        client.get(f"/api/v1/verify/{token}")
    profile.disable()
    print(f"\nprofile of {args.scans} more first scans (time in each function itself):")
    pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
