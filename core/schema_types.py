"""Input types shared by the API's schemas."""

import datetime
from typing import Annotated

from pydantic import AfterValidator


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


Instant = Annotated[datetime.datetime, AfterValidator(_in_utc)]
