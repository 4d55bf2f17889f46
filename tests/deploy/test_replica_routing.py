"""The replica and the router on real PostgreSQL: a primary and a streaming replica brought up by the deployment
script (`deploy/cluster db-up`, its database parts only), a process configured like a web node, and the replica's
replay paused while a certificate is revoked on the primary (core/db_routing.py).

Needs PostgreSQL's server binaries (Debian's postgresql), Redis and a PostgreSQL test database (its schema is
copied to the new primary); skips without them, never in CI.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import IN_CI, ON_POSTGRES

pytestmark = [pytest.mark.deploy, pytest.mark.django_db]  # django_db: pytest-django sets the test database up
ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "cluster"


def _skip(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI must run the replica test: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_url() -> str:
    url = os.environ.get("VERIFICATION_LOG_REDIS_URL") or os.environ.get("CELERY_BROKER_URL") or ""
    if not url.startswith("redis"):
        _skip("needs Redis for the fence and the change feed (set CELERY_BROKER_URL)")
    return url


@pytest.fixture(scope="module")
def pg_pair(django_db_setup, django_db_blocker):
    if not ON_POSTGRES:
        _skip("copies the PostgreSQL test database's schema to a new primary (set DATABASE_URL)")
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")) or not shutil.which("pg_dump"):
        _skip("needs PostgreSQL's server binaries (apt-get install postgresql)")
    state = Path(tempfile.mkdtemp(prefix="skillcert-replica-"))
    state.chmod(0o755)  # the postgres user (when run as root) must reach its data directories
    primary, replica = _free_port(), _free_port()
    env = {
        **os.environ,
        "DEPLOY_DIR": str(state),
        "DEPLOY_PG_PRIMARY_PORT": str(primary),
        "DEPLOY_PG_REPLICA_PORT": str(replica),
        "DEPLOY_DB_NAME": "skills",
    }
    try:
        # The primary first, with the test database's schema and reference data, then the replica from it.
        subprocess.run([str(SCRIPT), "start", "primary"], env=env, check=True, capture_output=True, timeout=120)
        source = settings.DATABASES["default"]
        with django_db_blocker.unblock():
            from django.db import connection

            name = connection.settings_dict["NAME"]
        dump = subprocess.run(
            [
                "pg_dump",
                "--no-owner",
                "--no-privileges",
                "-h",
                source.get("HOST") or "127.0.0.1",
                "-p",
                str(source.get("PORT") or 5432),
                "-U",
                source.get("USER") or "postgres",
                "-d",
                name,
            ],
            check=True,
            capture_output=True,
            timeout=300,
            env={**os.environ, "PGPASSWORD": source.get("PASSWORD") or ""},
        ).stdout
        psql = ["psql", "-q", "-h", "127.0.0.1", "-p", str(primary), "-U", "postgres"]
        subprocess.run([*psql, "-d", "skills", "-v", "ON_ERROR_STOP=1"], input=dump, check=True, capture_output=True)
        subprocess.run([str(SCRIPT), "start", "replica"], env=env, check=True, capture_output=True, timeout=300)
        yield {"primary": primary, "replica": replica, "state": state, "env": env}
    finally:
        subprocess.run([str(SCRIPT), "db-down"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(state, ignore_errors=True)


def _scenario(env: dict, replica: str, *extra: str) -> dict:
    run = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("replica_scenario.py")), replica, *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return {o["step"]: o for o in map(json.loads, filter(None, run.stdout.splitlines()))}


def test_a_revocation_is_never_answered_as_valid_while_the_replica_lags(pg_pair, tmp_path):
    redis_url = _redis_url()
    primary = f"postgres://postgres@127.0.0.1:{pg_pair['primary']}/skills"
    replica = f"postgres://postgres@127.0.0.1:{pg_pair['replica']}/skills"
    env = {
        **os.environ,
        "DJANGO_ENV": "development",
        "DATABASE_URL": primary,
        "DATABASE_REPLICA_URL": replica,
        "DATABASE_TRANSACTION_POOLING": "true",  # as behind the deployment's PgBouncer
        "VERIFICATION_LOG_REDIS_URL": redis_url,
        "CELERY_BROKER_URL": "",
        "VAR_DIR": str(tmp_path),
        "DEBUG": "false",
        "LOG_LEVEL": "ERROR",
    }
    seen = _scenario(env, replica)

    # Caught up: the public verification reads from the replica.
    assert seen["caught_up"] == {"step": "caught_up", "answer": "valid", "readers": ["replica"]}
    # Paused: the primary has the revocation, the replica still has the certificate as valid ...
    assert seen["paused"]["paused"] is True
    assert seen["revoked_on_primary"]["primary"] == "revoked"
    assert seen["replica_row"]["status"] == "valid"
    # ... and every answer, first or repeat, in a warm or a new process, is `revoked`, read from the primary.
    assert seen["while_paused"]["answers"] == ["revoked"] * 5
    assert seen["while_paused"]["readers"] == ["primary"]
    assert seen["while_paused_fresh_process"]["answer"] == "revoked"
    # Redis lost the fence: the primary answers, and the fence is set again from the primary's position.
    assert seen["fence_lost"] == {"step": "fence_lost", "answer": "revoked", "readers": ["primary"], "fence_back": True}
    # Replay resumed: the replica has the revocation and answers again.
    assert seen["resumed"] == {"step": "resumed", "replica_row": "revoked", "answer": "revoked", "readers": ["replica"]}

    # The primary stopped: the health check keeps the nodes in the balancer for public reads (`degraded`: 200 with
    # ?serve=public, 503 for everything else), and public verification is answered from the replica (a balancer
    # that took every node out for the shared primary stopped it too).
    subprocess.run([str(SCRIPT), "stop", "primary"], env=pg_pair["env"], check=True, capture_output=True, timeout=120)
    try:
        seen = _scenario(env, replica, "primary-down")
    finally:
        subprocess.run(
            [str(SCRIPT), "start", "primary"], env=pg_pair["env"], check=True, capture_output=True, timeout=120
        )
    assert seen["primary_down"] == {
        "step": "primary_down",
        "healthz": [503, "degraded"],
        "healthz_public": [200, "degraded"],
        "answer": "revoked",
        "readers": ["replica"],
    }
    assert seen["primary_down_other_cluster"] == {
        "step": "primary_down_other_cluster",
        "verify": 503,
        "healthz_public": 503,
    }

    # The replica stopped: public reads are answered from the primary, without errors.
    subprocess.run([str(SCRIPT), "stop", "replica"], env=pg_pair["env"], check=True, capture_output=True, timeout=120)
    seen = _scenario(env, replica, "down")
    assert seen["replica_down"] == {"step": "replica_down", "answers": ["valid"] * 3, "readers": ["primary"]}

    # The replica promoted once it had replayed everything (it follows nothing now, whatever position it last
    # replayed, and that position is past the fence): never read again.
    subprocess.run([str(SCRIPT), "start", "replica"], env=pg_pair["env"], check=True, capture_output=True, timeout=120)

    def query(port: int, sql: str) -> str:
        psql = ["psql", "-qAt", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "skills", "-c", sql]
        return subprocess.run(psql, check=True, capture_output=True, text=True).stdout.strip()

    count = "SELECT count(*) FROM certificates_certificate"
    deadline = time.monotonic() + 60
    while query(pg_pair["replica"], count) != query(pg_pair["primary"], count) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert query(pg_pair["replica"], "SELECT pg_promote()") == "t"
    seen = _scenario(env, replica, "promoted")
    assert seen["promoted"] == {"step": "promoted", "answer": "valid", "readers": ["primary"]}
