"""Fault test: Redis unreachable, for the verification-log buffer and for the Celery broker.

    .venv/bin/python bench/fault_redis_down.py        # PostgreSQL fault_bench_redis (dropped at the end)

1. VERIFICATION_LOG_REDIS_URL points at a closed loopback port: /api/v1/verify/{token} and /v/{token} (Django test
   Client) must still answer 200 with status `valid`, quickly, and each verification must be logged straight to the
   database.
2. CELERY_BROKER_URL points at a closed loopback port (CELERY_TASK_ALWAYS_EAGER=false), in a child process bounded
   by a timeout: issue_batch_start must fail visibly (raise) rather than hang, and the batch must not be silently
   lost; a second start is tried too, as an admin clicking again would.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fault_concurrency import (
    ROOT,
    drop_database,
    make_filed_org,
    make_finalised_plan,
    make_officer,
    prepare_schema,
    recreate_database,
    setup_env,
)

DB_URL = os.environ.get("FAULT_REDIS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/fault_bench_redis")
CHILD_TIMEOUT = 60


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child(plan_id: int) -> None:
    """Run in a subprocess whose environment names a dead broker; prints one JSON line."""
    import django

    django.setup()
    from django.db import connection

    from accounts.actors import Actor
    from certificates import issuance
    from certificates.models import IssueBatch

    out: dict = {}
    t = time.perf_counter()
    try:
        batch = issuance.issue_batch_start(actor=Actor.platform(), plan_id=plan_id)
        out["first"] = {"raised": None, "batch": batch.id}
    except Exception as exc:
        out["first"] = {"raised": f"{type(exc).__module__}.{type(exc).__name__}: {str(exc)[:160]}"}
    out["first"]["seconds"] = round(time.perf_counter() - t, 2)
    assert not connection.in_atomic_block
    out["after_first"] = list(
        IssueBatch.objects.filter(plan_id=plan_id).values("id", "status", "done", "total", "error")
    )
    t = time.perf_counter()
    try:
        batch = issuance.issue_batch_start(actor=Actor.platform(), plan_id=plan_id)
        out["second"] = {"raised": None, "batch": batch.id, "status": batch.status}
    except Exception as exc:
        out["second"] = {"raised": f"{type(exc).__module__}.{type(exc).__name__}: {str(exc)[:160]}"}
    out["second"]["seconds"] = round(time.perf_counter() - t, 2)
    out["after_second"] = list(
        IssueBatch.objects.filter(plan_id=plan_id).values("id", "status", "done", "total", "error")
    )
    print("RESULT " + json.dumps(out, ensure_ascii=False), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return 0
    t_start = time.perf_counter()
    tmp = tempfile.TemporaryDirectory(prefix="fault-redis-")
    dead_log = f"redis://127.0.0.1:{closed_port()}/0"
    env = setup_env(DB_URL, tmp.name, VERIFICATION_LOG_REDIS_URL=dead_log)
    recreate_database(DB_URL)
    import django

    django.setup()
    try:
        return run(env, dead_log, t_start)
    finally:
        if not args.keep:
            drop_database(DB_URL)
        tmp.cleanup()


def run(env: dict, dead_log: str, t_start: float) -> int:
    from django.conf import settings
    from django.db import connections
    from django.test import Client

    from accounts.actors import Actor
    from certificates import issuance
    from certificates.models import Certificate, VerificationLog

    problems: list[str] = []
    prepare_schema()
    officer = make_officer()
    org, admin = make_filed_org(1, officer)
    plan = make_finalised_plan(org, admin, 5, person_offset=0)
    issuance.issue_batch_start(actor=Actor.platform(), plan_id=plan.id)  # eager (no broker): issued in-process
    certs = list(Certificate.objects.order_by("id"))
    print(f"set-up: {len(certs)} certificates issued eagerly in {time.perf_counter() - t_start:.1f} s", flush=True)

    # --- 1. verification with the log buffer's Redis down --------------------------------------------------------
    assert dead_log == settings.VERIFICATION_LOG_REDIS_URL
    client = Client()
    before = VerificationLog.objects.count()
    timings, answers = [], []
    for cert in certs:
        for url in (f"/api/v1/verify/{cert.token}", f"/v/{cert.token}"):
            t = time.perf_counter()
            resp = client.get(url)
            timings.append(time.perf_counter() - t)
            answers.append(resp.status_code)
            if resp.status_code != 200:
                problems.append(f"GET {url[:40]}… answered {resp.status_code}")
            elif url.startswith("/api/") and resp.json().get("status") != "valid":
                problems.append(f"API said {resp.json().get('status')} for a valid certificate")
    logged = VerificationLog.objects.count() - before
    print(
        f"verification with VERIFICATION_LOG_REDIS_URL={dead_log} (closed): {len(answers)} requests, statuses "
        f"{sorted(set(answers))}, first {timings[0] * 1000:.0f} ms (warm-up), max after {max(timings[1:]) * 1000:.0f} ms, mean {sum(timings) / len(timings) * 1000:.0f} ms; "
        f"rows written straight to the database: {logged}",
        flush=True,
    )
    if logged != len(answers):
        problems.append(f"{len(answers)} verifications but {logged} log rows")
    if max(timings) > 2:
        problems.append(f"a verification took {max(timings):.1f} s with Redis down")

    # --- 2. starting issuance with the broker down ---------------------------------------------------------------
    plan2 = make_finalised_plan(org, admin, 5, person_offset=100)
    connections.close_all()
    dead_broker = f"redis://127.0.0.1:{closed_port()}/0"
    child_env = {
        **os.environ,
        **env,
        "CELERY_BROKER_URL": dead_broker,
        "CELERY_RESULT_BACKEND": "cache+memory://",
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    t = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, __file__, "--child", str(plan2.id)],
            cwd=ROOT,
            env=child_env,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        problems.append(f"issue_batch_start with the broker down hung for more than {CHILD_TIMEOUT} s")
        proc = None
    elapsed = time.perf_counter() - t
    result = None
    if proc is not None:
        line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
        if line is None:
            problems.append(f"child gave no result (rc {proc.returncode}): {proc.stderr[-1500:]}")
        else:
            result = json.loads(line[len("RESULT ") :])
    if result:
        first, second = result["first"], result["second"]
        print(f"broker down ({dead_broker}), child process {elapsed:.1f} s:")
        print(f"  first issue_batch_start: {first['seconds']} s, raised: {first['raised']}")
        print(f"  batches afterwards: {result['after_first']}")
        print(f"  second issue_batch_start: {second['seconds']} s, raised: {second.get('raised')}, returned {second}")
        print(f"  batches afterwards: {result['after_second']}")
        # Expected: the start commits the batch and says on it that the queue is unreachable (the page shows
        # it); starting again queues the same batch again rather than leaving it silently stuck.
        if not all(b.get("error") for b in result["after_first"]):
            problems.append("with the broker down the batch does not say that its task could not be queued")
        if len(result["after_second"]) != 1:
            problems.append("starting again with the broker down created another batch instead of re-queuing")
        if first["raised"] or second.get("raised"):
            problems.append("the request that started issuance failed after its transaction had committed")

    print(f"total time {time.perf_counter() - t_start:.1f} s")
    for p in problems:
        print(f"  VIOLATION: {p}")
    print("PASS" if not problems else f"FAIL ({len(problems)} violations)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
