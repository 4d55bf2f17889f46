"""Fault test: PostgreSQL restarted under load, while certificates are verified, issued and claimed.

    .venv/bin/python bench/fault_db_restart.py       # PostgreSQL fault_bench_dbrestart (dropped at the end), Redis db 14
    FAULT_DB_RESTART_DATABASE_URL=postgres://postgres@127.0.0.1:5432/other \\
    FAULT_DB_RESTART_BROKER_URL=redis://127.0.0.1:6379/5 .venv/bin/python bench/fault_db_restart.py --keep

It restarts the machine's PostgreSQL cluster (`pg_ctlcluster --skip-systemctl-redirect <version> main restart`), so
every other database on it blinks too: the outage is kept to the restart itself (a few seconds) and done once.

1. Set-up: a fresh database; one organisation's plan issued (the certificates the public verifies); ORGS more
   organisations with finalised plans of CANDIDATES passed candidates each, not yet issued; the holders of the
   issued certificates as workers.
2. gunicorn -w 2 serves the platform (persistent connections with CONN_HEALTH_CHECKS, as in production) and a real
   Celery worker runs tasks on Redis.
3. Load: threads verify by API (/api/v1/verify/{token}) and by page (/v/{token}) as fast as they can; the issue
   batches are queued on the worker; threads submit the workers' subsidy claims one after another (a person
   whose click fails clicks again).
4. Mid-run PostgreSQL is restarted. Load goes on until the platform has answered normally for RECOVER seconds.
Checks (exit 1 on any violation): no 500 during the outage, every error a 503 that says so (JSON {code, message}
for the API, the "service unavailable" page for pages); after the restart, verification answers 200 `valid` again
without anyone stepping in; every batch completes by the worker's own retries; no duplicate certificate number,
serials contiguous, every passed candidate issued exactly once; one claim per certificate; the audit chain intact.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
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

DB_URL = os.environ.get("FAULT_DB_RESTART_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/fault_bench_dbrestart")
BROKER_URL = os.environ.get("FAULT_DB_RESTART_BROKER_URL", "redis://127.0.0.1:6379/14")
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_version() -> str:
    versions = sorted(os.listdir("/etc/postgresql"), key=lambda v: int(v) if v.isdigit() else 0)
    return versions[-1]


def pg_restart() -> float:
    """Restart the cluster; returns the seconds the command took (the outage is at least that)."""
    t = time.perf_counter()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", pg_version(), "main", "restart"],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - t


class Load:
    """Verification traffic over HTTP; every answer recorded as (time, kind, status, verdict)."""

    def __init__(self, base: str, tokens: list[str]):
        self.base, self.tokens = base, tokens
        self.records: list[tuple[float, str, int, str]] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def _one(self, kind: str, token: str) -> tuple[int, str]:
        url = f"{self.base}/api/v1/verify/{token}" if kind == "api" else f"{self.base}/v/{token}"
        try:
            with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310 (our own loopback server)
                status, body, ctype = r.status, r.read(), r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            status, body, ctype = e.code, e.read(), e.headers.get("Content-Type", "")
        except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
            return 0, f"connection: {e}"
        return status, self._verdict(kind, status, body, ctype)

    @staticmethod
    def _verdict(kind: str, status: int, body: bytes, ctype: str) -> str:
        text = body.decode("utf-8", "replace")
        if kind == "api":
            try:
                data = json.loads(text)
            except ValueError:
                return f"not JSON ({ctype}): {text[:80]!r}"
            if status == 200:
                return data.get("status", "?")
            if {"code", "message"} <= set(data):
                return data["code"]
            return f"JSON without code/message: {text[:80]!r}"
        if status == 200:
            return "valid" if 'data-status="valid"' in text else "page without valid status"
        if status == 503 and "服务暂时不可用" in text:
            return "unavailable-page"
        return f"page: {text[:80]!r}"

    def run(self, k: int) -> None:
        i = k
        while not self.stop.is_set():
            kind = "api" if i % 2 == 0 else "page"
            status, verdict = self._one(kind, self.tokens[i % len(self.tokens)])
            with self.lock:
                self.records.append((time.monotonic(), kind, status, verdict))
            i += 1


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer 200 within {timeout} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=8, help="organisations whose batches run during the restart")
    parser.add_argument("--candidates", type=int, default=300)
    parser.add_argument("--holders", type=int, default=40, help="issued certificates verified and claimed")
    parser.add_argument("--threads", type=int, default=4, help="verification threads")
    parser.add_argument("--before", type=float, default=3.0, help="seconds of load before the restart")
    parser.add_argument("--recover", type=float, default=5.0, help="seconds of normal answers required after it")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--no-restart", action="store_true", help="the same load without the restart (a baseline)")
    args = parser.parse_args()
    t_start = time.perf_counter()
    tmp = tempfile.TemporaryDirectory(prefix="fault-dbrestart-")
    # Tasks go to the real broker; the set-up's own issuance (before the worker starts) runs in-process.
    env = setup_env(
        DB_URL,
        tmp.name,
        CONN_MAX_AGE="60",
        CELERY_BROKER_URL=BROKER_URL,
        CELERY_RESULT_BACKEND=BROKER_URL,
        CELERY_TASK_ALWAYS_EAGER="true",
    )
    recreate_database(DB_URL)
    import django

    django.setup()
    procs: list[subprocess.Popen] = []
    try:
        return run(args, env, procs, t_start)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        if not args.keep:
            drop_database(DB_URL)
        tmp.cleanup()


def run(args, env: dict, procs: list, t_start: float) -> int:
    from django.db import InterfaceError, OperationalError, close_old_connections, connection

    from accounts.actors import Actor
    from accounts.models import Role, User
    from certificates import issuance
    from certificates.models import Certificate, IssueBatch
    from config.celery import app
    from core.audit import audit_verify
    from core.errors import Conflict
    from subsidies import services
    from subsidies.models import Claim
    from tests.factories import member

    problems: list[str] = []
    prepare_schema()
    officer = make_officer()
    org, admin = make_filed_org(0, officer)
    issued_plan = make_finalised_plan(org, admin, args.holders, person_offset=0)
    issuance.issue_batch_start(actor=Actor.platform(), plan_id=issued_plan.id)  # eager, in this process
    certs = list(Certificate.objects.select_related("person").order_by("id"))
    tokens = [c.token for c in certs]
    workers = [member(Role.WORKER, person=c.person) for c in certs]
    plans = [issued_plan]
    for i in range(1, args.orgs + 1):
        o, a = make_filed_org(i, officer)
        plans.append(make_finalised_plan(o, a, args.candidates, person_offset=10_000 + i * args.candidates))
    print(
        f"set-up: {len(certs)} issued certificates and their holders; {args.orgs} plans × {args.candidates} passed "
        f"candidates to issue; {time.perf_counter() - t_start:.1f} s",
        flush=True,
    )

    # The platform as deployed: gunicorn -w 2 and a Celery worker on Redis.
    port = free_port()
    served = {**os.environ, **env, "CELERY_TASK_ALWAYS_EAGER": "false"}
    # The served processes' logs (a 503 per request during the outage) go to a file, printed on failure.
    logfile = open(Path(env["VAR_DIR"]) / "served.log", "w+")  # noqa: SIM115 (closed with the temporary directory)
    procs.append(
        subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "error", "config.wsgi"],
            cwd=ROOT,
            env=served,
            stdout=logfile,
            stderr=subprocess.STDOUT,
        )
    )
    procs.append(
        subprocess.Popen(
            [
                *(str(BIN / "celery"), "-A", "config", "worker", "--pool=solo", "--concurrency=1"),
                *(
                    "--loglevel=ERROR",
                    "--without-gossip",
                    "--without-mingle",
                    "-n",
                    f"fault-dbrestart-{os.getpid()}@%h",
                ),
            ],
            cwd=ROOT,
            env=served,
            stdout=logfile,
            stderr=subprocess.STDOUT,
        )
    )
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/healthz")
    app.conf.task_always_eager = False

    load = Load(base, tokens)
    threads = [threading.Thread(target=load.run, args=(k,), daemon=True) for k in range(args.threads)]
    for t in threads:
        t.start()

    # Issue batches are queued on the worker; claims are submitted one after another, retried like a user would.
    batches = [issuance.issue_batch_start(actor=Actor.platform(), plan_id=p.id) for p in plans[1:]]
    claim_outcome: Counter = Counter()
    claim_errors: list[str] = []
    claims_done = threading.Event()

    def claim_all() -> None:
        for w, c in zip(workers, certs, strict=True):
            for _attempt in range(60):
                try:
                    close_old_connections()
                    services.claim_submit(
                        actor=Actor.for_user(User.objects.get(pk=w.id)),
                        certificate_id=c.id,
                        category="employee",
                        insurance_months=24,
                        account_kind="bank_card",
                        account_number="6222020200001234567",
                        bank_name="中国工商银行",
                    )
                    claim_outcome["created"] += 1
                    break
                except (OperationalError, InterfaceError):
                    claim_outcome["database_unavailable (retried)"] += 1
                    connection.close()
                    time.sleep(0.5)
                except Conflict as exc:  # the first attempt committed before the connection dropped
                    claim_outcome[f"conflict:{exc.code}"] += 1
                    break
                except Exception as exc:
                    claim_errors.append(f"cert {c.id}: {type(exc).__name__}: {exc}")
                    break
            time.sleep(0.1)
        connection.close()
        claims_done.set()

    claimer = threading.Thread(target=claim_all, daemon=True)
    claimer.start()
    time.sleep(args.before)
    done_before = IssueBatch.objects.filter(pk__in=[b.id for b in batches], status="done").count()
    issued_before = Certificate.objects.count() - len(certs)
    connection.close()

    t_down = time.monotonic()
    restart_s = 0.0 if args.no_restart else pg_restart()
    t_up = time.monotonic()
    print(
        f"restart: PostgreSQL {pg_version()} restarted in {restart_s:.1f} s; at that moment {done_before}/{len(batches)} "
        f"batches done, {issued_before} of {args.orgs * args.candidates} certificates issued",
        flush=True,
    )

    # Load goes on until verification has answered 200 `valid` throughout the last RECOVER seconds.
    first_ok_after = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.5)
        with load.lock:
            after = [r for r in load.records if r[0] > t_up]
        oks = [r for r in after if r[2] == 200 and r[3] == "valid"]
        if oks and first_ok_after is None:
            first_ok_after = oks[0][0] - t_up
        bad_tail = [r for r in after if r[0] > time.monotonic() - args.recover and r[2] != 200]
        if first_ok_after is not None and not bad_tail and time.monotonic() - oks[0][0] > args.recover:
            break
    load.stop.set()
    for t in threads:
        t.join(timeout=15)
    claims_done.wait(timeout=120)

    # Batches complete by the worker's own retries.
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        close_old_connections()
        statuses = Counter(IssueBatch.objects.filter(pk__in=[b.id for b in batches]).values_list("status", flat=True))
        if statuses.get("done", 0) == len(batches):
            break
        time.sleep(1)
    t_batches = time.monotonic() - t_up

    # --- Figures and checks --------------------------------------------------------------------------------------
    records = load.records
    total_s = records[-1][0] - records[0][0] if records else 0
    by_phase: dict[str, Counter] = {"before": Counter(), "outage": Counter(), "after": Counter()}
    last_bad = max((r[0] for r in records if r[2] != 200), default=t_down)
    for ts, kind, status, verdict in records:
        phase = "before" if ts < t_down else ("outage" if ts <= last_bad else "after")
        by_phase[phase][f"{kind} {status} {verdict}"] += 1
    print(f"verification: {len(records)} requests in {total_s:.1f} s ({len(records) / max(total_s, 0.001):.0f}/s)")
    for phase, counts in by_phase.items():
        print(f"  {phase}: {dict(counts.most_common())}")
    outage = last_bad - t_down if any(r[2] != 200 for r in records) else 0.0
    print(
        f"  errors seen for {outage:.1f} s from the restart; first valid answer {first_ok_after or 0:.1f} s after the "
        f"restart command returned"
    )
    for _ts, kind, status, verdict in records:
        if status == 200 and verdict != "valid":
            problems.append(f"{kind} answered 200 but {verdict}")
        elif status not in (200, 503, 0):
            problems.append(f"{kind} answered {status}: {verdict}")
        elif status == 503 and verdict not in ("service_unavailable", "verification_unavailable", "unavailable-page"):
            problems.append(f"{kind} 503 without a clear error: {verdict}")
    problems = list(dict.fromkeys(problems))[:10]
    if first_ok_after is None:
        problems.append("verification never answered `valid` again after the restart")
    for ts, kind, status, verdict in records:
        if ts > last_bad and (status != 200 or verdict != "valid"):
            problems.append(f"after recovery {kind} answered {status} {verdict}")
            break

    close_old_connections()
    statuses = Counter(IssueBatch.objects.filter(pk__in=[b.id for b in batches]).values_list("status", flat=True))
    print(
        f"issuance: batch statuses {dict(statuses)} {t_batches:.1f} s after the restart; "
        f"{Certificate.objects.count() - len(certs)} certificates issued (expected {args.orgs * args.candidates})"
    )
    if statuses.get("done", 0) != len(batches):
        problems.append(f"not every batch completed by itself: {dict(statuses)}")
    problems += check_certificates(plans)
    live = Counter(Claim.objects.exclude(status__in=["rejected", "withdrawn"]).values_list("certificate_id", flat=True))
    print(f"claims: {dict(claim_outcome)}; {Claim.objects.count()} in the database for {len(certs)} certificates")
    problems += claim_errors
    if [c for c, n in live.items() if n > 1]:
        problems.append("a certificate with two live claims")
    if Claim.objects.count() != len(certs):
        problems.append(f"{Claim.objects.count()} claims for {len(certs)} certificates")
    report = audit_verify()
    print(f"audit chain: {report}")
    if not report.ok:
        problems.append(f"audit chain broken: {report}")
    print(f"total time {time.perf_counter() - t_start:.1f} s")
    if problems:
        logfile.seek(0)
        print("last lines of the served processes' log:\n" + "".join(logfile.readlines()[-30:]))
    for p in problems:
        print(f"  VIOLATION: {p}")
    print("PASS" if not problems else f"FAIL ({len(problems)} violations)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
