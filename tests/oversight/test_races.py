"""What two people doing the same thing at the same moment must not break (PostgreSQL row locks)."""

import datetime
import threading

import pytest
from django.db import connection

from accounts.actors import Actor
from accounts.models import Role
from certificates.models import Certificate
from core.audit import audit_verify
from core.errors import Conflict
from oversight import guazheng, reports
from oversight.models import Exposure, GuazhengFlag
from tests.conftest import require_postgres
from tests.factories import OrganisationFactory, member, region

pytestmark = pytest.mark.django_db(transaction=True)


def _together(*calls) -> list:
    """Run the calls in threads released at the same instant; return each one's result or exception."""
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(i):
        try:
            barrier.wait()
            results[i] = calls[i]()
        except Exception as exc:  # collected and asserted by the caller
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_two_employers_declaring_one_certificate_at_once_are_still_flagged(finalised_plan, org_admin, issue):
    require_postgres()
    issue(finalised_plan, org_admin)
    cert = Certificate.objects.order_by("number").first()
    employers = []
    for code in ("220104", "220105"):
        org = OrganisationFactory(kind="Y", region=region(code))
        employers.append((org, member(Role.ORG_ADMIN, organisation=org)))

    def declare(org, admin):
        return lambda: guazheng.reliance_declare(
            actor=Actor.for_user(admin),
            employer_id=org.id,
            certificate_number=cert.number,
            holder_name=cert.holder_name,
            purpose="bidding",
            start=datetime.date(2025, 1, 1),
        )

    results = _together(*(declare(org, admin) for org, admin in employers))
    assert not [r for r in results if isinstance(r, Exception)]
    assert GuazhengFlag.objects.filter(rule="multiple_employers").count() == 1
    assert audit_verify().ok


def test_two_officers_closing_one_case_at_once_publish_it_once(cc_officer, changchun_bureau):
    require_postgres()
    second = member(Role.BUREAU_STAFF, bureau=changchun_bureau)
    complaint, _code = reports.complaint_submit(
        actor=Actor.anonymous(),
        kind="other",
        description="培训机构冒用评价机构名义发证。",
        subject_name="某公司",
        region_code="220102",
    )
    reports.complaint_accept(actor=Actor.for_user(cc_officer), complaint_id=complaint.id, assignee_id=cc_officer.id)

    def close(user):
        return lambda: reports.complaint_close(
            actor=Actor.for_user(user),
            complaint_id=complaint.id,
            outcome="substantiated",
            finding="属实",
            measures="责令停止",
            reply="已处理",
            publish=True,
        )

    results = _together(close(cc_officer), close(second))
    assert sum(isinstance(r, Conflict) for r in results) == 1
    assert Exposure.objects.filter(complaint=complaint).count() == 1
    assert audit_verify().ok
