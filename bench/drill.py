"""Failure drills on the running deployment (deploy/cluster up), one command each, figures printed.

    .venv/bin/python bench/drill.py kill-web           # SIGKILL web node 1 (master and workers) under load
    .venv/bin/python bench/drill.py stop-replica       # stop the streaming replica under load, then start it
    .venv/bin/python bench/drill.py restart-pgbouncer  # stop and start the primary's PgBouncer under load
    .venv/bin/python bench/drill.py kill-worker        # SIGKILL the Celery workers in the middle of an issuance batch
    .venv/bin/python bench/drill.py all

The load: threads scanning certificates (GET /api/v1/verify/{token}, each token once, so each is a database
read) through the balancer, recording every answer. "Errors" are answers other than 200 and requests without an
answer. The drills leave the deployment as they found it (the killed or stopped part is started again).
"""

import argparse
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cluster import (
    ROOT,
    Load,
    certificate_scans,
    cluster,
    fresh_factory_sequences,
    haproxy_servers,
    kill_tree,
    pidfile,
    require_running,
    setup_django,
    summary,
)

LOAD_SECONDS = 20
EVENT_AT = 6.0


def tokens(count: int) -> list[str]:
    from bench.load_scale import load, sample_tokens

    load(max(count * 2, 20_000), quiet=True)
    return sample_tokens(count, seed=int(time.time()))


def print_summary(title: str, answers, event_at: float) -> dict:
    before = summary(answers, 0, event_at)
    after = summary(answers, event_at)
    total = summary(answers)
    print(f"  {title}")
    print(
        f"  requests {total['requests']:,}; before {before['rps']:.0f}/s, p99 {before['p99_ms']:.0f} ms; "
        f"after {after['rps']:.0f}/s, p99 {after['p99_ms']:.0f} ms"
    )
    if total["errors"]:
        print(
            f"  errors {total['errors']} (statuses {total['error_statuses']}), from t={total['first_error_at']:.2f}s "
            f"to t={total['last_error_at']:.2f}s (event at t={event_at:.1f}s)"
        )
    else:
        print("  errors 0")
    return total


def drill_kill_web(env: dict, paths: list[str]) -> None:
    print("== kill-web: SIGKILL web node 1 (master and its workers) under load")
    load = Load(env["DEPLOY_LB_URL"], paths).start()
    time.sleep(EVENT_AT)
    master = pidfile(env, "web1")
    killed_at = load.now()
    victims = kill_tree(master) if master else []
    print(f"  t={killed_at:.2f}s killed {len(victims)} processes of web1 (pid {master})")
    down_at = None
    while load.now() < LOAD_SECONDS:
        if down_at is None and haproxy_servers(env).get("web1") != "UP":
            down_at = load.now()
        time.sleep(0.1)
    answers = load.stop()
    if down_at is not None:
        print(f"  balancer took web1 out {down_at - killed_at:.2f}s after the kill (on its first refused connection)")
    print_summary("through the balancer, 8 client threads", answers, killed_at)
    in_flight = 2 * int(os.environ.get("DEPLOY_WEB_WORKERS", "2"))
    print(f"  at most {in_flight} requests can be in flight on one node (balancer maxconn per node)")
    os.remove(Path(env["DEPLOY_DIR"]) / "run" / "web1.pid")
    t0 = time.monotonic()
    cluster("start", "web", "1")
    while haproxy_servers(env).get("web1") != "UP" and time.monotonic() - t0 < 30:
        time.sleep(0.2)
    print(f"  web1 started again, back in the balancer after {time.monotonic() - t0:.1f}s")


def drill_stop_replica(env: dict, paths: list[str]) -> None:
    print("== stop-replica: stop the streaming replica under load (public reads fall back to the primary)")
    primary, replica = env["DEPLOY_PRIMARY_DIRECT_URL"], env["DEPLOY_REPLICA_DIRECT_URL"]
    scans = {"primary": certificate_scans(primary), "replica": certificate_scans(replica)}
    load = Load(env["DEPLOY_LB_URL"], paths).start()
    time.sleep(EVENT_AT)
    scans_before = {"primary": certificate_scans(primary), "replica": certificate_scans(replica)}
    stopped_at = load.now()
    cluster("stop", "replica")
    print(f"  t={stopped_at:.2f}s replica stopped (pg_ctl stop -m fast) in {load.now() - stopped_at:.2f}s")
    while load.now() < LOAD_SECONDS:
        time.sleep(0.2)
    answers = load.stop()
    time.sleep(1.5)  # statistics reach pg_stat_user_tables within a second or so
    primary_after = certificate_scans(primary)
    print_summary("through the balancer, 8 client threads", answers, stopped_at)
    served_before = {k: scans_before[k] - scans[k] for k in scans}
    print(
        f"  certificate lookups before the stop: replica {served_before['replica']:,}, primary "
        f"{served_before['primary']:,}; after: primary {primary_after - scans_before['primary']:,}"
    )
    cluster("start", "replica")
    print("  replica started again; nodes try it again after REPLICA_RETRY_SECONDS (5 s)")


def drill_restart_pgbouncer(env: dict, paths: list[str]) -> None:
    print("== restart-pgbouncer: stop the primary's PgBouncer and start it again, under load")
    mixed = [p if i % 5 else "/healthz" for i, p in enumerate(paths)]  # every fifth request needs the primary
    load = Load(env["DEPLOY_LB_URL"], mixed).start()
    time.sleep(EVENT_AT)
    event_at = load.now()
    cluster("stop", "pgbouncer")
    stopped = load.now()
    cluster("start", "pgbouncer")
    print(
        f"  t={event_at:.2f}s PgBouncer stopped (SIGTERM, {stopped - event_at:.2f}s), started again at t={load.now():.2f}s"
    )
    while load.now() < LOAD_SECONDS:
        time.sleep(0.2)
    answers = load.stop()
    print_summary("verification and /healthz (needs the primary) through the balancer", answers, event_at)
    for label, wanted in (("verification", "/api/v1/verify/"), ("/healthz", "/healthz")):
        part = summary([a for a in answers if a.path.startswith(wanted)])
        print(f"    {label}: {part['requests']:,} requests, {part['errors']} errors")
    degraded = [a.at for a in answers if a.degraded]
    if degraded:  # the primary unreachable, the replica answering: the nodes stay in for public reads
        print(
            f"    /healthz answered 'degraded' {len(degraded):,} times, t={min(degraded):.2f}s to {max(degraded):.2f}s"
        )


def drill_kill_worker(env: dict, candidates: int) -> None:
    print(f"== kill-worker: SIGKILL the Celery workers in the middle of an issuance batch of {candidates}")
    sys.path.insert(0, str(ROOT / "bench"))
    from fault_concurrency import make_filed_org, make_finalised_plan, make_officer

    fresh_factory_sequences()

    from accounts.actors import Actor
    from certificates import issuance
    from certificates.models import Certificate, IssueBatch
    from certificates.tasks import issue_batch_task

    stamp = int(time.time()) % 100_000
    officer = make_officer()
    org, admin = make_filed_org(stamp, officer)
    plan = make_finalised_plan(org, admin, candidates, person_offset=(stamp % 9000) * 1000)
    started = time.monotonic()
    batch = issuance.issue_batch_start(actor=Actor.platform(), plan_id=plan.id)  # enqueued on commit
    killed = []
    while time.monotonic() - started < 300:
        batch.refresh_from_db()
        if 0 < batch.done < batch.total:
            for name in ("worker1", "worker2"):
                pid = pidfile(env, name)
                if pid:
                    killed += kill_tree(pid, signal.SIGKILL)
            break
        if batch.status in ("done", "failed"):
            break
        time.sleep(0.05)
    killed_at_done = batch.done
    print(f"  killed {len(killed)} worker processes at {killed_at_done}/{batch.total} certificates")
    for name in ("worker1", "worker2"):
        (Path(env["DEPLOY_DIR"]) / "run" / f"{name}.pid").unlink(missing_ok=True)
    cluster("start", "worker", "1")
    cluster("start", "worker", "2")
    restarted = time.monotonic()
    re_enqueued = False
    while True:
        batch.refresh_from_db()
        if batch.status in ("done", "failed"):
            break
        if not re_enqueued and time.monotonic() - restarted > 30 and batch.done == killed_at_done:
            # Redis gives an unacknowledged task back only after its visibility timeout (31 min here); the run
            # is idempotent, so the operator's step is to enqueue it again (README, Operations).
            issue_batch_task.delay(batch.id)
            re_enqueued = True
            print("  not redelivered within 30 s: enqueued certificates.issue_batch again for the same batch")
        if time.monotonic() - restarted > 600:
            break
        time.sleep(0.2)
    issued = Certificate.objects.filter(registration__plan=plan)
    per_registration = issued.values_list("registration_id", flat=True)
    numbers = list(issued.values_list("number", flat=True))
    duplicates = len(per_registration) - len(set(per_registration))
    print(
        f"  batch {batch.status} {batch.done}/{batch.total} in {time.monotonic() - started:.1f}s; "
        f"certificates {len(numbers)}, duplicate registrations {duplicates}, duplicate numbers "
        f"{len(numbers) - len(set(numbers))}; batches for the plan {IssueBatch.objects.filter(plan=plan).count()}"
    )
    if batch.status != "done" or duplicates or len(numbers) != candidates:
        raise SystemExit("kill-worker drill FAILED")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("drill", choices=["kill-web", "stop-replica", "restart-pgbouncer", "kill-worker", "all"])
    parser.add_argument("--candidates", type=int, default=400, help="issuance batch size for kill-worker")
    args = parser.parse_args()
    env = require_running()
    setup_django(env)
    print(
        f"drill on {env['DEPLOY_LB_URL']}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores"
    )
    chosen = ["kill-web", "stop-replica", "restart-pgbouncer", "kill-worker"] if args.drill == "all" else [args.drill]
    paths = [f"/api/v1/verify/{t}" for t in tokens(60_000)] if set(chosen) - {"kill-worker"} else []
    for name in chosen:
        if name == "kill-web":
            drill_kill_web(env, paths)
        elif name == "stop-replica":
            drill_stop_replica(env, paths)
        elif name == "restart-pgbouncer":
            drill_restart_pgbouncer(env, paths)
        else:
            drill_kill_worker(env, args.candidates)
        time.sleep(3)


if __name__ == "__main__":
    main()
