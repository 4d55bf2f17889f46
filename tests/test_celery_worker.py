"""A real Celery worker, in its own process, on the real broker, runs a task against the test database."""

import os

import pytest

from accounts.actors import Actor
from core.audit import audit_record
from tests.conftest import IN_CI
from tests.worker import database_url, worker_start, worker_stop


@pytest.fixture
def real_worker(transactional_db):
    broker = os.environ.get("CELERY_BROKER_URL")
    if not broker:
        if IN_CI:
            pytest.fail("CI must provide CELERY_BROKER_URL")
        pytest.skip("no CELERY_BROKER_URL: a real worker needs a broker (Redis)")
    if database_url() is None:
        pytest.skip("an in-memory SQLite test database cannot be shared with a worker process")
    proc = worker_start()
    yield proc
    worker_stop(proc)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_verifies_the_audit_chain(real_worker, settings):
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
