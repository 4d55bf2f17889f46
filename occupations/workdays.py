"""China's official working-day calendar, for deadlines counted in working days (审核5个工作日, 公示5个工作日).

The State Council publishes each year's holidays and adjusted working days (调休) around November of the year
before. Sources, per year, best first:

1. the `chinesecalendar` library, which carries every published year up to its release (and raises for later
   years) — or, for a year it does not carry, a *provisional* calendar: weekends plus every statutory holiday that
   can be computed in advance, from the maintained `holidays` package: the fixed ones (元旦, 劳动节, 国庆节) and
   the lunar ones (除夕/春节, 清明, 端午, 中秋), with the rest days it adds when a holiday falls on a weekend (补休).
   Only the State Council's adjusted working weekends (调休上班) cannot be known before publication, so the year
   stays provisional and says so;
2. CalendarDay rows an operator entered from the notice, laid over (1) day by day. A year with any row counts
   as published. Laying rows over the library, rather than replacing it, means a single correction for a
   published year cannot wipe out the rest of that year.

Nothing here raises for a missing year: a deadline in December routinely reaches into a year not yet
published, and it is then returned with `provisional=True` and an explanation the page can show.

Operator rows are read once per WorkCalendar (one query per year touched) and never cached across calls,
so every process sees an operator's edit at once; the module-level functions use a fresh WorkCalendar per
call. Code computing many deadlines in one request should create one WorkCalendar and reuse it.
"""

import datetime
import functools
from dataclasses import dataclass
from typing import Literal

import chinese_calendar
import holidays as holiday_calendars

from .models import CalendarDay

YearStatus = Literal["operator", "library", "provisional"]

ONE_DAY = datetime.timedelta(days=1)

# Fixed-date statutory holidays (《全国年节及纪念日放假办法》) as (first year in force, month, day). The 2024
# revision (国务院令第798号, in force 2025) made 5月2日 a statutory holiday too. Only used for years the
# library does not carry, which in practice means years not yet published.
STATUTORY_FIXED_HOLIDAYS: tuple[tuple[int, int, int], ...] = (
    (1, 1, 1),  # 元旦
    (1, 5, 1),  # 劳动节
    (2025, 5, 2),  # 劳动节
    (1, 10, 1),  # 国庆节
    (1, 10, 2),  # 国庆节
    (1, 10, 3),  # 国庆节
)


@dataclass(frozen=True)
class Deadline:
    date: datetime.date
    provisional: bool
    explanation: str


def _weekend(day: datetime.date) -> bool:
    return day.weekday() >= 5


def _days_of(year: int):
    day = datetime.date(year, 1, 1)
    while day.year == year:
        yield day
        day += ONE_DAY


@functools.cache
def _library_exceptions(year: int) -> dict[datetime.date, bool] | None:
    """The library's days that differ from the plain weekend rule, or None when it has no data for `year`.

    Cached for the life of the process: the installed library's data does not change while it runs.
    """
    try:
        chinese_calendar.is_workday(datetime.date(year, 1, 1))
    except NotImplementedError:
        return None
    exceptions = {}
    for day in _days_of(year):
        workday = chinese_calendar.is_workday(day)
        if workday == _weekend(day):
            exceptions[day] = workday
    return exceptions


@functools.cache
def computed_holidays(year: int) -> dict[datetime.date, str]:
    """The statutory holidays of `year` that can be computed without the State Council's notice (the `holidays`
    package's calendar for China, lunar festivals included, with its substitute rest days), by date. Cached for
    the life of the process: the installed package's rules do not change while it runs."""
    try:
        calendar = holiday_calendars.China(years=year)
    except (NotImplementedError, KeyError, ValueError):
        return {}
    return {day: name for day, name in sorted(calendar.items()) if day.year == year}


def _provisional_exceptions(year: int) -> dict[datetime.date, bool]:
    days_off = {datetime.date(year, month, dom) for since, month, dom in STATUTORY_FIXED_HOLIDAYS if year >= since}
    days_off |= set(computed_holidays(year))
    return {day: False for day in sorted(days_off) if not _weekend(day)}


@dataclass(frozen=True)
class _Year:
    status: YearStatus
    exceptions: dict[datetime.date, bool]


def _plain_date(day: datetime.date) -> datetime.date:
    # A datetime would silently miss every lookup (datetime != date), and converting an aware one here would
    # pick a day in whatever zone it carries; the caller knows which local day it means.
    if isinstance(day, datetime.datetime):
        raise TypeError("working-day functions take a date; use timezone.localdate() for a datetime")
    return day


def _years_label(years: list[int]) -> str:
    return "、".join(str(y) for y in years)


class WorkCalendar:
    """One consistent view of the calendar; each year's operator rows are read on first use, then kept."""

    def __init__(self) -> None:
        self._years: dict[int, _Year] = {}

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        rows = dict(CalendarDay.objects.filter(year=year).values_list("date", "is_workday"))
        library = _library_exceptions(year)
        exceptions = dict(library if library is not None else _provisional_exceptions(year))
        exceptions.update(rows)
        status: YearStatus = "operator" if rows else "library" if library is not None else "provisional"
        self._years[year] = result = _Year(status, exceptions)
        return result

    def year_status(self, year: int) -> YearStatus:
        return self._year(year).status

    def is_workday(self, day: datetime.date) -> bool:
        day = _plain_date(day)
        return self._year(day.year).exceptions.get(day, not _weekend(day))

    def add_working_days(self, start: datetime.date, n: int) -> Deadline:
        """The n-th working day after `start` (start itself not counted); n < 0 counts back before start."""
        start = _plain_date(start)
        if n == 0:
            return Deadline(start, False, "未计工作日")
        step = ONE_DAY if n > 0 else -ONE_DAY
        day, remaining = start, abs(n)
        while remaining:
            day += step
            if self.is_workday(day):
                remaining -= 1
        return self._deadline(start, day)

    def working_days_between(self, a: datetime.date, b: datetime.date) -> int:
        """Working days in (a, b]; negative, counting (b, a], when b is before a.

        Matches add_working_days: working_days_between(a, add_working_days(a, n).date) == n for n >= 0.
        """
        a, b = _plain_date(a), _plain_date(b)
        if b < a:
            return -self.working_days_between(b, a)
        count, day = 0, a
        while day < b:
            day += ONE_DAY
            count += self.is_workday(day)
        return count

    def _deadline(self, start: datetime.date, end: datetime.date) -> Deadline:
        """Provisional when any day counted over lies in a year the State Council has not yet published. The
        explanation begins with the day counted from and says that it does not count (民法典第二百零一条)."""
        first, last = sorted((start + (ONE_DAY if end > start else -ONE_DAY), end))
        years = list(range(first.year, last.year + 1))
        provisional = [y for y in years if self.year_status(y) == "provisional"]
        direction = "次日起算" if end > start else "前一日起倒数"
        origin = f"自{start.year}年{start.month}月{start.day}日{direction},当日不计入;"
        if provisional:
            return Deadline(
                end,
                True,
                f"{origin}按{_years_label(provisional)}年暂定日历计算"
                "(国务院尚未公布;已计入可推算的法定节假日,调休上班日未知)",
            )
        return Deadline(end, False, f"{origin}按{_years_label(years)}年国务院公布的节假日安排计算")


def is_workday(day: datetime.date) -> bool:
    return WorkCalendar().is_workday(day)


def add_working_days(start: datetime.date, n: int) -> Deadline:
    return WorkCalendar().add_working_days(start, n)


def working_days_between(a: datetime.date, b: datetime.date) -> int:
    return WorkCalendar().working_days_between(a, b)


def year_status(year: int) -> YearStatus:
    return WorkCalendar().year_status(year)
