"""Dashboards at province size: complete days read from pre-aggregated daily counts (oversight/aggregates.py),
today counted live; the figures are the same as counting everything live."""

import datetime

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.actors import Actor
from certificates.models import Certificate, VerificationLog
from core.dates import add_months
from occupations.models import Region
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


@pytest.mark.parametrize(
    ("rows", "days"), [(50_000, 62), (50_000, 0), (0, 62)], ids=["day by day", "many days", "many certificates"]
)
def test_a_refresh_picks_up_a_certificate_dated_in_the_past_and_is_idempotent(
    cc_officer, spread, rows, days, monkeypatch
):
    # After a bulk load (many certificates created, or dated on many days) the refresh recounts every day in one
    # pass: the same counts.
    monkeypatch.setattr("oversight.aggregates.WHOLE_ABOVE_ROWS", rows)
    monkeypatch.setattr("oversight.aggregates.WHOLE_ABOVE_DAYS", days)
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


@pytest.mark.parametrize("ahead", [0, 3], ids=["issued during the day", "dated ahead"])
def test_a_day_is_counted_once_it_has_passed_whenever_its_certificates_were_created(spread, ahead):
    # Certificates issued in office hours are dated today, which the dashboards count live; the refreshes after
    # midnight, whose lookback no longer reaches them, must still count that day. Likewise a certificate dated
    # ahead (a graduating class's) once its day has passed.
    today = timezone.localdate()
    day = today + datetime.timedelta(days=ahead)
    at = lambda d, hour, minute=0: timezone.make_aware(datetime.datetime.combine(d, datetime.time(hour, minute)))  # noqa: E731
    with override_settings(DASHBOARD_PREAGGREGATED=True):
        daily_counts_refresh(now=at(today, 9))  # the first refresh builds every day before today
        Certificate.objects.filter(issued_on=spread[0]).update(issued_on=day, created_at=at(today, 10))
        daily_counts_refresh(now=at(today, 23, 55))
        daily_counts_refresh(now=at(day + datetime.timedelta(days=1), 0, 5))
        counted = sum(DailyCount.objects.filter(kind=DailyCount.Kind.CERTIFICATES, day=day).values_list("n", flat=True))
        assert counted == Certificate.objects.filter(issued_on=day).count() == 3


def test_the_refresh_after_the_beat_stopped_for_days_counts_them_all(spread):
    today = timezone.localdate()
    at = lambda d, hour: timezone.make_aware(datetime.datetime.combine(d, datetime.time(hour)))  # noqa: E731
    with override_settings(DASHBOARD_PREAGGREGATED=True):
        daily_counts_refresh(now=at(today, 9))
        Certificate.objects.filter(issued_on=spread[0]).update(issued_on=today, created_at=at(today, 10))
        daily_counts_refresh(now=at(today, 17))  # the beat's last refresh before it stopped
        daily_counts_refresh(now=at(today + datetime.timedelta(days=4), 1))
        counted = sum(
            DailyCount.objects.filter(kind=DailyCount.Kind.CERTIFICATES, day=today).values_list("n", flat=True)
        )
        assert counted == Certificate.objects.filter(issued_on=today).count() == 3


def _live(officer):
    with override_settings(DASHBOARD_PREAGGREGATED=False):
        return panels(officer)


def cities(officer) -> dict[str, list]:
    board = dashboards.dashboard_for(actor=Actor.for_user(officer), months=6, today=add_months(timezone.localdate(), 1))
    return {row[0]: row for row in board.panels["cities"].rows}


def test_a_province_compares_its_cities_from_the_daily_counts_and_in_a_few_queries(province_officer, spread):
    moved = Certificate.objects.filter(issued_on=spread[1]).first()
    Certificate.objects.filter(pk=moved.pk).update(region_code="220202")  # one certificate issued in 吉林市
    noon = timezone.make_aware(datetime.datetime.combine(spread[2], datetime.time(12)))
    VerificationLog.objects.create(at=noon, channel="scan", result="valid", region_code="220203")
    live = cities(province_officer)
    # 长春市: 7 certificates but one, 6 scans (the forged one has no region); 吉林市: that one, one scan.
    assert (live["长春市"][3], live["长春市"][4]) == (6, 6)
    assert (live["吉林市"][3], live["吉林市"][4]) == (1, 1)
    with override_settings(DASHBOARD_PREAGGREGATED=True):
        daily_counts_rebuild()
        assert cities(province_officer) == live
        # Each figure is one grouped query for all the province's cities (stored days and today apart), not one
        # per city: counted city by city, Jilin's 9 cities took 55 queries.
        with CaptureQueriesContext(connection) as queries:
            dashboards._cities_panel(Region.objects.get(code="220000"), spread[2], spread[0], timezone.localdate())
        assert len(queries) <= 12, [q["sql"] for q in queries]
