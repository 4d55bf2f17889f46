"""A real Celery worker in its own process, on the real broker, against the test database.

Tests that use one run side by side in several pytest processes (xdist) on one broker. Each gets a queue of
its own (`real_worker`), so that one process's worker never takes another's task and runs it against the
wrong test database: that is how a task could stay "queued" for ever in the test that sent it.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from celery.result import allow_join_result
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str | None:
    """The test database as a URL another process can open; None for an in-memory SQLite database."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("postgresql"):
        return (
            f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
            f"/{db['NAME']}"
        )
    name = str(db["NAME"])
    if name == ":memory:" or "memory" in name:
        return None
    return f"sqlite:///{name}"


def worker_start(queue: str = "celery", **env: str) -> subprocess.Popen:
    """Start `celery worker` (solo pool) on `queue` with the test database and the given extra environment."""
    url = database_url()
    assert url is not None, "an in-memory SQLite test database cannot be shared with a worker process"
    full_env = {
        **os.environ,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "DATABASE_URL": url,
        **env,
    }
    return subprocess.Popen(
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
            "-Q",
            queue,
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=full_env,
    )


def worker_stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def worker_env() -> dict[str, str]:
    """Extra environment for `real_worker`; a module overrides this fixture to give its worker more."""
    return {}


@pytest.fixture
def real_worker(transactional_db, worker_env):
    """A worker on a queue of this test's own; tasks sent here go to it, not run in-process, until the end.

    While the test
    runs, waiting on a result is allowed: the flag Celery uses to forbid that inside a task is process-wide,
    and eager tasks run at once by a live server's threads can leave it set (each restores what it saw).
    """
    from config.celery import app
    from tests.conftest import IN_CI

    if not os.environ.get("CELERY_BROKER_URL"):
        if IN_CI:
            pytest.fail("CI must provide CELERY_BROKER_URL")
        pytest.skip("no CELERY_BROKER_URL: a real worker needs a broker (Redis)")
    if database_url() is None:
        pytest.skip("an in-memory SQLite test database cannot be shared with a worker process")
    queue = f"tests-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    proc = worker_start(queue, **worker_env)
    before = (app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.task_always_eager, app.conf.task_default_queue = False, queue
    try:
        with allow_join_result():
            yield proc
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = before
        worker_stop(proc)
