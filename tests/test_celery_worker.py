"""A real Celery worker, in its own process, on the real broker, runs a task against the test database."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from accounts.actors import Actor
from oversight.audit import audit_record
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def real_worker(transactional_db):
    broker = os.environ.get("CELERY_BROKER_URL")
    if not broker:
        if IN_CI:
            pytest.fail("CI must provide CELERY_BROKER_URL")
        pytest.skip("no CELERY_BROKER_URL: a real worker needs a broker (Redis)")
    db = settings.DATABASES["default"]
    env = {**os.environ, "CELERY_TASK_ALWAYS_EAGER": "false"}
    if db["ENGINE"].endswith("postgresql"):
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
            f"/{db['NAME']}"
        )
    else:
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
    )
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_verifies_the_audit_chain(real_worker, settings):
    if settings.DATABASES["default"]["NAME"] == ":memory:" or "memory" in str(settings.DATABASES["default"]["NAME"]):
        pytest.skip("an in-memory SQLite test database cannot be shared with a worker process")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    from config.celery import app
    from oversight.tasks import audit_verify_task

    app.conf.task_always_eager = False
    try:
        for i in range(3):
            audit_record(actor=Actor(), action="worker.test", object_type="t", object_id=i)
        result = audit_verify_task.delay()
        value = result.get(timeout=60)
    finally:
        app.conf.task_always_eager = True
    assert value["ok"] is True and value["checked"] >= 3
    assert result.status == "SUCCESS"
