"""The platform's one vocabulary for values shown to a person: `{% load ui %}` then

- `{{ d|day }}`       2026-12-07          (a date, a datetime in local time, or an ISO string)
- `{{ t|moment }}`    2026-12-07 16:01    (local time)
- `{{ x|yuan }}`      1,950.00 元
- `{{ n|masked_id }}` 220102********1234  (core.masking, the one rule)
- `{{ u|person }}`    the real name of a user (a person's name, else the account's full name, else the login)

Each format is here and in config/formats (for values printed without a filter), nowhere else.
"""

import datetime
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from core.audit_words import actor_words
from core.masking import mask_id_number

register = template.Library()

DATE_FORMAT = "%Y-%m-%d"
DATETIME_FORMAT = "%Y-%m-%d %H:%M"


def _as_datetime_or_date(value):
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            parsed = parse_datetime(text)
        except ValueError:
            parsed = None
        if parsed is None:
            try:
                parsed = parse_date(text[:10])
            except ValueError:
                parsed = None
        return parsed
    if isinstance(value, datetime.date):
        return value
    return None


def _local(value: datetime.datetime) -> datetime.datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


@register.filter
def day(value) -> str:
    moment_or_day = _as_datetime_or_date(value)
    if moment_or_day is None:
        return "" if value in (None, "") else str(value)
    if isinstance(moment_or_day, datetime.datetime):
        moment_or_day = _local(moment_or_day)
    return moment_or_day.strftime(DATE_FORMAT)


@register.filter
def moment(value) -> str:
    moment_or_day = _as_datetime_or_date(value)
    if moment_or_day is None:
        return "" if value in (None, "") else str(value)
    if not isinstance(moment_or_day, datetime.datetime):
        return moment_or_day.strftime(DATE_FORMAT)
    return _local(moment_or_day).strftime(DATETIME_FORMAT)


def money_text(value) -> str:
    """1950 → "1,950.00"; the number part of `yuan`, for tables whose header already says 元."""
    if value in (None, ""):
        return ""
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{amount:,.2f}"


@register.filter
def money(value) -> str:
    return money_text(value)


@register.filter
def yuan(value) -> str:
    text = money_text(value)
    if not text:
        return ""
    return _("%(amount)s 元") % {"amount": text}


@register.filter
def masked_id(value) -> str:
    if not value:
        return ""
    value = str(value)
    return value if "*" in value else mask_id_number(value)


@register.filter
def person(user) -> str:
    """A staff column or a greeting: the real name, never the login when a name is known."""
    if user is None or user == "":
        return ""
    display = getattr(user, "display_name", None)
    if display is not None:
        return str(display)
    return str(user)


@register.filter
def audit_actor(entry) -> str:
    """Who made an audit entry, in words (core.audit_words)."""
    return actor_words(entry)
