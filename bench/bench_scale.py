"""Scaling on the deployment (deploy/cluster up): N certificates, first scans through the balancer with 1 and then
2 web nodes against a bare Django view through the same balancer, the replica's lag, issuance with 1 and 2 workers.

    deploy/cluster up
    .venv/bin/python bench/bench_scale.py                     # 10,000,000 certificates (loads what is missing)
    .venv/bin/python bench/bench_scale.py --count 1000000 --duration 20

The certificates are loaded with bench/load_scale.py (COPY, resumable) into the deployment's primary and reach the
replica by streaming replication. First scans: every token once (GET /api/v1/verify/{token}, never answered from
a node's memory), driven by wrk through HAProxy; the bare view is /ping through HAProxy too. "1 node": web2 is
put in maintenance in the balancer (its process idles). Per-request cost: CPU seconds the web nodes, PostgreSQL,
PgBouncer and HAProxy spent during a run, divided by the requests answered (from /proc), which is what adding
machines divides; on a machine with fewer cores than parts (this one has 2) throughput cannot show that.
Issuance: plans of finalised candidates issued by the deployment's Celery workers (certificates.issue_batch), one
batch per plan, with 1 worker and then 2.
"""

import argparse
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import contextlib

from cluster import (
    ROOT,
    certificate_scans,
    children,
    cluster,
    cpu_seconds,
    fresh_factory_sequences,
    haproxy_servers,
    pidfile,
    replica_lag,
    require_running,
    setup_django,
    wrk,
    wrk_script,
)


def processes_of(env: dict) -> dict[str, list[int]]:
    """The deployment's own processes by part (not the machine's other PostgreSQL or gunicorn)."""
    run, pg = Path(env["DEPLOY_DIR"]) / "run", Path(env["DEPLOY_DIR"]) / "pg"

    def tree(pid: int | None) -> list[int]:
        return [pid, *children(pid)] if pid else []

    def postmaster(name: str) -> int | None:
        try:
            return int((pg / name / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    webs = [int(p.read_text().split()[0]) for p in run.glob("web*.pid")]
    return {
        "web": [p for w in webs for p in tree(w)],
        "postgres": tree(postmaster("primary")) + tree(postmaster("replica")),
        "pgbouncer": [p for name in ("pgbouncer-primary", "pgbouncer-replica") if (p := pidfile(env, name))],
        "haproxy": [p for p in [pidfile(env, "haproxy")] if p],
    }


def haproxy_command(env: dict, command: str) -> None:
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(Path(env["DEPLOY_DIR"]) / "run" / "haproxy.sock"))
        s.sendall(command.encode() + b"\n")
        s.recv(65536)


def use_nodes(env: dict, count: int) -> None:
    for name in sorted(haproxy_servers(env)):
        index = int(name.removeprefix("web"))
        for backend in ("web", "public"):  # the bare view is served by the one, first scans by the other
            haproxy_command(env, f"set server {backend}/{name} state {'ready' if index <= count else 'maint'}")
    time.sleep(1)


class LagSampler(threading.Thread):
    def __init__(self, env: dict):
        super().__init__(daemon=True)
        self.env, self.samples, self.stopping = env, [], threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            with contextlib.suppress(Exception):
                self.samples.append(replica_lag(self.env))
            self.stopping.wait(0.5)

    def stop(self) -> dict:
        self.stopping.set()
        self.join()
        values = [s for s in self.samples if s["bytes"] is not None]
        return {
            "max_bytes": max((s["bytes"] for s in values), default=None),
            "max_ms": max((s["ms"] for s in values), default=None),
        }


def measured_run(env: dict, script: Path, duration: int, connections: int) -> dict:
    pids = processes_of(env)
    before = {part: cpu_seconds(p) for part, p in pids.items()}
    scans = {k: certificate_scans(env[f"DEPLOY_{k.upper()}_DIRECT_URL"]) for k in ("primary", "replica")}
    lag = LagSampler(env)
    lag.start()
    result = wrk(env["DEPLOY_LB_URL"] + "/", duration, connections, script)
    result["lag"] = lag.stop()
    requests = result["rps"] * duration
    result["cpu_ms"] = {part: (cpu_seconds(p) - before[part]) * 1000 / max(requests, 1) for part, p in pids.items()}
    time.sleep(1.2)
    result["reads"] = {
        k: certificate_scans(env[f"DEPLOY_{k.upper()}_DIRECT_URL"]) - scans[k] for k in ("primary", "replica")
    }
    return result


def issuance_run(env: dict, workers: int, plans: int, candidates: int) -> dict:
    from fault_concurrency import make_filed_org, make_finalised_plan, make_officer

    fresh_factory_sequences()

    from accounts.actors import Actor
    from certificates import issuance
    from certificates.models import Certificate

    for i in (1, 2):
        cluster("start" if i <= workers else "stop", "worker", str(i))
    time.sleep(2)
    officer = make_officer()
    stamp = int(time.time()) % 100_000
    made = []
    for k in range(plans):
        org, admin = make_filed_org(stamp * 10 + k + workers * 3, officer)
        made.append(
            make_finalised_plan(org, admin, candidates, person_offset=((stamp + k * 7 + workers) % 9000) * 1000)
        )
    parts = processes_of(env)
    workers_pids = [p for i in (1, 2) if (w := pidfile(env, f"worker{i}")) for p in [w, *children(w)]]
    cpu_before = cpu_seconds(workers_pids), cpu_seconds(parts["postgres"])
    t0 = time.monotonic()
    batches = [issuance.issue_batch_start(actor=Actor.platform(), plan_id=p.id) for p in made]
    while time.monotonic() - t0 < 1800:
        for b in batches:
            b.refresh_from_db()
        if all(b.status in ("done", "failed") for b in batches):
            break
        time.sleep(0.5)
    seconds = time.monotonic() - t0
    issued = Certificate.objects.filter(registration__plan__in=made).count()
    cpu = cpu_seconds(workers_pids) - cpu_before[0], cpu_seconds(parts["postgres"]) - cpu_before[1]
    return {
        "workers": workers,
        "issued": issued,
        "seconds": seconds,
        "per_minute": issued * 60 / seconds,
        "worker_ms": cpu[0] * 1000 / max(issued, 1),
        "postgres_ms": cpu[1] * 1000 / max(issued, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000_000, help="certificates in the database")
    parser.add_argument("--duration", type=int, default=20, help="seconds per measured run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--plans", type=int, default=2, help="issuance: plans (batches) per run")
    parser.add_argument("--candidates", type=int, default=1000, help="issuance: candidates per plan")
    parser.add_argument("--only", choices=["scans", "issuance"], help="run one half of the bench")
    args = parser.parse_args()
    env = require_running()
    setup_django(env)
    from bench.load_scale import load
    from certificates.models import Certificate

    print(
        f"bench_scale {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f}; deployment {env['DEPLOY_LB_URL']}",
        flush=True,
    )
    result = load(args.count)
    if result.loaded:
        print(f"load: {result.loaded:,} certificates in {result.seconds:.0f} s ({result.rows_per_second:,.0f}/s)")
    else:
        print(f"load: {result.total:,} bench certificates were already loaded (this run loaded none)")
    t0 = time.monotonic()
    while (lag := replica_lag(env))["bytes"] and time.monotonic() - t0 < 1800:
        time.sleep(1)
    print(f"replica caught up with the load {time.monotonic() - t0:.1f} s after it ended (lag now {lag})")
    total = Certificate.objects.count()
    print(f"certificates in PostgreSQL: {total:,}", flush=True)
    from bench.load_scale import prewarm

    for part in ("primary", "replica"):
        print(f"prewarm, {part}: {prewarm(env[f'DEPLOY_{part.upper()}_DIRECT_URL'])}", flush=True)

    if args.only != "issuance":
        scans(env, args, total)
    if args.only != "scans":
        issuance(env, args)


def scans(env: dict, args, total: int) -> None:
    from bench.load_scale import sample_tokens

    per_run = args.duration * 3000 + 5000  # more first scans than a run can use at this machine's speed
    tokens = sample_tokens(per_run * 2 + 2000, seed=int(time.time()))
    warm, fresh = tokens[:2000], [tokens[2000 : 2000 + per_run], tokens[2000 + per_run :]]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        bare = wrk_script(Path(tmp) / "bare.lua", "/ping?t=", warm, each_once=False)
        warm_script = wrk_script(Path(tmp) / "warm.lua", "/api/v1/verify/", warm, each_once=False)
        for nodes in (1, 2):
            use_nodes(env, nodes)
            first = wrk_script(Path(tmp) / f"first{nodes}.lua", "/api/v1/verify/", fresh[nodes - 1], each_once=True)
            wrk(env["DEPLOY_LB_URL"] + "/", 3, args.connections, bare)
            wrk(env["DEPLOY_LB_URL"] + "/", 3, args.connections, warm_script)
            b = measured_run(env, bare, args.duration, args.connections)
            f = measured_run(env, first, args.duration, args.connections)
            rows.append((nodes, b, f))
            print(f"  {nodes} node(s): bare {b['rps']:.0f}/s, first scans {f['rps']:.0f}/s", flush=True)
        use_nodes(env, 2)

    print(
        f"\nfirst scans through HAProxy, {args.connections} connections, {args.duration} s each, {total:,} certificates"
    )
    print(
        f"{'web nodes':<10}{'bare/s':>8}{'p99':>7}{'first/s':>9}{'p99':>7}{'ratio':>7}{'non-2xx':>8}"
        f"{'replica reads':>14}{'lag max':>12}"
    )
    for nodes, b, f in rows:
        reads = f["reads"]
        share = reads["replica"] / max(reads["replica"] + reads["primary"], 1)
        lag = f["lag"]
        lag_text = f"{lag['max_bytes'] or 0:,} B" if lag["max_bytes"] is not None else "n/a"
        print(
            f"{nodes:<10}{b['rps']:>8.0f}{b['p99_ms']:>6.0f}ms{f['rps']:>9.0f}{f['p99_ms']:>6.0f}ms"
            f"{f['rps'] / b['rps']:>7.2f}{f['non2xx'] + f['socket_errors']:>8}{share:>13.0%}{lag_text:>12}"
        )
    print(
        "\nCPU per request (ms), all parts on this machine (from /proc, so other work on the machine does not count):"
    )
    for nodes, b, f in rows:
        for label, run in (("bare view", b), ("first scan", f)):
            cost = run["cpu_ms"]
            print(
                f"  {nodes} node(s), {label:<10}: web {cost['web']:.2f}, PostgreSQL {cost['postgres']:.2f}, PgBouncer "
                f"{cost['pgbouncer']:.2f}, HAProxy {cost['haproxy']:.2f}; total {sum(cost.values()):.2f}"
            )
    print("  (PostgreSQL's share includes the primary's work on the verification log's bulk inserts)")
    web_ms = rows[-1][2]["cpu_ms"]["web"]
    print(
        f"  a web node's core answers about {1000 / max(web_ms, 1e-9):,.0f} first scans/s of its own CPU; "
        f"each added node with its own cores adds that. This machine has {os.cpu_count()} cores shared by wrk, "
        "HAProxy, both nodes, PgBouncer and both PostgreSQL clusters, so the second node cannot add throughput here."
    )


def issuance(env: dict, args) -> None:
    print(f"\nissuance through the deployment's Celery workers ({args.plans} plans x {args.candidates} candidates):")
    for workers in (1, 2):
        r = issuance_run(env, workers, args.plans, args.candidates)
        print(
            f"  {workers} worker(s): {r['issued']} certificates in {r['seconds']:.1f} s = {r['per_minute']:,.0f}/min; "
            f"CPU per certificate: workers {r['worker_ms']:.1f} ms, PostgreSQL {r['postgres_ms']:.1f} ms"
        )
    print(
        "  (each batch is one task: two batches run side by side on two workers; on this machine's 2 shared cores "
        "the second worker takes CPU from the first, so compare the CPU per certificate)"
    )
    cluster("start", "worker", "2")
    print(f"\nreplica lag now: {replica_lag(env)}")


if __name__ == "__main__":
    if not pidfile(require_running(skip=True), "haproxy"):
        sys.exit("no balancer: deploy/cluster up")
    sys.path.insert(0, str(ROOT / "bench"))
    main()
