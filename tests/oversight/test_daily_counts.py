"""Dashboards at province size: complete days read from pre-aggregated daily counts (oversight/aggregates.py),
today counted live; the figures are the same as counting everything live."""

import datetime

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts.actors import Actor
from certificates.models import Certificate, VerificationLog
from core.dates import add_months
from oversight import dashboards
from oversight.aggregates import daily_counts_rebuild, daily_counts_refresh
from oversight.models import DailyCount

pytestmark = pytest.mark.django_db


@pytest.fixture
def spread(finalised_plan, org_admin, issue):
    """The issued certificates spread over today, last month and two months back, with scans on those days."""
    issue(finalised_plan, org_admin)
    today = timezone.localdate()
    days = [today, today - datetime.timedelta(days=31), today - datetime.timedelta(days=62)]
    certs = list(Certificate.objects.order_by("number"))
    for i, cert in enumerate(certs):
        Certificate.objects.filter(pk=cert.pk).update(issued_on=days[i % 3])
    noon = lambda d: timezone.make_aware(datetime.datetime.combine(d, datetime.time(12)))  # noqa: E731
    VerificationLog.objects.bulk_create(
        [
            VerificationLog(at=noon(d), channel="scan", result=r, region_code="220102")
            for d in days
            for r in ("valid", "revoked")
        ]
        + [VerificationLog(at=noon(days[1]), channel="api", result="forged", region_code="")]
    )
    return days


def panels(officer) -> tuple[list, list]:
    # Seen from next month, so that this month (today included) is the board's last whole month.
    board = dashboards.dashboard_for(actor=Actor.for_user(officer), months=6, today=add_months(timezone.localdate(), 1))
    return board.panels["certificates"].rows, board.panels["verifications"].rows


def test_pre_aggregated_dashboards_show_what_counting_live_shows(cc_officer, spread):
    live = panels(cc_officer)
    assert sum(n for _month, n in live[0]) == 7
    with override_settings(DASHBOARD_PREAGGREGATED=True):
        assert sum(n for _m, n in panels(cc_officer)[0]) == 3  # before any refresh: only today, counted live
        daily_counts_rebuild()
        assert panels(cc_officer) == live
        assert not DailyCount.objects.filter(day=timezone.localdate()).exists()  # today stays live


def test_a_refresh_picks_up_a_certificate_dated_in_the_past_and_is_idempotent(cc_officer, spread):
    with override_settings(DASHBOARD_PREAGGREGATED=True):
        daily_counts_refresh()  # the first refresh builds every day
        before = DailyCount.objects.count()
        last_month = spread[1]
        cert = Certificate.objects.filter(issued_on=spread[0]).first()
        Certificate.objects.filter(pk=cert.pk).update(issued_on=last_month, created_at=timezone.now())
        daily_counts_refresh()
        daily_counts_refresh()
        assert DailyCount.objects.count() == before
        assert panels(cc_officer) == _live(cc_officer)


def _live(officer):
    with override_settings(DASHBOARD_PREAGGREGATED=False):
        return panels(officer)
