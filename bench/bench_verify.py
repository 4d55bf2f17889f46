"""Verification throughput under a real WSGI server, against a bare Django JSON view served the same way.

    .venv/bin/python bench/bench_verify.py            # 1,000,000 certificates in PostgreSQL (first run loads them)
    .venv/bin/python bench/bench_verify.py --n 100000 --duration 15

Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/bench_scale, created if
missing), Redis for the verification-log buffer, and `wrk` (apt-get install wrk). gunicorn runs 2 sync workers
on 127.0.0.1; wrk runs on the same machine, so both share its 2 cores, the same for every measurement.
Reports requests/s, p99 latency and the ratio to the bare view for repeat scans (a random token of a sample of
2,000: answered from each process's memory after the first time, see certificates/verification_cache.py) and
for first scans (every token once: each one a database lookup), after reading the tables a first scan touches
into the OS page cache (bench/load_scale.py::prewarm: a serving database has them there). Also the CPU each
request cost the server's own processes (gunicorn's workers and their PostgreSQL backends, read from /proc):
other work on the machine does not count in it, so it holds on a busy machine where requests/s do not; on a
saturated machine requests/s go as its inverse.
"""

import argparse
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_scale")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4")
PORT = int(os.environ.get("BENCH_PORT", "18765"))
ENV = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DATABASE_URL": DB_URL,
    "DEBUG": "false",
    "VERIFICATION_LOG_REDIS_URL": REDIS_URL,
    "SIGNING_KEYS_DIR": str(ROOT / "var" / "bench-keys"),
    "SITE_URL": f"http://127.0.0.1:{PORT}",
    "LOG_LEVEL": "WARNING",
    "CELERY_BROKER_URL": "",
    # Each worker keeps its one database connection for the whole run, so its backend's CPU can be read from /proc.
    "CONN_MAX_AGE": "86400",
}


def ensure_database() -> None:
    import psycopg

    name = DB_URL.rsplit("/", 1)[1]
    admin = DB_URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def load(n: int, sample: int = 2000) -> list[str]:
    """Make sure n certificates are loaded (bench/load_scale.py: COPY, real signed tokens), return a random sample
    of valid certificates' tokens."""
    os.environ.update(ENV)
    from bench.load_scale import load as bulk_load
    from bench.load_scale import sample_tokens

    bulk_load(n)
    return sample_tokens(sample, seed=random.randrange(2**31))


def wrk(path_or_script: str, duration: int, connections: int, script: Path | None = None) -> dict:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s"]
    if script:
        cmd += ["-s", str(script)]
    cmd.append(f"http://127.0.0.1:{PORT}{path_or_script}")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    factor = {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p99_ms": float(p99.group(1)) * factor, "non2xx": int(errors.group(1)) if errors else 0}


def server_processes(server_pid: int) -> dict[str, list[int]]:
    """gunicorn's master and workers, and the PostgreSQL backends connected to the bench database (the workers
    keep their connections, CONN_MAX_AGE)."""
    import psycopg

    from bench.cluster import children

    with psycopg.connect(DB_URL, autocommit=True) as conn:
        backends = [
            row[0]
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ]
    return {"web": [server_pid, *children(server_pid)], "postgres": backends}


def measured(pids: dict[str, list[int]], *args) -> dict:
    from bench.cluster import cpu_seconds

    before = {part: cpu_seconds(p) for part, p in pids.items()}
    result = wrk(*args)
    requests = max(result["rps"] * args[1], 1)
    result["cpu_ms"] = {part: (cpu_seconds(p) - before[part]) * 1000 / requests for part, p in pids.items()}
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * (os.cpu_count() or 1) + 1,
        help="gunicorn sync workers (default: gunicorn's recommended 2 × cores + 1, so a worker waiting on the "
        "database leaves its core to another)",
    )
    args = parser.parse_args()
    if subprocess.run(["which", "wrk"], capture_output=True).returncode:
        sys.exit("wrk is not installed: apt-get install wrk")
    import socket

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", PORT)) == 0:
            sys.exit(f"port {PORT} is already in use; set BENCH_PORT")
    ensure_database()
    fresh_needed = int(args.duration * 4000) + 20_000  # more than one run can use up at this machine's speed
    tokens = load(args.n, sample=2000 + fresh_needed)
    from bench.load_scale import prewarm

    print(f"prewarm: {prewarm(DB_URL)}", flush=True)
    repeat, fresh = tokens[:2000], tokens[2000:]
    with tempfile.TemporaryDirectory() as tmp:
        # Every run goes through a Lua request generator, so wrk spends the same on each: only the server's path
        # differs. The bare view ignores the query string. "repeat": a random token of 2,000 each time, as a
        # certificate is scanned again and again; "first": each token once (never answered from memory).
        scripts = {}
        for name, prefix, pool, pick in (
            ("bare", "/ping?t=", repeat, "tokens[math.random(#tokens)]"),
            ("repeat", "/api/v1/verify/", repeat, "tokens[math.random(#tokens)]"),
            ("first", "/api/v1/verify/", fresh, "next_token()"),
        ):
            scripts[name] = Path(tmp) / f"{name}.lua"
            scripts[name].write_text(
                "tokens = {" + ",".join(f'"{t}"' for t in pool) + "}\n"
                "math.randomseed(42)\n"
                "counter = 0\n"
                "setup = function(thread) thread:set('offset', counter); counter = counter + 1 end\n"
                "i = nil\n"
                "next_token = function() i = (i or offset * math.floor(#tokens / 2)) + 1; return tokens[i % #tokens + 1] end\n"
                f"request = function() return wrk.format('GET', '{prefix}' .. {pick}) end\n"
            )
        server = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "config.wsgi",
                "-w",
                str(args.workers),
                "-b",
                f"127.0.0.1:{PORT}",
                "--log-level",
                "warning",
                "--keep-alive",
                "5",
            ],
            cwd=ROOT,
            env=ENV,
            start_new_session=True,
        )
        try:
            for _ in range(50):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{PORT}/ping", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            wrk("/", 3, args.connections, scripts["bare"])  # warm both workers
            wrk("/", 3, args.connections, scripts["repeat"])
            pids = server_processes(server.pid)
            bare = measured(pids, "/", args.duration, args.connections, scripts["bare"])
            verify = measured(pids, "/", args.duration, args.connections, scripts["repeat"])
            first = measured(pids, "/", args.duration, args.connections, scripts["first"])
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
    from certificates.models import Certificate

    print(f"\ncertificates in PostgreSQL: {Certificate.objects.count():,}")
    print(f"load average at the end: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print(f"{'':24}{'req/s':>10}{'p99 ms':>10}{'non-2xx':>9}{'CPU ms/request: web':>22}{'PostgreSQL':>12}")
    for label, run in (
        ("bare Django JSON view", bare),
        ("verification, repeat", verify),
        ("verification, first", first),
    ):
        cpu = run["cpu_ms"]
        print(
            f"{label:24}{run['rps']:>10.0f}{run['p99_ms']:>10.1f}{run['non2xx']:>9}{cpu['web']:>22.3f}"
            f"{cpu['postgres']:>12.3f}"
        )
    print(
        f"ratio verification / bare: repeat scans {verify['rps'] / bare['rps']:.2f}, first scans "
        f"{first['rps'] / bare['rps']:.2f}  (target ≥ 0.70; p99 target ≤ 50 ms)"
    )

    def total(run):
        return run["cpu_ms"]["web"] + run["cpu_ms"]["postgres"]

    print(
        f"ratio by CPU per request (bare / verification, web and PostgreSQL): repeat scans "
        f"{total(bare) / total(verify):.2f}, first scans {total(bare) / total(first):.2f}"
    )


if __name__ == "__main__":
    main()
