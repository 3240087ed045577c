"""Time windows across every zone a debtor might be in.

A contact is allowed at an instant only if that instant is inside the allowed window in
*every* candidate zone (F-TIME), and outside every inconvenient time the debtor named
(F-PREF). A deferral is the earliest such instant. All maths is on UTC instants with
zoneinfo doing the local conversions, so DST changes need no special cases.
"""

from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

HORIZON_DAYS = 14


@lru_cache(maxsize=512)
def _zone(name):
    return ZoneInfo(name)


def _local(day, hour_minute, zone):
    hour, minute = hour_minute
    if hour >= 24:
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)


def zone_intervals(zone_name, start, *, window, quiet=(), days=HORIZON_DAYS):
    """Allowed UTC intervals in one zone from the local day before `start` on.

    window: (start_hour, end_hour); quiet: [(weekdays or None, (h, m), (h, m))] spans the
    debtor said are inconvenient, in local time."""
    zone = _zone(zone_name)
    first = start.astimezone(zone).date() - timedelta(days=1)
    intervals = []
    for offset in range(days + 2):
        day = first + timedelta(days=offset)
        spans = [(_local(day, (window[0], 0), zone), _local(day, (window[1], 0), zone))]
        for weekdays, q_from, q_to in quiet:
            if weekdays is not None and day.weekday() not in weekdays:
                continue
            spans = subtract(spans, [(_local(day, q_from, zone), _local(day, q_to, zone))])
        intervals.extend(spans)
    return intervals


def intersect(a, b):
    """Intersection of two sorted lists of [start, end) intervals."""
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo < hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(a, b):
    """Intervals of `a` not covered by any interval of `b` (both sorted)."""
    out = []
    for start, end in a:
        cursor = start
        for b_start, b_end in b:
            if b_end <= cursor or b_start >= end:
                continue
            if b_start > cursor:
                out.append((cursor, b_start))
            cursor = max(cursor, b_end)
        if cursor < end:
            out.append((cursor, end))
    return out


def allowed_intervals(zones, start, *, window, quiet=()):
    result = None
    for zone in sorted(zones):
        spans = zone_intervals(zone, start, window=window, quiet=quiet)
        result = spans if result is None else intersect(result, spans)
    return result or []


def next_allowed(at, zones, *, window=(8, 21), quiet=()):
    """The earliest instant >= `at` allowed in every zone, or None within the horizon
    (e.g. zones so far apart that their windows never overlap)."""
    return _next_allowed(at, frozenset(zones), tuple(window), tuple(quiet))


# A batch decides many attempts planned for the same instant in the same few zone sets.
@lru_cache(maxsize=4096)
def _next_allowed(at, zones, window, quiet):
    for start, end in allowed_intervals(zones, at, window=window, quiet=quiet):
        if end > at:
            return max(start, at)
    return None


def window_end(at, zones, *, window=(8, 21), quiet=()):
    """The end of the allowed interval (in every zone) that `at` is in, or None when
    `at` is outside the window."""
    return _window_end(at, frozenset(zones), tuple(window), tuple(quiet))


@lru_cache(maxsize=4096)
def _window_end(at, zones, window, quiet):
    for start, end in allowed_intervals(zones, at, window=window, quiet=quiet):
        if start <= at < end:
            return end
    return None


def is_allowed(at, zones, *, window=(8, 21), quiet=()):
    return next_allowed(at, zones, window=window, quiet=quiet) == at


def parse_quiet(preferences):
    """Inconvenient-time preference records → spans for `zone_intervals`."""
    spans = []
    for value in preferences:
        try:
            h1, m1 = (int(x) for x in value["from"].split(":"))
            h2, m2 = (int(x) for x in value["to"].split(":"))
        except (KeyError, ValueError, AttributeError):
            continue
        days = value.get("days")
        spans.append((frozenset(days) if days else None, (h1, m1), (h2, m2)))
    return tuple(spans)
