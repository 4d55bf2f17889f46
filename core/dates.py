"""Calendar arithmetic the rules share: months counted as the civil code counts them (民法典第二百零二条:
a period in months ends on the corresponding day, or on the month's last day when it has no such day)."""

import calendar
import datetime


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later (or earlier, for a negative count); 31 January + 1 month = 28/29 February."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    month = month0 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` earlier, clamped to the month's last day (31 May − 3 months = 28/29 February)."""
    return add_months(day, -months)
