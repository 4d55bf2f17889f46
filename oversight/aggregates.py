"""Daily counts behind the dashboards at province size: certificates issued and verifications made, per day and
region (DailyCount), so that a year's panel reads a few thousand rows instead of counting millions.

With DASHBOARD_PREAGGREGATED on (a deployment with a beat), the dashboards read complete days from DailyCount and
count only today live; `daily_counts_refresh` (beat, every few minutes) recomputes the days that may have changed:
for verifications, the days since the last refresh and at least the two days before today (the log is buffered
for seconds); for certificates, the same days (a certificate issued during a day is dated today until midnight,
and one dated ahead, such as a graduating class's, is counted once its day has passed) and every earlier issue
date of a certificate created since the last refresh or in the last REFRESH_LOOKBACK (a historical import, a
correction), each day recomputed whole, so a refresh is exact, not an increment, and running it twice changes
nothing; after the beat stopped for days, the next refresh recounts them all. The first refresh (or
`daily_counts_rebuild`, after a bulk load) computes every day. Off (the default, `make run`), every panel is
counted live as before.
"""

import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from certificates.models import Certificate, VerificationLog

from .models import DailyCount

REFRESH_LOOKBACK = datetime.timedelta(hours=6)
# After a bulk or historical load (more certificates created in the lookback than this, or dated on more days than
# that) every day is recounted in one grouped scan of the table, which is cheaper than finding the days touched
# and recounting them one by one (10,000,000 just loaded: 3.6 s against 26 s).
# When the last refresh ran (the cache is Redis in a deployment): a refresh after the beat stopped recounts every
# day since then.
REFRESHED_KEY = "daily-counts:refreshed-at"
WHOLE_ABOVE_ROWS = 50_000
WHOLE_ABOVE_DAYS = 62


def enabled() -> bool:
    return bool(getattr(settings, "DASHBOARD_PREAGGREGATED", False))


def _replace(kind: str, days: set[datetime.date] | None, rows) -> int:
    """Replace the counts of `days` (every day when None) with `rows` of (day, region_code, key, n)."""
    with transaction.atomic():
        existing = DailyCount.objects.filter(kind=kind)
        if days is not None:
            existing = existing.filter(day__in=days)
        existing.delete()
        objs = [DailyCount(kind=kind, day=d, region_code=r or "", key=k or "", n=n) for d, r, k, n in rows if n]
        DailyCount.objects.bulk_create(objs, batch_size=5000)
    return len(objs)


def _certificate_rows(days: set[datetime.date] | None, before: datetime.date):
    qs = Certificate.objects.filter(issued_on__lt=before)
    if days is not None:
        qs = qs.filter(issued_on__in=days)
    for r in qs.values("issued_on", "region_code").annotate(n=Count("id")).order_by():
        yield r["issued_on"], r["region_code"], "", r["n"]


def _verification_rows(since: datetime.date | None, before: datetime.date):
    start_of = lambda d: timezone.make_aware(datetime.datetime.combine(d, datetime.time.min))  # noqa: E731
    qs = VerificationLog.objects.filter(at__lt=start_of(before))
    if since is not None:
        qs = qs.filter(at__gte=start_of(since))
    grouped = (
        qs.annotate(day=TruncDate("at", tzinfo=timezone.get_default_timezone()))
        .values("day", "region_code", "result")
        .annotate(n=Count("id"))
        .order_by()
    )
    for r in grouped:
        yield r["day"], r["region_code"], r["result"], r["n"]


def daily_counts_rebuild(today: datetime.date | None = None) -> dict:
    """Every complete day, from scratch (after a bulk load, or the first time)."""
    today = today or timezone.localdate()
    return {
        "certificates": _replace(DailyCount.Kind.CERTIFICATES, None, _certificate_rows(None, today)),
        "verifications": _replace(DailyCount.Kind.VERIFICATIONS, None, _verification_rows(None, today)),
    }


def daily_counts_refresh(now: datetime.datetime | None = None) -> dict:
    now = now or timezone.now()
    today = timezone.localdate(now)
    if not DailyCount.objects.exists():
        counts = daily_counts_rebuild(today)
        cache.set(REFRESHED_KEY, now, timeout=None)
        return counts
    # Since the last refresh (the beat may have stopped for days), and at least the lookback and the two days
    # before today.
    last = cache.get(REFRESHED_KEY)
    start = min(last, now - REFRESH_LOOKBACK) if last else now - REFRESH_LOOKBACK
    since = min(timezone.localdate(start) - datetime.timedelta(days=1), today - datetime.timedelta(days=2))
    last_days = {since + datetime.timedelta(days=i) for i in range((today - since).days)}
    recent = Certificate.objects.filter(created_at__gte=start)
    if len(last_days) > WHOLE_ABOVE_DAYS or recent[: WHOLE_ABOVE_ROWS + 1].count() > WHOLE_ABOVE_ROWS:
        touched = None  # the created_at count reads that index alone
    else:
        touched = set(recent.filter(issued_on__lt=since).values_list("issued_on", flat=True).distinct())
        touched = None if len(touched) > WHOLE_ABOVE_DAYS else touched | last_days
    certificates = _replace(DailyCount.Kind.CERTIFICATES, touched, _certificate_rows(touched, today))
    verifications = _replace(DailyCount.Kind.VERIFICATIONS, last_days, _verification_rows(since, today))
    cache.set(REFRESHED_KEY, now, timeout=None)
    return {"certificates": certificates, "verifications": verifications}
