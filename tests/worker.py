"""A real Celery worker in its own process, on the real broker, against the test database."""

import os
import subprocess
import sys
from pathlib import Path

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


def worker_start(**env: str) -> subprocess.Popen:
    """Start `celery worker` (solo pool) with the test database and the given extra environment."""
    url = database_url()
    assert url is not None, "an in-memory SQLite test database cannot be shared with a worker process"
    full_env = {**os.environ, "CELERY_TASK_ALWAYS_EAGER": "false", "DATABASE_URL": url, **env}
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
