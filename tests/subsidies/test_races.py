"""No double payment under concurrency, on PostgreSQL: row locks on the person, partial unique indexes.

Twenty requests claiming one certificate at once make exactly one claim; four approvals at once for a person
whose yearly cap is three approve exactly three; concurrent batch runs put each claim in one batch."""

import datetime
import json
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from core.errors import Conflict
from subsidies import payments
from subsidies.models import Claim, PaymentBatch, PaymentLine, SubsidyPolicy
from tests.conftest import client_for, require_postgres
from tests.factories import PersonFactory, region

from .conftest import ACCOUNT, A, make_certificate, worker_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]
D = datetime.date
API = "/api/v1/subsidies"


def run_at_once(n: int, work) -> list:
    """Run work(i) in n threads released together; each thread closes its own connection."""
    barrier, results = threading.Barrier(n), [None] * n

    def target(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # collected and asserted by the caller
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _logged_in(user, n: int) -> list[Client]:
    clients = []
    for _ in range(n):
        clients.append(client_for(user))
    return clients


def test_twenty_requests_claiming_one_certificate_make_one_claim():
    require_postgres()
    worker = worker_user()
    cert = make_certificate(worker.person, issued_on=D(2026, 3, 2))
    body = json.dumps(
        {"certificate_id": cert.id, "insurance_months": 24, "account_kind": "bank_card", "account_number": ACCOUNT}
    )
    clients = _logged_in(worker, 20)
    responses = run_at_once(20, lambda i: clients[i].post(f"{API}/claims", body, content_type="application/json"))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 19, [getattr(r, "content", r) for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} <= {"not_eligible", "duplicate_claim"}
    assert Claim.objects.filter(certificate=cert).count() == 1


def _in_publicity(person, occupation: str) -> Claim:
    cert = make_certificate(person, occupation=occupation, level="5", issued_on=D(2024, 1, 10))
    return Claim.objects.create(
        certificate=cert,
        person=person,
        occupation=cert.occupation,
        level=cert.level,
        region=region("220102"),
        insurance_months_declared=24,
        account_kind="bank_card",
        account_number=ACCOUNT,
        claimed_on=D(2024, 3, 1),
        status=Claim.Status.PUBLICITY,
        policy=SubsidyPolicy.objects.get(code="cc-2024"),
        amount=Decimal(1000),
        publicity_starts_on=D(2024, 3, 5),
        publicity_ends_on=D(2024, 3, 12),
    )


def test_concurrent_approvals_never_exceed_the_yearly_cap(cc_officer):
    """In 2024 长春 allowed three claims a year: four approved at once leave exactly three approved."""
    require_postgres()
    person = PersonFactory()
    claims = [_in_publicity(person, code) for code in ("6-18-02-04", "4-03-02-07", "4-10-01-06", "4-03-02-02")]
    clients = _logged_in(cc_officer, 4)
    responses = run_at_once(
        4,
        lambda i: clients[i].post(f"{API}/claims/{claims[i].id}/approve", "{}", content_type="application/json"),
    )
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 409], [r.content for r in responses]
    refused = next(r for r in responses if r.status_code == 409).json()
    assert refused["code"] == "not_eligible" and "2024年已享受3次" in refused["message"]
    assert Claim.objects.filter(person=person, status=Claim.Status.APPROVED).count() == 3


def test_concurrent_batch_runs_pay_each_claim_once(cc_officer, changchun_bureau):
    require_postgres()
    from accounts.models import Role
    from tests.factories import member

    officers = [cc_officer] + [member(Role.BUREAU_STAFF, bureau=changchun_bureau) for _ in range(5)]
    for _ in range(6):
        claim = _in_publicity(PersonFactory(), "6-18-02-04")
        Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.APPROVED)
    months = ["2026-10", "2026-10", "2026-10", "2026-11", "2026-11", "2026-12"]
    results = run_at_once(6, lambda i: payments.batch_create(actor=A(officers[i]), month=months[i]))
    made = [r for r in results if isinstance(r, PaymentBatch)]
    assert len(made) == 1 and all(isinstance(r, Conflict) for r in results if r not in made)
    assert PaymentLine.objects.count() == 6
    assert PaymentLine.objects.values("claim").distinct().count() == 6
    assert set(Claim.objects.values_list("status", flat=True)) == {Claim.Status.IN_PAYMENT}


def test_concurrent_approvals_never_overspend_the_budget(cc_officer, changchun_bureau):
    """A budget of 3,000 and four claims of 1,300 (a 长春 shortage occupation at level 5) approved at once by four
    officers: two fit, and the budget is never overspent, whatever the interleaving (the budget row is locked at
    every approval)."""
    require_postgres()
    from accounts.models import Role
    from subsidies import budgets
    from subsidies.models import FundBudget
    from tests.factories import member

    officers = [cc_officer] + [member(Role.BUREAU_STAFF, bureau=changchun_bureau) for _ in range(3)]
    from django.utils import timezone

    year = timezone.localdate().year  # the approval's year, as the API approves today
    budget = budgets.budget_set(actor=A(cc_officer), year=year, amount="3000", basis="示例", region_code="220100")
    claims = []
    for _ in range(4):
        claims.append(_in_publicity(PersonFactory(), "6-18-02-04"))
    clients = [client_for(o) for o in officers]
    responses = run_at_once(
        4,
        lambda i: clients[i].post(f"{API}/claims/{claims[i].id}/approve", "{}", content_type="application/json"),
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 409, 409], [r.content for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"budget_exhausted"}
    approved = Claim.objects.filter(pk__in=[c.id for c in claims], status=Claim.Status.APPROVED)
    assert approved.count() == 2
    assert budgets.budget_use(FundBudget.objects.get(pk=budget.pk)).used == Decimal(2600)
