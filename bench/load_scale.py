"""Bulk-load certificates into PostgreSQL with COPY, valid for public verification, at province scale.

    .venv/bin/python bench/load_scale.py --count 1000000       # into BENCH_DATABASE_URL (default bench_scale)
    .venv/bin/python bench/load_scale.py --count 10000000      # extends an earlier load to 10 million

From Python (bench/bench_scale.py, bench/bench_verify.py, bench/bench_exports.py):

    from bench.load_scale import load, sample_tokens
    result = load(1_000_000)          # Django set up from the environment (DATABASE_URL) or BENCH_DATABASE_URL
    tokens = sample_tokens(2000)      # tokens of random loaded certificates, for a scan generator

What a loaded certificate is: a row as issuance stores it (certificates/issuance.py), its token signed with the
key ring in SIGNING_KEYS_DIR (default var/bench-keys, the same the benchmarks serve with) over its printed fields,
so `GET /api/v1/verify/{token}` answers `valid` (or `revoked` / `suspended` for the few loaded that way) and an
altered token is `forged`, exactly as for an issued certificate. Each has its own holder (a Person with a valid
身份证号; two certificates per holder, of different levels), an e-certificate identifier, and a status-list position.
They are spread over 40 bench organisations in Jilin's cities, 24 occupations, five levels and the years
2016–2026, so reports and dashboards see realistic groups. Not loaded: plans and registrations (a certificate's
registration is optional, as for an imported one) and photos.

The load is deterministic and resumable: certificate i always gets the same number, holder and date, and a run
loads only the indexes the database does not hold yet (it counts the bench organisations' certificates), so
`--count 10000000` after a 1,000,000 load adds 9,000,000. Loaded certificates fill status lists of their own, as
issuance would (certificates/status_index.py): certificate i is in list BENCH_FIRST_LIST + i // PER_LIST, at a
position spread over the list's 2**22 by a bijection, PER_LIST (half the capacity) to a list; those lists are
recorded closed (full), so issuance in the same database never draws in them.

The rows go in with COPY in batches of `batch` rows, each batch one transaction (an interrupted load keeps
whole batches and the next run continues after them). Speed: the Ed25519 signature and the digest of the printed
fields per row are the client's share, index maintenance the server's; both cores work.
"""

import argparse
import datetime
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_scale")
ORGANISATIONS = 40
YEARS = tuple(range(2016, 2027))
# Status lists of loaded certificates: numbered from here (far above the lists a database opens by issuing), each
# of the standard capacity, filled to the standard threshold, positions i -> a*i mod capacity (a bijection: a odd).
BENCH_FIRST_LIST = 900_000
LIST_CAPACITY = 2**22
PER_LIST = LIST_CAPACITY // 2
POSITION_MULTIPLIER = 2_654_435_761 % LIST_CAPACITY | 1
BENCH_CREDIT_PREFIX = "9122000099990"  # + 4-digit organisation index + "X": 18 characters
BENCH_PREFIX_HEAD = "S000022" + "9990"  # + 2 digits: 13-character number prefixes nobody is filed with
REVOKED_EVERY = 211  # about 0.5 % of loaded certificates are revoked,
SUSPENDED_EVERY = 503  # about 0.2 % suspended


@dataclass
class LoadResult:
    loaded: int
    total: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.loaded / self.seconds if self.seconds else 0.0


def setup_django(database_url: str | None = None) -> None:
    """Set Django up against `database_url` (or the environment's DATABASE_URL, else the bench default), unless a
    caller has done so already."""
    from django.conf import settings

    if settings.configured:
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DATABASE_URL"] = database_url or os.environ.get("DATABASE_URL") or DEFAULT_DB_URL
    os.environ.setdefault("SIGNING_KEYS_DIR", str(ROOT / "var" / "bench-keys"))
    os.environ.setdefault("CELERY_BROKER_URL", "")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _organisations() -> list:
    """The 40 bench organisations, one per Jilin city or district in turn (created once)."""
    from accreditation.models import Organisation
    from occupations.models import Region

    regions = list(Region.objects.filter(code__startswith="22", kind="county").order_by("code")) or list(
        Region.objects.filter(code__startswith="22").exclude(code="220000").order_by("code")
    )
    orgs = []
    for k in range(ORGANISATIONS):
        region = regions[k % len(regions)]
        org, _ = Organisation.objects.get_or_create(
            credit_code=f"{BENCH_CREDIT_PREFIX}{k:04d}X",
            defaults=dict(
                name=f"基准测试评价机构{k + 1:02d}({region.name})",
                kind="S",
                region=region,
                contact_name="基准",
                contact_phone="13800000000",
                number_prefix=f"{BENCH_PREFIX_HEAD}{k:02d}",
            ),
        )
        orgs.append(org)
    return orgs


def loaded_count() -> int:
    from certificates.models import Certificate

    return Certificate.objects.filter(organisation__credit_code__startswith=BENCH_CREDIT_PREFIX).count()


def _reserve_ids(cursor, table: str, count: int) -> int:
    """The first of `count` consecutive ids taken from the table's identity sequence (advanced past them)."""
    cursor.execute(
        "WITH s AS (SELECT pg_get_serial_sequence(%s, 'id')::regclass AS seq), "
        "f AS (SELECT seq, nextval(seq) AS first FROM s) SELECT first, setval(seq, first + %s - 1) FROM f",
        [table, count],
    )
    return cursor.fetchone()[0]


def _id_number(key: int) -> str:
    """A valid 18-digit 身份证号, unique per key below 36,500,000: a Jilin area, a birth date and a serial."""
    from stdnum.cn import ric

    born = datetime.date(1960, 1, 1) + datetime.timedelta(days=key // 1000 % 14_600)
    body = f"22010{2 + key % 3}{born:%Y%m%d}{key % 1000:03d}"
    if key >= 14_600_000:  # a second block of birth dates, for loads beyond 29 million
        body = f"2202{11 + key // 14_600_000}{born:%Y%m%d}{key % 1000:03d}"
    return body + ric.calc_check_digit(body)


def _certificate_facts(i: int, orgs: list) -> tuple:
    """Certificate i's organisation, year, level digit and serial: unique numbers for every i."""
    org = orgs[i % ORGANISATIONS]
    within = i // ORGANISATIONS
    year = YEARS[within % len(YEARS)]
    rest = within // len(YEARS)
    return org, year, "54321"[rest % 5], rest // 5 + 1


@dataclass(frozen=True)
class _Context:
    """What building rows needs, plain data, so worker processes get it pickled."""

    orgs: tuple  # (id, number_prefix, name, region_code, credit_code) per bench organisation, by index
    levels: dict  # level digit -> (id, label)
    occupations: tuple  # (id, code, name)
    now: datetime.datetime


def _rows(start: int, end: int, ctx: _Context, first_person: int, earlier_person: int, first_cert: int) -> tuple:
    """The person rows and certificate rows of certificates start..end-1, as COPY takes them. Holder key k (an
    even certificate index) has id first_person + (k - start) // 2; with an odd start, the holder of certificate
    `start` came in an earlier batch and has id earlier_person."""

    def person_id(key: int) -> int:
        return earlier_person if key < start else first_person + (key - start - start % 2) // 2

    from types import SimpleNamespace

    from certificates import signing
    from certificates.ecert import identifier_for
    from certificates.issuance import printed_fields

    people, certs, holders = [], [], {}
    for k in range(start + start % 2, end, 2):
        id_number = _id_number(k)
        holders[k] = name = f"持证人{k:08d}"
        born = datetime.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
        people.append((person_id(k), name, "ric", id_number, born, "", "", ctx.now))
    for i in range(start, end):
        (org_id, prefix, org_name, region_code, credit_code), year, level_digit, serial = _certificate_facts(
            i, ctx.orgs
        )
        key = i - i % 2
        name = holders.get(key) or f"持证人{key:08d}"
        id_number = _id_number(key)
        occupation_id, occupation_code, occupation_name = ctx.occupations[i % len(ctx.occupations)]
        level_id, level_label = ctx.levels[level_digit]
        issued_on = datetime.date(year, 1 + i * 7 % 12, 1 + i * 13 % 28)
        number = f"{prefix}{year % 100:02d}{level_digit}{serial:06d}"
        # The same functions issuance uses, on a plain object: what is signed is what verification recomputes.
        cert = SimpleNamespace(
            number=number,
            kind="skill_level",
            holder_name=name,
            id_type="居民身份证",
            id_number=id_number,
            occupation_name=occupation_name,
            work_type="",
            organisation_id=org_id,
            organisation=SimpleNamespace(credit_code=credit_code),
            organisation_name=org_name,
            issued_on=issued_on,
            level=SimpleNamespace(label=level_label),
        )
        status, reason, changed = "valid", "", None
        if i % REVOKED_EVERY == 7:
            status, reason, changed = "revoked", "以不正当手段取得,依法撤销", issued_on
        elif i % SUSPENDED_EVERY == 11:
            status, reason, changed = "suspended", "举报核查中,暂停使用", issued_on
        certs.append(
            (
                first_cert + i - start,
                number,
                "skill_level",
                person_id(key),
                org_id,
                occupation_id,
                level_id,
                name,
                cert.id_type,
                id_number,
                occupation_name,
                occupation_code,
                "2022",
                "",
                org_name,
                issued_on,
                region_code,
                status,
                reason,
                changed,
                False,
                "",
                signing.token_sign(number, printed_fields(cert)),
                1,
                identifier_for(cert) or None,
                BENCH_FIRST_LIST + i // PER_LIST,
                i % PER_LIST * POSITION_MULTIPLIER % LIST_CAPACITY,
                ctx.now,
            )
        )
    return people, certs


def _worker_init(database_url: str) -> None:
    setup_django(database_url)


def _worker_rows(args: tuple) -> tuple[list, list]:
    return _rows(*args)


CERT_COLUMNS = (
    "id, number, kind, person_id, organisation_id, occupation_id, level_id, holder_name, id_type, id_number, "
    "occupation_name, occupation_code, occupation_edition, work_type, organisation_name, issued_on, region_code, "
    "status, status_reason, status_changed_on, imported, note, token, copies, ecert_id, status_list, status_index, "
    "created_at"
)


def load(
    n: int, *, batch: int = 20_000, jobs: int | None = None, database_url: str | None = None, quiet: bool = False
) -> LoadResult:
    """Make sure at least n bench certificates exist; returns how many this call added and how fast.

    `jobs` processes build and sign the rows (default: one per core) while this one COPYs them in."""
    setup_django(database_url)
    import multiprocessing

    from django.core.management import call_command
    from django.db import connection, transaction

    from certificates import signing
    from occupations.models import Level, Occupation

    if connection.vendor != "postgresql":
        raise SystemExit("load_scale needs PostgreSQL (DATABASE_URL=postgres://...)")

    def say(message: str) -> None:
        if not quiet:
            print(message, flush=True)

    call_command("migrate", verbosity=0)
    if not Level.objects.exists():
        call_command("load_reference", verbosity=0)
    ctx = _Context(
        orgs=tuple((o.id, o.number_prefix, o.name, o.region.code, o.credit_code) for o in _organisations()),
        levels={lv.code: (lv.id, lv.label) for lv in Level.objects.filter(code__in=list("12345"))},
        occupations=tuple(Occupation.objects.order_by("code").values_list("id", "code", "name")[:24]),
        now=datetime.datetime.now(datetime.UTC),
    )
    if not ctx.occupations:
        raise SystemExit("no occupations: run `python manage.py load_reference` first")
    have = loaded_count()
    if have >= n:
        say(f"{have:,} bench certificates already loaded (asked for {n:,})")
        return LoadResult(0, have, 0.0)
    _claim_bench_lists(have, n, [org[0] for org in ctx.orgs])
    jobs = jobs or os.cpu_count() or 1
    say(f"loading {n - have:,} certificates (have {have:,}), rows built by {jobs} process(es) …")
    signing.token_sign("S000022999000260000001", {})  # reads (or makes) the key ring before the workers start
    t0 = time.perf_counter()

    # Ids are reserved per batch here, in order, so a batch's rows can be built anywhere.
    def batches():
        start = have
        while start < n:
            end = min(n, start + batch)
            with connection.cursor() as cursor:
                holders = len(range(start + start % 2, end, 2))
                first_person = _reserve_ids(cursor, "accounts_person", holders) if holders else 0
                earlier_person = 0
                if start % 2:  # this holder's first certificate came in an earlier (interrupted) load
                    cursor.execute(
                        "SELECT id FROM accounts_person WHERE id_type = 'ric' AND id_number = %s",
                        [_id_number(start - 1)],
                    )
                    earlier_person = cursor.fetchone()[0]
                first_cert = _reserve_ids(cursor, "certificates_certificate", end - start)
            yield start, end, ctx, first_person, earlier_person, first_cert
            start = end

    connection.close()  # before forking: the workers must not share this connection
    pool = (
        multiprocessing.get_context("fork").Pool(jobs, _worker_init, (os.environ["DATABASE_URL"],))
        if jobs > 1
        else None
    )
    try:
        produced = pool.imap(_worker_rows, batches()) if pool else map(_worker_rows, batches())
        done, copying, failed = have, 0.0, True
        for people, certs in produced:
            t_copy = time.perf_counter()
            with transaction.atomic(), connection.cursor() as cursor:
                # A bench load need not wait for each batch to reach the disk; a crash loses whole batches only.
                cursor.execute("SET LOCAL synchronous_commit = off")
                raw = cursor.connection
                if people:
                    with raw.cursor().copy(
                        "COPY accounts_person (id, name, id_type, id_number, birth_date, phone, photo, created_at) "
                        "FROM STDIN"
                    ) as copy:
                        for row in people:
                            copy.write_row(row)
                with raw.cursor().copy(f"COPY certificates_certificate ({CERT_COLUMNS}) FROM STDIN") as copy:
                    for row in certs:
                        copy.write_row(row)
            done += len(certs)
            copying += time.perf_counter() - t_copy
            elapsed = time.perf_counter() - t0
            say(f"  {done:,} ({elapsed:.0f} s, {(done - have) / elapsed:,.0f} rows/s; COPY and commit {copying:.0f} s)")
        failed = False
    finally:
        if pool and failed:  # a COPY failed: stop the workers now (joining them would build every remaining row)
            pool.terminate()
        elif pool:
            pool.close()
        if pool:
            pool.join()
    _record_bench_lists(n)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accounts_person")
        cursor.execute("ANALYZE certificates_certificate")
    elapsed = time.perf_counter() - t0
    # COPY bypasses the services: the dashboards' daily counts are recomputed once (oversight/aggregates.py).
    from oversight.aggregates import daily_counts_rebuild

    t1 = time.perf_counter()
    daily_counts_rebuild()
    say(f"dashboard daily counts rebuilt in {time.perf_counter() - t1:.1f} s")
    result = LoadResult(n - have, n, elapsed)
    say(
        f"loaded {result.loaded:,} certificates (+ {result.loaded // 2:,} holders) in {elapsed:.1f} s: "
        f"{result.rows_per_second:,.0f} certificates/s; {n:,} bench certificates in the database; "
        f"the server's COPY and commits took {copying:.1f} s of it (the rest: waiting for rows to be built and signed)"
    )
    return result


def _claim_bench_lists(have: int, total: int, bench_orgs: list[int]) -> None:
    """Before loading: the lists the new rows will fill must not have been opened by issuance in this database
    (after an earlier, smaller load issuance opens the list after the last bench list, whose positions the next
    load would then clash with); once checked they are recorded closed, so that issuance cannot open them while
    this load runs."""
    from certificates.models import Certificate

    needed = (total - 1) // PER_LIST + 1
    taken = [
        BENCH_FIRST_LIST + k
        for k in range(have // PER_LIST, needed)  # the lists this load adds rows to
        if Certificate.objects.filter(status_list=BENCH_FIRST_LIST + k).exclude(organisation_id__in=bench_orgs).exists()
    ]
    if taken:
        raise SystemExit(
            f"status list(s) {', '.join(map(str, taken))} hold certificates issued in this database after the "
            f"{have:,} loaded before; loading {total:,} would put certificates on their positions. "
            "Load the full count before issuing (bench_scale.py issues after loading), or into a fresh database."
        )
    _record_bench_lists(total)


def _record_bench_lists(total: int) -> None:
    """The status lists the loaded certificates fill, closed to issuance, with how many each holds."""
    from django.utils import timezone

    from certificates.models import StatusList

    for k in range((total - 1) // PER_LIST + 1):
        StatusList.objects.update_or_create(
            number=BENCH_FIRST_LIST + k,
            defaults={
                "capacity": LIST_CAPACITY,
                "assigned": min(PER_LIST, total - k * PER_LIST),
                "full_at": timezone.now(),
            },
        )


def prewarm(url: str) -> str:
    """Read what a first scan touches (the certificate table, its indexes on number and the holders) into the OS
    page cache, as on a database that has been serving scans: the minutes after a restart, when every scan waits on
    the disk, are not the steady state a bench measures. pg_prewarm's 'read' mode (PostgreSQL's contrib, created on
    the primary; a replica has it by replication). Returns what it read, for the report."""
    import psycopg

    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        if not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        relations = ["certificates_certificate", "accounts_person", "accounts_person_pkey"] + [
            row[0]
            for row in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'certificates_certificate' "
                "AND indexdef LIKE '%(number%'"
            )
        ]
        pages = sum(conn.execute("SELECT pg_prewarm(%s, 'read')", [r]).fetchone()[0] for r in relations)
    return f"{pages * 8 / 1024:,.0f} MB read into the page cache in {time.monotonic() - started:.0f} s"


def sample_tokens(count: int, *, status: str = "valid", seed: int = 42) -> list[str]:
    """Tokens of `count` random loaded certificates of a status (distinct; fewer if fewer exist)."""
    import random

    from certificates.models import Certificate

    top = loaded_count()
    rng = random.Random(seed)
    orgs = [(o.id, o.number_prefix) for o in _organisations()]
    numbers = set()
    for i in rng.sample(range(top), min(top, count * 2)):
        if status == "valid" and (i % REVOKED_EVERY == 7 or i % SUSPENDED_EVERY == 11):
            continue
        (_id, prefix), year, level_digit, serial = _certificate_facts(i, orgs)
        numbers.add(f"{prefix}{year % 100:02d}{level_digit}{serial:06d}")
        if len(numbers) >= count:
            break
    tokens: list[str] = []
    numbers_list = list(numbers)
    for j in range(0, len(numbers_list), 5000):
        tokens += Certificate.objects.filter(number__in=numbers_list[j : j + 5000], status=status).values_list(
            "token", flat=True
        )
    rng.shuffle(tokens)
    return tokens[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="bench certificates wanted in total")
    parser.add_argument("--batch", type=int, default=20_000, help="rows per COPY transaction")
    parser.add_argument("--jobs", type=int, default=None, help="processes building rows (default: one per core)")
    parser.add_argument("--database-url", default=None, help=f"default: DATABASE_URL, else {DEFAULT_DB_URL}")
    args = parser.parse_args()
    load(args.count, batch=args.batch, jobs=args.jobs, database_url=args.database_url)


if __name__ == "__main__":
    main()
