"""Send-time choice: send an email or text at the hour of the week the debtor most often
responds (payments, portal visits, promises, replies on the timeline), or — with too
little history of their own — the hour similar debtors of the office (same state, same
time zone) most often respond. A simple, transparent rule the scoring work can refine:

- the debtor's own hour counts when at least OWN_MIN of their responses in the last
  HISTORY_DAYS fell in it; the similar debtors' hour when at least SIMILAR_MIN did;
- a message is held for that hour only if it comes within the next 24 hours and falls
  inside the debtor's allowed window; otherwise it goes when due;
- the choice is made once per message and written on it (the hour and why), so a
  deferred message is never deferred again.

Only hours in one known time zone are used: a debtor who could be in several zones is
sent to when due (the gate's window already holds in every zone they could be in).
It never sends earlier than due and never holds a message past a day.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db.models import Count
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay

from accounts.models import Event
from debtors.models import ContactPoint
from debtors.timezones import debtor_candidate_zones
from recovery.lookups import array

RESPONSE_KINDS = (
    Event.Kind.PAYMENT,
    Event.Kind.PORTAL_VISIT,
    Event.Kind.PROMISE,
    Event.Kind.RESPONSE,
)
HISTORY_DAYS = 365
OWN_MIN = 2
SIMILAR_MIN = 5
HORIZON = timedelta(hours=24)
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
CACHE_PREFIX = "sendtime:similar"


@dataclass(frozen=True)
class Slot:
    """An hour of the week in a zone: ISO weekday (1 = Monday) and hour."""

    weekday: int
    hour: int
    zone: str
    responses: int
    why: str

    def label(self):
        return f"{DAYS[self.weekday - 1]} {self.hour:02d}:00 {self.zone}"


def best_slot(counts, *, minimum):
    """The (weekday, hour) with the most responses, if it has at least `minimum`; ties
    go to the earliest hour of the week, so the choice is reproducible."""
    if not counts:
        return None
    (weekday, hour), n = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return (weekday, hour, n) if n >= minimum else None


def own_counts(occurred, zone):
    """Responses per (ISO weekday, hour) in the debtor's zone."""
    tz = ZoneInfo(zone)
    return Counter((at.astimezone(tz).isoweekday(), at.astimezone(tz).hour) for at in occurred)


def similar_counts(*, office_id, state, zone, since):
    """Responses per (weekday, hour) of the office's debtors with an address in `state`,
    in `zone`. One GROUP BY, cached for an hour: it reads many rows and moves slowly."""
    key = f"{CACHE_PREFIX}:{office_id}:{state}:{zone}:{since:%Y%m%d}"
    found = cache.get(key)
    if found is not None:
        return Counter({tuple(k): v for k, v in found})
    tz = ZoneInfo(zone)
    debtors = ContactPoint.objects.filter(kind=ContactPoint.Kind.ADDRESS, state=state).values(
        "debtor_id"
    )
    rows = (
        Event.objects.filter(kind__in=RESPONSE_KINDS, occurred_at__gte=since, debtor_id__in=debtors)
        .annotate(
            weekday=ExtractIsoWeekDay("occurred_at", tzinfo=tz),
            hour=ExtractHour("occurred_at", tzinfo=tz),
        )
        .values("weekday", "hour")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = Counter({(r["weekday"], r["hour"]): r["n"] for r in rows})
    cache.set(key, [[list(k), v] for k, v in counts.items()], timeout=3600)
    return counts


def next_slot_start(slot, now):
    """The start of the slot's next occurrence (now, if `now` is inside it)."""
    tz = ZoneInfo(slot.zone)
    local = now.astimezone(tz)
    days_ahead = (slot.weekday - local.isoweekday()) % 7
    day = (local + timedelta(days=days_ahead)).date()
    start = datetime(day.year, day.month, day.day, slot.hour, tzinfo=tz)
    if start + timedelta(hours=1) <= now:
        start = datetime.combine(day + timedelta(days=7), start.timetz())
    return max(start, now)


def send_time_choose(slot, *, now, due_at, allowed):
    """(when, reason) for one message with a best slot (or None for none): the slot's
    next start if it is within a day of now, not before due and `allowed(when)` (inside
    the debtor's window); else the message goes when due."""
    if slot is None:
        return None, "no response history for the debtor or similar debtors: sent when due"
    when = next_slot_start(slot, max(now, due_at))
    if when > now + HORIZON:
        return None, f"best hour {slot.label()} ({slot.why}) is over a day away: sent when due"
    if not allowed(when):
        return None, f"best hour {slot.label()} ({slot.why}) is outside the window: sent when due"
    if when <= now:
        return None, f"sent in the best hour {slot.label()} ({slot.why})"
    return when, f"held for the best hour {slot.label()} ({slot.why})"


def slots_for(messages, *, office_id, now):
    """The best slot per debtor of `messages` (None when there is none). Needs the office
    in context: a constant number of queries plus one per (state, zone) not cached."""
    debtor_ids = {m.debtor_id for m in messages}
    since = now - timedelta(days=HISTORY_DAYS)
    points = {}
    debtors = array(debtor_ids)
    for cp in ContactPoint.objects.filter(debtor_id__any=debtors):
        points.setdefault(cp.debtor_id, []).append(cp)
    occurred = {}
    for debtor_id, at in Event.objects.filter(
        debtor_id__any=debtors, kind__in=RESPONSE_KINDS, occurred_at__gte=since
    ).values_list("debtor_id", "occurred_at"):
        occurred.setdefault(debtor_id, []).append(at)
    slots = {}
    for debtor_id in debtor_ids:
        zones = debtor_candidate_zones(points.get(debtor_id, []))
        if len(zones) != 1:
            slots[debtor_id] = None
            continue
        zone = next(iter(zones))
        best = best_slot(own_counts(occurred.get(debtor_id, []), zone), minimum=OWN_MIN)
        if best:
            slots[debtor_id] = Slot(
                *best[:2],
                zone=zone,
                responses=best[2],
                why=f"the debtor responded {best[2]} times then",
            )
            continue
        states = {cp.state for cp in points.get(debtor_id, []) if cp.kind == "address" and cp.state}
        best = None
        if len(states) == 1:
            state = next(iter(states))
            counts = similar_counts(office_id=office_id, state=state, zone=zone, since=since)
            best = best_slot(counts, minimum=SIMILAR_MIN)
        slots[debtor_id] = (
            Slot(
                *best[:2],
                zone=zone,
                responses=best[2],
                why=f"similar debtors in {state} responded {best[2]} times then",
            )
            if best
            else None
        )
    return slots
