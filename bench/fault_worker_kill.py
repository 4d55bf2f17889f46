"""Fault test: SIGKILL the Celery worker in the middle of an issuance batch, start another, see the batch finish.

    .venv/bin/python bench/fault_worker_kill.py        # PostgreSQL fault_bench_kill, Redis 127.0.0.1:6379/13

A real worker (`celery -A config worker --pool=solo`) runs on Redis with CELERY_TASK_ALWAYS_EAGER=false. Issuance of
a finalised plan of 400 passed candidates is started with issue_batch_start (system actor, outside any atomic
block, so its on_commit enqueues the task at once). Once the batch's `done` is between 0 and total the worker is
SIGKILLed and a new one started. The bench waits (bounded) for the task to be redelivered; if the batch is still
not done it re-enqueues `certificates.issue_batch` for the same batch id (the run is idempotent) and says so.
Then: every passed candidate has exactly one certificate and the serials are contiguous from 1.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fault_concurrency import (
    ROOT,
    check_certificates,
    drop_database,
    make_filed_org,
    make_finalised_plan,
    make_officer,
    prepare_schema,
    recreate_database,
    setup_env,
)

DB_URL = os.environ.get("FAULT_KILL_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/fault_bench_kill")
BROKER = os.environ.get("FAULT_BROKER_URL", "redis://127.0.0.1:6379/13")
T0 = time.perf_counter()
timeline: list[str] = []


def mark(event: str) -> None:
    line = f"  t={time.perf_counter() - T0:6.2f}s  {event}"
    timeline.append(line)
    print(line, flush=True)


def start_worker(name: str, env: dict, logdir: str) -> tuple[subprocess.Popen, Path]:
    log = Path(logdir) / f"{name}.log"
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "celery"),
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            f"--hostname={name}@fault",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"worker {name} exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        if " ready." in log.read_text(errors="replace"):
            mark(f"worker {name} ready (pid {proc.pid})")
            return proc, log
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"worker {name} not ready in 60 s:\n{log.read_text()[-2000:]}")


def stop_worker(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def wait_batch(batch_id: int, seconds: float, *, until=("done", "failed")):
    from certificates.models import IssueBatch

    deadline = time.monotonic() + seconds
    while True:
        b = IssueBatch.objects.get(pk=batch_id)
        if b.status in until or time.monotonic() > deadline:
            return b
        time.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=400)
    parser.add_argument("--redelivery-wait", type=float, default=40, help="seconds to wait for redelivery")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="fault-kill-")
    env = setup_env(DB_URL, tmp.name, CELERY_BROKER_URL=BROKER, CELERY_TASK_ALWAYS_EAGER="false", LOG_LEVEL="WARNING")
    recreate_database(DB_URL)
    import django

    django.setup()
    import redis

    r = redis.Redis.from_url(BROKER, socket_timeout=2)
    queue_keys = ["celery", "unacked", "unacked_index", "unacked_mutex"]
    r.delete(*queue_keys)  # only this bench's Redis database: leftovers of an earlier run
    workers: list[subprocess.Popen] = []
    try:
        return run(args, env, tmp.name, workers, r)
    finally:
        for w in workers:
            stop_worker(w)
        r.delete(*queue_keys)
        if not args.keep:
            drop_database(DB_URL)
        tmp.cleanup()


def run(args, env: dict, tmp: str, workers: list, r) -> int:
    from django.db import connection

    from accounts.actors import Actor
    from certificates import issuance
    from certificates.models import Certificate, IssueBatch

    prepare_schema()
    officer = make_officer()
    org, admin = make_filed_org(1, officer)
    plan = make_finalised_plan(org, admin, args.candidates, person_offset=0)
    mark(f"set-up done: plan {plan.id} with {args.candidates} passed candidates, prefix {org.number_prefix}")

    w1, _log1 = start_worker("w1", env, tmp)
    workers.append(w1)
    assert not connection.in_atomic_block
    batch = issuance.issue_batch_start(actor=Actor.platform(), plan_id=plan.id)
    mark(f"issue_batch_start -> batch {batch.id}, total {batch.total}, status {batch.status} (task enqueued on commit)")

    killed_at_done = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        b = IssueBatch.objects.filter(pk=batch.id).values("status", "done").get()
        if 0 < b["done"] < batch.total:
            os.kill(w1.pid, signal.SIGKILL)
            w1.wait(timeout=10)
            killed_at_done = b["done"]
            mark(f"SIGKILL worker w1 at done={b['done']}/{batch.total} (status {b['status']})")
            break
        if b["status"] in ("done", "failed"):
            mark(f"batch reached {b['status']} (done={b['done']}) before the kill could happen")
            break
        time.sleep(0.005)
    else:
        mark("worker never started the batch within 60 s")
    time.sleep(0.5)
    b = IssueBatch.objects.get(pk=batch.id)
    mark(
        f"after kill: batch status {b.status}, done {b.done}, certificates {Certificate.objects.count()}; Redis: "
        f"queue {r.llen('celery')}, unacked {r.hlen('unacked')}"
    )

    again = issuance.issue_batch_start(actor=Actor.platform(), plan_id=plan.id)
    mark(
        f"issue_batch_start again (what an admin clicking 'issue' would do): batch {again.id}, status {again.status}; "
        f"Redis queue {r.llen('celery')} (a running batch is returned and nothing is enqueued)"
    )

    w2, log2 = start_worker("w2", env, tmp)
    workers.append(w2)
    b = wait_batch(batch.id, args.redelivery_wait)
    redelivered = b.status == "done"
    mark(
        f"after waiting {args.redelivery_wait:.0f} s for redelivery: status {b.status}, done {b.done}/{b.total}; "
        f"Redis unacked {r.hlen('unacked')}, w2 received tasks: {log2.read_text().count('Task certificates')}"
    )
    reenqueued = False
    if b.status != "done":
        from certificates.tasks import issue_batch_task

        issue_batch_task.delay(batch.id)
        reenqueued = True
        mark(f"RE-ENQUEUED certificates.issue_batch({batch.id}) by hand (the killed task was not redelivered)")
        b = wait_batch(batch.id, 60, until=("done",))
        mark(f"after re-enqueue: status {b.status}, done {b.done}/{b.total}")

    problems = check_certificates([plan])
    n = Certificate.objects.filter(registration__plan=plan).count()
    if n != args.candidates:
        problems.append(f"{n} certificates for {args.candidates} passed candidates")
    if b.status != "done":
        problems.append(f"batch ended {b.status}")
    if b.done != b.total:
        problems.append(f"batch progress says done={b.done} of total={b.total} though {n} certificates exist")
    if killed_at_done is None:
        problems.append("the worker was not killed mid-batch; the fault was not exercised")

    print("\ntimeline:")
    print("\n".join(timeline))
    print(
        f"\nsummary: {n} certificates for {args.candidates} passed candidates; worker killed at done={killed_at_done}; "
        f"redelivered automatically: {'yes' if redelivered else 'NO'}; re-enqueued by hand: "
        f"{'YES' if reenqueued else 'no'}"
    )
    for p in problems:
        print(f"  VIOLATION: {p}")
    print("PASS" if not problems else f"FAIL ({len(problems)} violations)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
