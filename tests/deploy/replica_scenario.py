"""Run by tests/deploy/test_replica_routing.py in its own process, configured like a web node of the deployment
(DATABASE_URL on the primary, DATABASE_REPLICA_URL on the streaming replica, Redis for the fence and the change
feed). Prints one JSON object per observation; the test judges them. Requests go through Django's whole request
path (the test client), as a web node's would.

    python tests/deploy/replica_scenario.py <replica superuser URL>
"""

import datetime
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.actors import Actor  # noqa: E402
from accounts.models import Person, User  # noqa: E402
from accreditation.models import Organisation  # noqa: E402
from certificates import signing, verification_cache  # noqa: E402
from certificates.issuance import printed_fields  # noqa: E402
from certificates.models import Certificate  # noqa: E402
from certificates.services import certificate_revoke  # noqa: E402
from core import db_routing  # noqa: E402
from occupations.models import Level, Occupation, Region  # noqa: E402

REPLICA_ADMIN_URL = sys.argv[1]
client = Client()


def emit(step: str, **data) -> None:
    print(json.dumps({"step": step, **data}), flush=True)


def scan(token: str) -> tuple[str, list[str]]:
    """The public verification's answer, and which databases read the certificate for it. (Django's
    CaptureQueriesContext would connect to the replica itself, which the stopped-replica step must not.)"""
    for alias in ("default", "replica"):
        connections[alias].force_debug_cursor = True
        connections[alias].queries_log.clear()
    response = client.get(f"/api/v1/verify/{token}")
    assert response.status_code == 200, response.content
    readers = [
        name
        for name, alias in (("primary", "default"), ("replica", "replica"))
        if any(reads_certificate(q["sql"] or "") for q in connections[alias].queries_log)
    ]
    return response.json()["status"], readers


def reads_certificate(sql: str) -> bool:
    """The scan reads the certificate through the scan function on PostgreSQL (certificates/verification.py);
    other reads name the table."""
    return "certificate_scan(" in sql or "certificates_certificate" in sql


def replica_row_status(number: str) -> str:
    with psycopg.connect(REPLICA_ADMIN_URL, autocommit=True) as conn:
        return conn.execute("SELECT status FROM certificates_certificate WHERE number = %s", [number]).fetchone()[0]


def until(condition, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def make_certificate() -> Certificate:
    if not Region.objects.filter(code="220102").exists():
        call_command("load_reference", verbosity=0)
    region = Region.objects.get(code="220102")
    org, _ = Organisation.objects.get_or_create(
        credit_code="91220102MA00DEPLY1",
        defaults=dict(
            name="副本路由测试评价机构",
            kind="S",
            region=region,
            contact_name="x",
            contact_phone="13800000000",
            number_prefix="S000022999998",
        ),
    )
    person, _ = Person.objects.get_or_create(
        id_type="ric", id_number="220102199001010011", defaults={"name": "路由测试"}
    )
    level = Level.objects.get(code="3")
    occupation = Occupation.objects.get(code="6-31-01-03")
    number = f"S00002299999826{int(time.time() * 1000) % 10_000_000:07d}"
    cert = Certificate(
        number=number,
        kind="skill_level",
        person=person,
        organisation=org,
        occupation=occupation,
        level=level,
        holder_name=person.name,
        id_type="居民身份证",
        id_number=person.id_number,
        occupation_name="电工",
        work_type="",
        organisation_name=org.name,
        issued_on=datetime.date(2026, 6, 30),
        region_code="220102",
    )
    cert.token = signing.token_sign(number, printed_fields(cert))
    cert.save()
    return cert


def main() -> None:
    operator, _ = User.objects.get_or_create(username="deploy-operator", defaults={"is_superuser": True})
    cert = make_certificate()

    # Caught up: public verification reads from the replica. Each try is a first scan: a scan made while the replica
    # had not replayed the new certificate yet was (rightly) read from the primary, and its answer, remembered by the
    # verification cache, would answer every later try without reading anything.
    def answered_by_replica():
        verification_cache.reset()
        status, readers = scan(cert.token)
        return (status, readers) if readers == ["replica"] else None

    first = until(answered_by_replica)
    emit("caught_up", answer=first[0] if first else None, readers=first[1] if first else scan(cert.token)[1])

    # The replica stops replaying the primary's WAL.
    with psycopg.connect(REPLICA_ADMIN_URL, autocommit=True) as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
        paused = until(
            lambda: conn.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()[0] == "paused", seconds=10
        )
    emit("paused", paused=bool(paused))

    certificate_revoke(actor=Actor.for_user(operator), certificate_id=cert.id, reason="副本暂停时撤销")
    emit("revoked_on_primary", primary=Certificate.objects.get(pk=cert.id).status)
    emit("replica_row", status=replica_row_status(cert.number))

    answers = [scan(cert.token) for _ in range(5)]  # repeat scans too: the verification cache must not hold it
    emit("while_paused", answers=[a for a, _ in answers], readers=sorted({r for _, rs in answers for r in rs}))

    # Another process (a web node started now) has no cached replica position: the same answer.
    db_routing.reset()
    verification_cache.reset()
    emit("while_paused_fresh_process", answer=scan(cert.token)[0])

    # Redis lost the fence (restarted): nothing is read from the replica until the fence is back. The step before
    # may have left the answer in this process's verification cache (its feed turns healthy a few milliseconds
    # after a reset, while that scan ran): forgotten, so that this scan reads a database.
    db_routing._redis().delete(db_routing.fence_key())
    verification_cache.reset()
    status, readers = scan(cert.token)
    emit(
        "fence_lost",
        answer=status,
        readers=readers,
        fence_back=db_routing._redis().get(db_routing.fence_key()) is not None,
    )

    with psycopg.connect(REPLICA_ADMIN_URL, autocommit=True) as conn:
        conn.execute("SELECT pg_wal_replay_resume()")
    caught_up = until(lambda: replica_row_status(cert.number) == "revoked")
    verification_cache.reset()  # as on a node that has not scanned it yet: the answer comes from a database
    again = until(lambda: (lambda a: a if a[1] == ["replica"] else None)(scan(cert.token)))
    emit(
        "resumed",
        replica_row=replica_row_status(cert.number) if caught_up else "not replayed",
        answer=again[0] if again else scan(cert.token)[0],
        readers=again[1] if again else scan(cert.token)[1],
    )


def replica_down() -> None:
    """The replica is stopped: public reads are answered from the primary, none fails."""
    cert = make_certificate()
    answers = [scan(cert.token) for _ in range(3)]
    emit("replica_down", answers=[a for a, _ in answers], readers=sorted({r for _, rs in answers for r in rs}))


def primary_down() -> None:
    """The primary is stopped (the replica keeps what it replayed): the health check says `degraded`, 503 for
    everything but 200 for public reads, and public verification is answered from the replica."""
    cert = Certificate.objects.using(db_routing.REPLICA).filter(organisation__credit_code="91220102MA00DEPLY1").first()
    health, public = client.get("/healthz"), client.get("/healthz?serve=public")
    status, readers = scan(cert.token)
    emit(
        "primary_down",
        healthz=[health.status_code, health.json()["status"]],
        healthz_public=[public.status_code, public.json()["status"]],
        answer=status,
        readers=readers,
    )

    # A process whose remembered primary is another cluster (the primary rebuilt from a dump, this replica not yet
    # cloned again): the replica's word alone is not taken, nothing is answered from it.
    db_routing._redis().set(db_routing._primary_id_key(), "1")
    db_routing._system_identifier.clear()
    db_routing._replica_identifier.clear()
    db_routing.reset()
    verification_cache.reset()
    emit(
        "primary_down_other_cluster",
        verify=client.get(f"/api/v1/verify/{cert.token}").status_code,
        healthz_public=client.get("/healthz?serve=public").status_code,
    )


def promoted() -> None:
    """The replica was promoted: a certificate no change has touched since is read from the primary all the same."""
    cert = Certificate.objects.filter(organisation__credit_code="91220102MA00DEPLY1", status="valid").first()
    status, readers = scan(cert.token)
    emit("promoted", answer=status, readers=readers)


if __name__ == "__main__":
    {"down": replica_down, "primary-down": primary_down, "promoted": promoted}.get(
        sys.argv[2] if sys.argv[2:] else "", main
    )()
