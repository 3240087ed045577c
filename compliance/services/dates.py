"""Dates and the instants they stand for: a letter "received on" a day takes effect at
the start of that day in the office's zone; business days skip weekends and holidays.
Pure helpers: nothing here writes."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from django.core.exceptions import ValidationError
from django.utils import timezone


def business_days_after(day, count, country="US"):
    """The date `count` business days after `day` (weekends and federal holidays off)."""
    calendar = holidays.country_holidays(country, years=range(day.year, day.year + 2))
    current = day
    while count:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in calendar:
            count -= 1
    return current


def day_label(value):
    """ "Nov 5, 2026" for a date or datetime (portable: no %-d)."""
    return f"{value:%b} {value.day}, {value.year}"


def day_start(*, office, day, field="received_on"):
    """The instant a thing dated `day` takes effect: the start of that day in the office's
    time zone (we rarely know the hour a letter arrived; the conservative reading is the
    whole day). Refuses a day in the future."""
    zone = ZoneInfo(office.time_zone)
    if day > timezone.localdate(timezone=zone):
        raise ValidationError({field: "The date received cannot be in the future."})
    return datetime.combine(day, time(0), tzinfo=zone)


def day_end(office, day):
    return datetime.combine(day, time(23, 59), tzinfo=ZoneInfo(office.time_zone))


def hold_end(*, office, until):
    """A hold "until" a day covers that whole day: it ends at the next midnight."""
    return datetime.combine(until + timedelta(days=1), time(0), tzinfo=ZoneInfo(office.time_zone))
