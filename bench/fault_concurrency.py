"""Fault test: 50 organisations issuing certificates at once, then 50 workers claiming subsidies at once.

    .venv/bin/python bench/fault_concurrency.py            # PostgreSQL, database fault_bench (dropped at the end)
    FAULT_DATABASE_URL=postgres://postgres@127.0.0.1:5432/other .venv/bin/python bench/fault_concurrency.py --keep

50 filed organisations each get a finalised plan of 10 passed candidates (levels 4 and 3); a pool of 10 threads
runs certificates.issuance.issue_batch_run for the 50 batches at once. Then a pool of 10 threads submits 50 claims
(each worker for their own certificate) plus 20 duplicate attempts on the same certificates, released together.
Checks: no duplicate certificate number; serials per (prefix, year, level) contiguous from 1; every passed
candidate issued exactly once; no certificate with two live claims; counts match. Exits 1 on any violation.

The set-up helpers are reused by bench/fault_worker_kill.py.
"""

import argparse
import datetime
import io
import os
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB_URL = os.environ.get("FAULT_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/fault_bench")
PROTECTED = {"test", "test_test", "bench_verify", "postgres"}


def db_name(url: str) -> str:
    return url.rsplit("/", 1)[1]


def _admin_conn(url: str):
    import psycopg

    return psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True)


def recreate_database(url: str) -> None:
    name = db_name(url)
    assert name not in PROTECTED, f"refusing to touch database {name}"
    with _admin_conn(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    name = db_name(url)
    assert name not in PROTECTED, f"refusing to touch database {name}"
    from django.db import connections

    connections.close_all()
    with _admin_conn(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_env(url: str, tmp: str, **extra: str) -> dict:
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": url,
        "VAR_DIR": tmp,
        "SIGNING_KEYS_DIR": str(Path(tmp) / "keys"),
        "SIGNING_KEYS_GENERATE": "true",
        "LOG_LEVEL": "ERROR",
        "CELERY_BROKER_URL": "",
        "VERIFICATION_LOG_REDIS_URL": "",
        "CONN_MAX_AGE": "0",
        **extra,
    }
    os.environ.update(env)
    return env


def prepare_schema() -> None:
    from django.core.management import call_command

    from subsidies.policies import policies_load

    call_command("migrate", verbosity=0, interactive=False)
    call_command("load_reference", verbosity=0, stdout=io.StringIO())
    policies_load()


def make_officer():
    from accounts.models import Bureau, Membership, Role, User
    from occupations.models import Region

    bureau, _ = Bureau.objects.get_or_create(
        name="长春市人社局(故障测试)", defaults={"region": Region.objects.get(code="220100")}
    )
    officer, created = User.objects.get_or_create(username="fault_officer")
    if created:
        Membership.objects.create(user=officer, role=Role.BUREAU_STAFF, bureau=bureau)
    return officer


def make_filed_org(i: int, officer):
    """A filed organisation (so it has its number prefix) and its admin, through the filing services."""
    from accounts.models import Role
    from accreditation.models import Organisation
    from occupations.models import Region
    from tests.assessments.conftest import file_organisation
    from tests.factories import make_uscc, member

    org = Organisation.objects.create(
        name=f"故障测试评价机构{i:03d}",
        kind="S",
        credit_code=make_uscc(900_000 + i),
        region=Region.objects.get(code="220102"),
        contact_name="联系人",
        contact_phone="13800000000",
    )
    admin = member(Role.ORG_ADMIN, organisation=org)
    file_organisation(org, admin, officer)
    return org, admin


def make_finalised_plan(org, admin, n: int, person_offset: int):
    """A published plan with n approved candidates (alternating levels 4 and 3), all passed and finalised."""
    from django.utils import timezone
    from stdnum.cn import ric

    from accounts.models import Person
    from assessments.models import Plan, Registration
    from tests.assessments.conftest import make_plan

    plan = make_plan(org, admin, levels=("4", "3"), capacity=max(n + 10, 100))
    levels = {lv.code: lv for lv in plan.levels.all()}

    def person(k: int) -> Person:
        birth = datetime.date(1980, 1, 1) + datetime.timedelta(days=k // 900)
        body = f"220104{birth:%Y%m%d}{k % 900 + 1:03d}"
        return Person(name=f"考生{k}", id_type="ric", id_number=body + ric.calc_check_digit(body + "0"))

    # New people only: an earlier run, or the holders bench/load_scale.py loaded (5,000,000 at 10M), may hold
    # some of these ID numbers.
    people, k = [], person_offset
    while len(people) < n:
        batch = [person(k + i) for i in range(n - len(people))]
        k += len(batch)
        taken = set(
            Person.objects.filter(id_type="ric", id_number__in=[p.id_number for p in batch]).values_list(
                "id_number", flat=True
            )
        )
        people += [p for p in batch if p.id_number not in taken]
    people = Person.objects.bulk_create(people)
    now = timezone.now()
    Registration.objects.bulk_create(
        [
            Registration(
                plan=plan,
                person=p,
                level=levels["4" if j % 2 == 0 else "3"],
                status="approved",
                pledge_accepted_at=now,
                work_years=12,
                outcome=Registration.Outcome.PASSED,
                finalised_at=now,
            )
            for j, p in enumerate(people)
        ]
    )
    Plan.objects.filter(pk=plan.id).update(status=Plan.Status.FINALISED, finalised_at=now)
    plan.refresh_from_db()
    return plan


def start_batch_without_enqueue(plan):
    """issue_batch_start as a system actor, with the on-commit enqueue suppressed (the bench runs the batch)."""
    from unittest import mock

    from accounts.actors import Actor
    from certificates import issuance
    from certificates.tasks import issue_batch_task

    with mock.patch.object(issue_batch_task, "delay"):
        return issuance.issue_batch_start(actor=Actor.platform(), plan_id=plan.id)


def check_certificates(plans) -> list[str]:
    """The issuance invariants over the given plans; returns the violations."""
    from assessments.models import Registration
    from certificates.models import Certificate

    problems = []
    numbers = list(Certificate.objects.values_list("number", flat=True))
    dup = [n for n, c in Counter(numbers).items() if c > 1]
    if dup:
        problems.append(f"{len(dup)} duplicate certificate numbers, e.g. {dup[:3]}")
    serials = defaultdict(list)
    for number in numbers:
        serials[(number[:13], number[13:15], number[15])].append(int(number[16:]))
    for key, got in serials.items():
        if sorted(got) != list(range(1, len(got) + 1)):
            missing = sorted(set(range(1, max(got) + 1)) - set(got))
            problems.append(
                f"serials of {key} not contiguous from 1: {len(got)} certs, max {max(got)}, gaps {missing[:5]}"
            )
    passed = Registration.objects.filter(plan__in=plans, outcome=Registration.Outcome.PASSED)
    per_reg = Counter(
        Certificate.objects.filter(registration__plan__in=plans).values_list("registration_id", flat=True)
    )
    never = [r for r in passed.values_list("id", flat=True) if per_reg.get(r, 0) == 0]
    twice = [r for r, c in per_reg.items() if c > 1]
    if never:
        problems.append(f"{len(never)} passed candidates without a certificate")
    if twice:
        problems.append(f"{len(twice)} registrations with more than one certificate")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=50)
    parser.add_argument("--candidates", type=int, default=10)
    parser.add_argument("--threads", type=int, default=10)
    parser.add_argument("--duplicates", type=int, default=20, help="extra claims for already-claimed certificates")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    t_start = time.perf_counter()
    tmp = tempfile.TemporaryDirectory(prefix="fault-conc-")
    setup_env(DB_URL, tmp.name)
    recreate_database(DB_URL)
    import django

    django.setup()
    from django.db import connection

    try:
        return run(args, t_start)
    finally:
        connection.close()
        if not args.keep:
            drop_database(DB_URL)
        tmp.cleanup()


def run(args, t_start: float) -> int:
    from django.db import connection

    from accounts.actors import Actor
    from accounts.models import Role, User
    from certificates import issuance
    from certificates.models import Certificate, IssueBatch
    from core.errors import Conflict
    from subsidies import services
    from subsidies.models import Claim
    from tests.factories import member

    prepare_schema()
    officer = make_officer()
    t0 = time.perf_counter()
    plans, batches = [], []
    for i in range(args.orgs):
        org, admin = make_filed_org(i, officer)
        plan = make_finalised_plan(org, admin, args.candidates, person_offset=i * args.candidates)
        plans.append(plan)
        batches.append(start_batch_without_enqueue(plan))
    setup_s = time.perf_counter() - t0
    print(
        f"set-up: {args.orgs} filed organisations, {args.orgs} finalised plans × {args.candidates} passed candidates, "
        f"{len(batches)} queued batches in {setup_s:.1f} s (after migrate {t0 - t_start:.1f} s)",
        flush=True,
    )

    # --- 1. 50 organisations issuing at once --------------------------------------------------------------------
    barrier = threading.Barrier(args.threads)
    errors: list[str] = []

    def issue(batch_id: int, k: int):
        try:
            if k < args.threads:
                barrier.wait(timeout=30)
            t = time.perf_counter()
            issuance.issue_batch_run(batch_id, chunk=4)  # small chunks: more interleaving of the counter locks
            return time.perf_counter() - t
        except Exception as exc:
            errors.append(f"batch {batch_id}: {type(exc).__name__}: {exc}")
            return None
        finally:
            connection.close()

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        durations = list(pool.map(issue, [b.id for b in batches], range(len(batches)), timeout=150))
    issue_s = time.perf_counter() - t0
    ok = [d for d in durations if d is not None]
    statuses = Counter(IssueBatch.objects.filter(pk__in=[b.id for b in batches]).values_list("status", flat=True))
    n_certs = Certificate.objects.count()
    expected = args.orgs * args.candidates
    print(
        f"issuance: {len(batches)} batches on {args.threads} threads in {issue_s:.2f} s "
        f"({n_certs / issue_s:.0f} certificates/s; per batch max {max(ok, default=0):.2f} s); "
        f"{n_certs} certificates (expected {expected}); batch statuses {dict(statuses)}",
        flush=True,
    )
    problems = list(errors)
    problems += check_certificates(plans)
    if n_certs != expected:
        problems.append(f"certificate count {n_certs} != passed candidates {expected}")
    if statuses.get("done", 0) != len(batches):
        problems.append(f"not every batch is done: {dict(statuses)}")

    # --- 2. 50 workers claiming at once, plus duplicate attempts -----------------------------------------------
    certs = list(Certificate.objects.select_related("person").order_by("id")[: args.orgs])
    workers = [member(Role.WORKER, person=c.person) for c in certs]
    attempts = [(w.id, c.id) for w, c in zip(workers, certs, strict=True)]
    attempts += [attempts[k % len(attempts)] for k in range(args.duplicates)]
    outcome: Counter = Counter()
    claim_errors: list[str] = []
    barrier = threading.Barrier(args.threads)

    def claim(item, k: int):
        user_id, cert_id = item
        try:
            if k < args.threads:
                barrier.wait(timeout=30)
            services.claim_submit(
                actor=Actor.for_user(User.objects.get(pk=user_id)),
                certificate_id=cert_id,
                category="employee",
                insurance_months=24,
                account_kind="bank_card",
                account_number="6222020200001234567",
                bank_name="中国工商银行",
            )
            outcome["created"] += 1
        except Conflict as exc:
            outcome[f"conflict:{exc.code}"] += 1
        except Exception as exc:
            outcome[f"error:{type(exc).__name__}"] += 1
            claim_errors.append(f"cert {cert_id}: {type(exc).__name__}: {exc}")
        finally:
            connection.close()

    # Interleave the duplicates with the originals so that both race for the same person lock.
    order = sorted(range(len(attempts)), key=lambda k: (attempts[k][1], k))
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        list(pool.map(claim, [attempts[k] for k in order], range(len(order)), timeout=120))
    claim_s = time.perf_counter() - t0
    live = Claim.objects.exclude(status__in=["rejected", "withdrawn"])
    per_cert = Counter(live.values_list("certificate_id", flat=True))
    n_claims = Claim.objects.count()
    print(
        f"claims: {len(attempts)} attempts ({len(certs)} workers + {args.duplicates} duplicates) on {args.threads} "
        f"threads in {claim_s:.2f} s; outcomes {dict(outcome)}; claims in database {n_claims}",
        flush=True,
    )
    problems += claim_errors
    two = [c for c, n in per_cert.items() if n > 1]
    if two:
        problems.append(f"{len(two)} certificates with two live claims")
    if n_claims != outcome["created"]:
        problems.append(f"claims in database {n_claims} != claims reported created {outcome['created']}")
    if outcome["created"] != len(certs):
        problems.append(f"{outcome['created']} claims created, expected one per certificate ({len(certs)})")
    if sum(outcome.values()) != len(attempts):
        problems.append(f"{len(attempts) - sum(outcome.values())} attempts unaccounted for")

    print(f"total time {time.perf_counter() - t_start:.1f} s")
    for p in problems:
        print(f"  VIOLATION: {p}")
    print("PASS" if not problems else f"FAIL ({len(problems)} violations)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
