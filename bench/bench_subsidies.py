"""Benchmark subsidy eligibility: `.venv/bin/python bench/bench_subsidies.py [--n 100000] [--configured-db]`.

Builds data in a throwaway SQLite database (migrated, reference data, the seed policies and the demo's 2026
continuation loaded; with --configured-db, in the database DATABASE_URL names, migrated, and the data rolled back
afterwards): N claims from N certificates of 0.75·N people in 长春, 吉林市, 厦门 and 北京, issued 2024–2026, with
insurance records (some with the registered job), training subsidies and earlier granted claims for some of them,
and the facts the 2025–2026 rules read: higher certificates held, declared certificates (verified or not),
military service, other regions' payments and extracts, transfers, employers' job statements; 长春's versions check
证岗相适 and count military service. Then times the one eligibility function, `subsidies.eligibility.assess`, over
all N claims in a single call, and counts its queries (a few per 2,000 people, never one per claim).

BEFORE is the figure the same command printed before those rules (issue 16), for comparison; both depend on the
machine's load at the time (this 2-core machine is shared), which the output shows.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--n", type=int, default=100_000, help="number of claims (default 100000)")
parser.add_argument("--configured-db", action="store_true", help="use DATABASE_URL instead of a throwaway SQLite")
args = parser.parse_args()

_tmp = tempfile.TemporaryDirectory(prefix="bench-subsidies-")
os.environ["VAR_DIR"] = _tmp.name  # keys, secret and (by default) the database stay out of the developer's var/
if not args.configured_db:
    os.environ["DATABASE_URL"] = f"sqlite:///{_tmp.name}/bench.sqlite3"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import Person  # noqa: E402
from certificates.models import Certificate  # noqa: E402
from occupations.models import Level, Occupation, Region  # noqa: E402
from occupations.services import reference_load  # noqa: E402
from subsidies.eligibility import assess  # noqa: E402
from subsidies.models import (  # noqa: E402
    Claim,
    DeclaredCertificate,
    InsuranceRecord,
    MilitaryServiceRecord,
    OtherRegionExtract,
    OtherRegionSubsidyRecord,
    SubsidyPolicy,
    TrainingSubsidyRecord,
)
from subsidies.policies import DEMO_FILE, policies_load  # noqa: E402

# Measured on 2026-12-07 with the code before the 2025–2026 rules (main at 58df756), on this shared 2-core machine:
BEFORE = "100,000 claims in 88.05 s (1,136 claims/s, 880.5 µs per claim), 118 queries, load average 15.2"

REGIONS = ["220102", "220104", "220202", "350203", "110105"]
TODAY = datetime.date(2026, 11, 30)


class _Rollback(Exception):
    pass


def build(n: int, rng: random.Random) -> None:
    occupations = list(Occupation.objects.filter(active=True).values_list("id", "name"))
    levels = list(Level.objects.filter(is_standard=True))
    regions = {r.code: r for r in Region.objects.filter(code__in=REGIONS)}
    people_count = n * 3 // 4
    Person.objects.bulk_create(
        [Person(name=f"测{i}", id_type="ric", id_number=f"B{i:017d}") for i in range(people_count)], batch_size=5000
    )
    person_ids = list(Person.objects.filter(id_number__startswith="B").order_by("id").values_list("id", flat=True))
    certificates, plan = [], []
    for i in range(n):
        # The first quarter of the people hold a second certificate, in the next occupation of their first.
        second = i >= people_count
        holder = i - people_count if second else i
        person_id = person_ids[holder]
        occ_index = (holder * 7 + (1 if second else 0)) % len(occupations)
        occupation_id, occupation_name = occupations[occ_index]
        level = levels[i % len(levels)]
        issued = datetime.date(2024, 1, 1) + datetime.timedelta(days=rng.randrange(0, 1030))
        claimed = min(issued + datetime.timedelta(days=rng.randrange(1, 420)), TODAY)
        region_code = REGIONS[i % len(REGIONS)]
        number = f"B{i:021d}"
        certificates.append(
            Certificate(
                number=number,
                person_id=person_id,
                occupation_id=occupation_id,
                level=level,
                holder_name=f"测{i}",
                id_type="居民身份证",
                id_number=f"B{i:017d}",
                occupation_name=occupation_name,
                organisation_name="基准测试评价机构",
                issued_on=issued,
                region_code=region_code,
                status="valid" if i % 97 else "revoked",
                token=f"bench.{number}",
                # bulk_create skips the insert-time redraw of a colliding random position: give each its own.
                status_index=i,
            )
        )
        status = Claim.Status.PAID if second and i % 3 == 0 else Claim.Status.SUBMITTED
        category = "student" if i % 53 == 0 else "employee"
        plan.append((person_id, occupation_id, level.id, regions[region_code], claimed, status, category))
    Certificate.objects.bulk_create(certificates, batch_size=5000)
    cert_ids = list(Certificate.objects.filter(number__startswith="B").order_by("id").values_list("id", flat=True))
    Claim.objects.bulk_create(
        [
            Claim(
                certificate_id=cert_id,
                person_id=person_id,
                occupation_id=occupation_id,
                level_id=level_id,
                region=region,
                category=category,
                insurance_months_declared=rng.choice([None, 6, 12, 24, 36]),
                account_kind="bank_card",
                account_number="6222020200001234567",
                claimed_on=claimed,
                status=status,
                amount=Decimal(1000) if status == Claim.Status.PAID else None,
            )
            for cert_id, (person_id, occupation_id, level_id, region, claimed, status, category) in zip(
                cert_ids, plan, strict=True
            )
        ],
        batch_size=5000,
    )
    changchun = regions["220102"]
    InsuranceRecord.objects.bulk_create(
        [
            InsuranceRecord(
                person_id=pid,
                months=rng.randrange(0, 60),
                as_of=datetime.date(2025, 12, 31),
                region=changchun,
                source="基准",
                job_occupation_id=occupations[(k * 7) % len(occupations)][0] if k % 3 else None,
            )
            for k, pid in enumerate(person_ids[::2])
        ],
        batch_size=5000,
    )
    _new_rule_facts(n, rng, person_ids, occupations, levels, regions)
    TrainingSubsidyRecord.objects.bulk_create(
        [
            TrainingSubsidyRecord(
                person_id=pid,
                occupation_id=occupations[(k * 7) % len(occupations)][0],
                granted_on=datetime.date(2024, 6, 1),
                region=changchun,
                source="基准",
            )
            for k, pid in enumerate(person_ids[::20])
        ],
        batch_size=5000,
    )


def _new_rule_facts(n, rng, person_ids, occupations, levels, regions) -> None:
    """What the 2025–2026 rules read, for a share of the people."""
    changchun = regions["220102"]
    by_rank = sorted(levels, key=lambda lv: lv.rank)
    DeclaredCertificate.objects.bulk_create(
        [
            DeclaredCertificate(
                person_id=pid,
                occupation_id=occupations[(k * 7 * 10) % len(occupations)][0],
                level=by_rank[-1],
                number=f"D{k:09d}",
                issued_on=datetime.date(2020, 1, 1),
                status="verified" if k % 2 else "pending",
            )
            for k, pid in enumerate(person_ids[::10])
        ],
        batch_size=5000,
    )
    MilitaryServiceRecord.objects.bulk_create(
        [
            MilitaryServiceRecord(
                person_id=pid,
                months=rng.choice([6, 24, 60]),
                discharged_on=datetime.date(2023, 9, 1),
                region=changchun,
                source="基准",
            )
            for pid in person_ids[::7]
        ],
        batch_size=5000,
    )
    extract = OtherRegionExtract.objects.create(
        source_region=Region.objects.get(code="350000"), as_of=datetime.date(2025, 12, 31), region=changchun
    )
    OtherRegionSubsidyRecord.objects.bulk_create(
        [
            OtherRegionSubsidyRecord(
                extract=extract,
                person_id=pid,
                occupation_id=occupations[(k * 13 * 7) % len(occupations)][0],
                level=by_rank[k % len(by_rank)],
                paid_on=datetime.date(2024, 5, 1),
            )
            for k, pid in enumerate(person_ids[::13])
        ],
        batch_size=5000,
    )
    fujian, beijing = Region.objects.get(code="350200"), Region.objects.get(code="110000")
    ids = list(Claim.objects.filter(certificate__number__startswith="B").order_by("id").values_list("id", flat=True))
    Claim.objects.filter(pk__in=ids[::11]).update(transferred_from=fujian, declares_not_paid_elsewhere=True)
    Claim.objects.filter(pk__in=ids[5::23]).update(transferred_from=beijing)
    Claim.objects.filter(pk__in=ids[::9]).update(job_occupation_id=occupations[0][0], military_months_declared=12)
    SubsidyPolicy.objects.filter(region__code="220100").update(
        counts_military_service=True, job_fit_source="either", job_fit_match="minor_group"
    )


def main() -> None:
    rng = random.Random(20261130)
    call_command("migrate", verbosity=0)
    try:
        with transaction.atomic():
            reference_load()
            policies_load()
            policies_load(path=DEMO_FILE)
            started = time.perf_counter()
            build(args.n, rng)
            built = time.perf_counter() - started
            started = time.perf_counter()
            claims = list(
                Claim.objects.filter(certificate__number__startswith="B")
                .select_related("certificate", "region", "transferred_from")
                .order_by("id")
            )
            loaded = time.perf_counter() - started
            connection.queries_log.clear()  # building filled the log: count only assess()'s queries
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                decisions = assess(claims, today=TODAY)
                elapsed = time.perf_counter() - started
            failures = Counter(r.code for d in decisions for r in d.failures)
            eligible = sum(d.eligible for d in decisions)
            amount = sum((d.amount for d in decisions if d.amount is not None), Decimal(0))
            print(f"data: {len(claims):,} claims built in {built:.1f} s, loaded with certificates in {loaded:.1f} s")
            print(
                f"assess(): {len(decisions):,} claims in {elapsed:.2f} s "
                f"({len(decisions) / elapsed:,.0f} claims/s, {elapsed / len(decisions) * 1e6:.1f} µs per claim), "
                f"{len(queries)} queries"
            )
            print(f"eligible: {eligible:,}, total {amount:,.0f} yuan; failed rules: {dict(failures.most_common())}")
            unverified = Counter(r.code for d in decisions for r in d.unverified)
            print(f"left to the officer (met, unverified): {dict(unverified.most_common())}")
            print(f"before the 2025–2026 rules: {BEFORE}; load average now: {os.getloadavg()[0]:.1f}")
            raise _Rollback()
    except _Rollback:
        pass
    finally:
        _tmp.cleanup()


if __name__ == "__main__":
    main()
