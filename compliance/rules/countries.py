"""Country profiles outside the US (numbers from compliance.jurisdictions): India's RBI
fair-practice hours (IN-RBI) and the UK's FCA consumer-credit conduct rules (UK-CONC).
They apply by the office's country, on top of the rules every office follows. The EU's
GDPR (EU-GDPR) applies by the office's country or any address of the debtor's: an
erasure request restricts processing, so nothing reaches the debtor any more."""

from compliance import windows
from compliance.jurisdictions import (
    DEFAULT_ZONES,
    EU_COUNTRIES,
    INDIA,
    UK,
    UK_LIMITATION_PERIODS,
)
from compliance.rules import COLLECTION_CHANNELS, Rule, block, day_label, defer

_TIMED = frozenset(COLLECTION_CHANNELS - {"letter"})


def _zones(ctx):
    return ctx.debtor.zones or DEFAULT_ZONES[ctx.office.country]


def _window(ctx, rule, profile, what):
    window = (
        max(profile.window.start, ctx.policy.earliest_hour),
        min(profile.window.end, ctx.policy.latest_hour),
    )
    nxt = windows.next_allowed(ctx.at, _zones(ctx), window=window)
    if nxt == ctx.at:
        return None
    if nxt is None:
        return block(rule, f"Blocked: no moment is inside {what} in every zone the debtor "
                           "may be in.")  # fmt: skip
    return defer(rule, nxt, f"Deferred: {what} ({window[0]:02d}:00–{window[1]:02d}:00 local); "
                            f"next allowed {nxt:%Y-%m-%d %H:%M} UTC.")  # fmt: skip


def check_india_hours(ctx):
    return _window(ctx, "IN-RBI", INDIA, "the RBI's recovery-call hours")


def check_uk_conduct(ctx):
    if ctx.channel == "legal" or "threatens_suit" in ctx.attempt.content:
        return _uk_statute_barred(ctx)
    if ctx.channel in _TIMED:
        return _window(ctx, "UK-CONC", UK, "reasonable hours")
    return None


def _uk_statute_barred(ctx):
    period = UK_LIMITATION_PERIODS.get(ctx.account.governing_law_state or "")
    start = ctx.account.last_payment_date or ctx.account.charge_off_date
    if period is None or start is None:
        return block("UK-CONC", "Blocked: when this debt becomes statute-barred is unknown: no "
                                "court action and no threat of it.")  # fmt: skip
    try:
        ends = start.replace(year=start.year + period.years)
    except ValueError:  # 29 February
        ends = start.replace(year=start.year + period.years, day=28)
    if ctx.at.date() >= ends:
        return block("UK-CONC", f"Blocked: the debt is statute-barred ({period.citation}): no "
                                "court action and no threat of it.")  # fmt: skip
    return None


def in_eu(office, contact_points):
    """The GDPR applies: an office in the EU, or a debtor with an address there."""
    return office.country in EU_COUNTRIES or any(
        cp.kind == "address" and cp.country in EU_COUNTRIES for cp in contact_points
    )


def check_erasure(ctx):
    requests = [r for r in ctx.debtor.erasures if r.received_at <= ctx.at]
    if ctx.facts.known_at_attempt:
        requests = [r for r in requests if r.recorded_at <= ctx.at]
    if not requests:
        return None
    first = min(r.received_at for r in requests)
    return block(
        "EU-GDPR",
        f"Blocked: the debtor asked on {day_label(first)} for their personal data to be "
        "erased; processing is restricted and nobody contacts them any more.",
    )


def _collection(ctx):
    return ctx.collection


RULES = [
    Rule("IN-RBI", "India: recovery contact only 08:00–19:00", check_india_hours,
         lambda c: _collection(c) and c.office.country == "IN", channels=_TIMED),
    Rule("UK-CONC", "United Kingdom: reasonable hours; no action on statute-barred debt",
         check_uk_conduct, lambda c: c.office.country == "GB" and not c.attempt.debtor_initiated),
    # Every contact we start. The debtor's own action (paying, writing in) is their
    # consent to that processing (GDPR Art. 18(2)), so its direct answer may still go.
    Rule("EU-GDPR", "European Union: an erasure request restricts processing", check_erasure,
         lambda c: bool(c.debtor.erasures) and not c.attempt.debtor_initiated),
]  # fmt: skip
