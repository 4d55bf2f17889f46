"""A code is good once, also when two sign-ins send it at the same moment (PostgreSQL row locks on the device)."""

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.actors import Actor
from accounts.second_factor import recovery_codes_regenerate
from tests.conftest import require_postgres
from tests.factories import PASSWORD, Role, enrolled, member, totp_code
from tests.subsidies.test_races import run_at_once

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def _half_signed_in(user, n: int) -> list[Client]:
    clients = []
    for i in range(n):
        c = Client(REMOTE_ADDR=f"10.2.0.{i + 1}")
        assert c.post("/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
        clients.append(c)
    return clients


@pytest.mark.parametrize("kind", ["recovery", "totp"])
def test_one_code_sent_by_eight_sessions_at_once_lets_one_in(kind, changchun_bureau, settings):
    require_postgres()
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "second_factor": (50, 300)}
    cache.clear()
    officer = member(Role.BUREAU_STAFF, bureau=changchun_bureau)
    device = enrolled(officer)
    code = recovery_codes_regenerate(actor=Actor.for_user(officer))[0] if kind == "recovery" else totp_code(device.key)
    clients = _half_signed_in(officer, 8)
    responses = run_at_once(8, lambda i: clients[i].post("/accounts/second-factor/verify/", {"code": code}))
    statuses = sorted(getattr(r, "status_code", r) for r in responses)
    assert statuses == [302] + [422] * 7, responses
    assert sum(c.get("/").status_code == 200 for c in clients) == 1
    cache.clear()
