import re
import threading

import pytest
from django.db import connection
from django.utils import timezone

from accounts.actors import Actor
from certificates import issuance
from certificates.models import Certificate, IssueBatch
from core.audit import audit_verify
from core.errors import Conflict, NotFound, PermissionDenied
from tests.conftest import client_for, require_postgres

from .conftest import finalise

pytestmark = pytest.mark.django_db
NUMBER = re.compile(r"^[YS]\d{21}$")


def test_a_batch_issues_one_certificate_per_passed_candidate(finalised_plan, org_admin, issue):
    batch = issue(finalised_plan, org_admin)
    batch.refresh_from_db()
    assert batch.status == "done" and batch.done == batch.total == 7
    certs = list(Certificate.objects.order_by("number"))
    assert len(certs) == 7 and all(NUMBER.match(c.number) for c in certs)
    yy = f"{timezone.localdate().year % 100:02d}"
    prefix = finalised_plan.organisation.number_prefix
    level3 = [c.number for c in certs if c.level.code == "3"]
    level4 = [c.number for c in certs if c.level.code == "4"]
    assert level3 == [f"{prefix}{yy}3{i:06d}" for i in range(1, 4)]
    assert level4 == [f"{prefix}{yy}4{i:06d}" for i in range(1, 5)]
    assert all(c.organisation_name == finalised_plan.organisation.name for c in certs)
    assert audit_verify().ok


def test_rerunning_issues_nothing_twice(finalised_plan, org_admin, issue):
    first = issue(finalised_plan, org_admin)
    issuance.issue_batch_run(first.id)
    again = issue(finalised_plan, org_admin)
    again.refresh_from_db()
    assert again.total == 0 and again.status == "done"
    assert Certificate.objects.count() == 7


def test_only_passed_candidates_get_certificates(org, org_admin, cc_officer, issue):
    from tests.assessments.conftest import file_organisation, make_candidates, make_plan

    file_organisation(org, org_admin, cc_officer)
    plan = make_plan(org, org_admin)
    make_candidates(plan, org_admin, "4", 5)
    finalise(plan, passed=2)
    issue(plan, org_admin)
    assert Certificate.objects.count() == 2


def test_issuance_needs_a_finalised_plan_and_the_admin(finalised_plan, org_admin, other_org_admin, issue):
    from assessments.models import Plan

    with pytest.raises(NotFound):
        issue(finalised_plan, other_org_admin)
    Plan.objects.filter(pk=finalised_plan.id).update(status="publicity")
    with pytest.raises(Conflict, match="办结"):
        issue(finalised_plan, org_admin)


def test_an_assessor_cannot_issue(finalised_plan, issue):
    from accounts.models import Role
    from tests.factories import member

    assessor = member(Role.ASSESSOR, organisation=finalised_plan.organisation)
    with pytest.raises(PermissionDenied):
        issue(finalised_plan, assessor)


def test_the_batch_status_endpoint_and_page(
    finalised_plan, org_admin, other_org_admin, django_capture_on_commit_callbacks
):
    c = client_for(org_admin)
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(f"/api/v1/certificates/plans/{finalised_plan.id}/issue")
    assert r.status_code == 202, r.content
    batch = r.json()
    status = c.get(f"/api/v1/certificates/batches/{batch['id']}").json()
    assert status["status"] == "done" and status["percent"] == 100 and status["done"] == 7
    assert client_for(other_org_admin).get(f"/api/v1/certificates/batches/{batch['id']}").status_code == 404
    html = c.get(f"/certificates/plans/{finalised_plan.id}/issue/").content.decode()
    assert 'id="bar"' in html and "7" in html


def test_serials_continue_across_plans_of_one_organisation(finalised_plan, org_admin, issue):
    from tests.assessments.conftest import make_candidates, make_plan

    issue(finalised_plan, org_admin)
    second = make_plan(finalised_plan.organisation, org_admin)
    make_candidates(second, org_admin, "4", 2, start=50)
    finalise(second)
    issue(second, org_admin)
    serials = sorted(int(n[-6:]) for n in Certificate.objects.filter(level__code="4").values_list("number", flat=True))
    assert serials == list(range(1, 7))


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_of_one_organisation_never_share_a_serial(org, org_admin, cc_officer):
    require_postgres()
    from tests.assessments.conftest import file_organisation, make_candidates, make_plan

    file_organisation(org, org_admin, cc_officer)
    plans = []
    for i in range(3):
        plan = make_plan(org, org_admin)
        make_candidates(plan, org_admin, "4", 30, start=100 * (i + 1))
        plans.append(finalise(plan))
    batches = [IssueBatch.objects.create(plan=p, total=30, issued_on=timezone.localdate()) for p in plans]
    barrier = threading.Barrier(len(batches))
    errors = []

    def run(batch_id):
        try:
            barrier.wait()
            issuance.issue_batch_run(batch_id, chunk=7)
        except Exception as exc:  # collected for the assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(b.id,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    numbers = list(Certificate.objects.values_list("number", flat=True))
    assert len(numbers) == 90 and len(set(numbers)) == 90
    assert sorted(int(n[-6:]) for n in numbers) == list(range(1, 91))  # no gaps, no repeats


@pytest.mark.django_db(transaction=True)
def test_two_runs_of_the_same_batch_issue_each_person_once(org, org_admin, cc_officer):
    require_postgres()
    from tests.assessments.conftest import file_organisation, make_candidates, make_plan

    file_organisation(org, org_admin, cc_officer)
    plan = make_plan(org, org_admin)
    make_candidates(plan, org_admin, "4", 40)
    finalise(plan)
    batch = IssueBatch.objects.create(plan=plan, total=40, issued_on=timezone.localdate())
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            barrier.wait()
            issuance.issue_batch_run(batch.id, chunk=5)
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Certificate.objects.count() == 40
    assert sorted(int(n[-6:]) for n in Certificate.objects.values_list("number", flat=True)) == list(range(1, 41))
    batch.refresh_from_db()
    assert batch.status == "done"


def test_a_broker_outage_is_shown_and_starting_again_requeues(
    finalised_plan, org_admin, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from certificates.tasks import issue_batch_task

    def broker_down(*args, **kwargs):
        raise OperationalError("[Errno 111] Connection refused")

    monkeypatch.setattr(issue_batch_task, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        batch = issuance.issue_batch_start(actor=Actor.for_user(org_admin), plan_id=finalised_plan.id)
    batch.refresh_from_db()
    assert batch.status == "queued" and "任务队列暂不可用" in batch.error
    assert Certificate.objects.count() == 0
    assert (
        "任务队列暂不可用"
        in client_for(org_admin).get(f"/certificates/plans/{finalised_plan.id}/issue/").content.decode()
    )

    monkeypatch.undo()  # the broker is back: starting again queues the same batch, which then completes
    with django_capture_on_commit_callbacks(execute=True):
        again = issuance.issue_batch_start(actor=Actor.for_user(org_admin), plan_id=finalised_plan.id)
    again.refresh_from_db()
    assert again.id == batch.id and again.status == "done" and again.error == ""
    assert Certificate.objects.count() == 7
