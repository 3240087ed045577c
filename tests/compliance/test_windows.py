"""F-TIME across candidate zones and DST: property-based."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from compliance import windows
from debtors.timezones import US_TIME_ZONES

zones = st.sets(st.sampled_from(US_TIME_ZONES), min_size=1, max_size=4)
# Around the 2026 DST changes and ordinary days (naive bounds, as hypothesis wants; the
# values are made UTC below).
instants = st.one_of(  # noqa: DTZ001
    st.datetimes(min_value=datetime(2026, 3, 6), max_value=datetime(2026, 3, 10)),  # noqa: DTZ001
    st.datetimes(min_value=datetime(2026, 10, 30), max_value=datetime(2026, 11, 3)),  # noqa: DTZ001
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1)),  # noqa: DTZ001
).map(lambda d: d.replace(tzinfo=UTC, microsecond=0))
hour_windows = st.sampled_from([(8, 21), (9, 20), (8, 19), (10, 18)])


def inside(at, zone_set, window):
    for name in zone_set:
        local = at.astimezone(ZoneInfo(name))
        minutes = local.hour * 60 + local.minute + local.second / 60
        if not (window[0] * 60 <= minutes < window[1] * 60):
            return False
    return True


@settings(max_examples=300, deadline=None)
@given(zone_set=zones, at=instants, window=hour_windows)
def test_next_allowed_is_inside_every_zone_and_the_earliest(zone_set, at, window):
    nxt = windows.next_allowed(at, zone_set, window=window)
    if nxt is None:
        # Then no instant in the horizon is inside all windows: sample to make sure.
        probe = at
        while probe < at + timedelta(days=3):
            assert not inside(probe, zone_set, window)
            probe += timedelta(minutes=30)
        return
    assert nxt >= at
    assert inside(nxt, zone_set, window)
    if nxt > at:
        # Earliest: a second before it, and any earlier half-hour, is not allowed.
        assert not inside(nxt - timedelta(seconds=1), zone_set, window)
        probe = at
        while probe < nxt:
            assert not inside(probe, zone_set, window)
            probe += timedelta(minutes=30)


def test_dst_spring_forward_morning_in_new_york():
    # 2026-03-08: clocks jump 02:00 → 03:00; 08:00 EDT is 12:00 UTC, not 13:00.
    at = datetime(2026, 3, 8, 11, 0, tzinfo=UTC)
    assert windows.next_allowed(at, {"America/New_York"}) == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)


def test_two_zones_wait_for_the_later_morning():
    at = datetime(2026, 11, 17, 13, 30, tzinfo=UTC)  # 08:30 New York, 05:30 Los Angeles
    nxt = windows.next_allowed(at, {"America/New_York", "America/Los_Angeles"})
    assert nxt == datetime(2026, 11, 17, 16, 0, tzinfo=UTC)  # 08:00 in Los Angeles


def test_inconvenient_times_are_skipped():
    quiet = windows.parse_quiet([{"from": "08:00", "to": "12:30"}])
    at = datetime(2026, 11, 17, 13, 30, tzinfo=UTC)
    nxt = windows.next_allowed(at, {"America/New_York"}, quiet=quiet)
    assert nxt == datetime(2026, 11, 17, 17, 30, tzinfo=UTC)  # 12:30 New York
