"""/healthz, which the load balancer checks: the node serves while a database answers it. The primary down with the
replica answering (`degraded`, still 200) is checked on real PostgreSQL in tests/deploy/test_replica_routing.py."""

import pytest
from django.db import OperationalError, connections

pytestmark = pytest.mark.django_db


def test_a_node_whose_database_answers_is_ok(client):
    r = client.get("/healthz")
    assert (r.status_code, r.json()) == (200, {"status": "ok"})


def test_a_node_without_any_database_is_out(client, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connections["default"], "cursor", unreachable)
    r = client.get("/healthz")
    assert (r.status_code, r.json()) == (503, {"status": "database_unavailable"})
