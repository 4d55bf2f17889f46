"""Input types shared by the API's schemas.

Dates and times come in as ISO 8601 text and nothing else. pydantic's lax mode also reads numbers as Unix times,
so `?on=0` meant 1970-01-01 and `"valid_until": 1e9` a day in 2001; a number is never what a person meant by a
date. Every `date` and `datetime` the API reads (query, form, JSON body, nested) is one of these two types;
tests/config/test_input.py walks every operation's input models and fails on a plain `datetime.date`.
"""

import datetime
import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME_START = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]|$)")


def _iso_date(value: object) -> object:
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise ValueError("日期应写作 YYYY-MM-DD,例如 2025-03-01")


def _iso_datetime(value: object) -> object:
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, str) and _ISO_DATETIME_START.match(value):
        return value
    raise ValueError("时间应写作 ISO 8601 格式,例如 2025-03-01T09:30:00+08:00")


def _in_utc(value: datetime.datetime) -> datetime.datetime:
    """A time with any offset Python accepts (up to ±23:59) becomes the same instant in UTC, which the database
    can hold (PostgreSQL refuses offsets beyond ±15:59); a naive one is taken as the platform's local time."""
    if value.tzinfo is None:
        from django.utils import timezone

        value = timezone.make_aware(value)
    try:
        return value.astimezone(datetime.UTC)
    except OverflowError:
        raise ValueError("时间超出可表示的范围") from None


IsoDate = Annotated[datetime.date, BeforeValidator(_iso_date)]
IsoDateTime = Annotated[datetime.datetime, BeforeValidator(_iso_datetime)]
#: An IsoDateTime stored as given but in UTC (for filters compared in the database).
Instant = Annotated[datetime.datetime, BeforeValidator(_iso_datetime), AfterValidator(_in_utc)]


def parse_iso_date(value: object) -> datetime.date:
    """The same rule for dates inside free-form JSON (a registration's evidence items): text YYYY-MM-DD only."""
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    return datetime.date.fromisoformat(str(_iso_date(value)))


#: The validators that make a date or time field strict (for the test that checks every input field has one).
STRICT_DATE_VALIDATORS = (_iso_date, _iso_datetime)
