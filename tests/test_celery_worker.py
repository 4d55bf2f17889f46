"""A real Celery worker, in its own process, on the real broker, runs a task against the test database."""

import pytest

from accounts.actors import Actor
from core.audit import audit_record


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_verifies_the_audit_chain(real_worker):
    from oversight.tasks import audit_verify_task

    for i in range(3):
        audit_record(actor=Actor(), action="worker.test", object_type="t", object_id=i)
    result = audit_verify_task.delay()
    value = result.get(timeout=60)
    assert value["ok"] is True and value["checked"] >= 3
    assert result.status == "SUCCESS"
