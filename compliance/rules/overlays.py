"""State and city overlays: numbers from compliance.jurisdictions, applied for every
state the debtor may be in (all at once; the strictest wins)."""

from datetime import timedelta

from compliance.jurisdictions import NYC, NYC_ZIP_PREFIXES, STATES
from compliance.rules import COLLECTION_CHANNELS, Rule, block, cap_deferral, day_label


def check_ma_calls(ctx):
    rows = ctx.recent(days=7, channels={"call", "voicemail", "sms"}, account_only=True)
    return cap_deferral(
        "MA-CALLS", rows, STATES["MA"].caps["phone_per_debt_7d"],
        "Deferred: Massachusetts allows {cap} phone communications per debt in 7 days; "
        "{n} since {since}.",
    )  # fmt: skip


def work_requests(ctx):
    """The debtor's "don't contact me at work" requests in effect, newest first."""
    rows = [p for p in ctx.preferences if p.kind == "no_contact_at_work"]
    return sorted(rows, key=lambda p: p.effective_from, reverse=True)


def check_ma_work(ctx):
    cp = ctx.contact_point
    if cp is None or not cp.is_work:
        return None
    requests = work_requests(ctx)
    written = next((p for p in requests if p.value.get("method") == "written"), None)
    if written:
        return block(
            "MA-WORK",
            f"Blocked: the debtor asked in writing on {day_label(written.effective_from)} not "
            "to be contacted at work (MA-WORK).",
        )
    days = STATES["MA"].days
    for oral in requests:
        lapses = oral.effective_from + timedelta(days=days["work_oral_request"])
        if ctx.at < lapses:
            confirm_by = oral.effective_from + timedelta(days=days["work_written_confirmation"])
            return block(
                "MA-WORK",
                f"Blocked: the debtor asked on {day_label(oral.effective_from)} (orally) not "
                f"to be contacted at work; confirm in writing by {day_label(confirm_by)} to "
                f"keep it beyond {day_label(lapses)} (MA-WORK).",
            )
    return None


def check_wa(ctx):
    rows = ctx.recent(days=7, channels=COLLECTION_CHANNELS)
    return cap_deferral(
        "WA", rows, STATES["WA"].caps["communications_per_debtor_7d"],
        "Deferred: Washington allows {cap} communications a week; {n} since {since}.",
    )  # fmt: skip


def _in_nyc(ctx):
    return any(
        cp.kind == "address" and cp.postal_code.startswith(NYC_ZIP_PREFIXES)
        for cp in ctx.debtor.contact_points.values()
    )


def check_nyc(ctx):
    rows = ctx.recent(days=7, channels=COLLECTION_CHANNELS)
    capped = cap_deferral(
        "NYC", rows, NYC.caps["attempts_per_debtor_7d"],
        "Deferred: New York City allows {cap} contact attempts per 7 days across all "
        "channels; {n} since {since}.",
    )  # fmt: skip
    verdicts = [capped] if capped else []
    if ctx.channel in ("email", "sms"):
        record = ctx.consent(ctx.channel)
        if not (record and record.kind == "consent" and "written" in record.method.lower()):
            verdicts.append(
                block(
                    "NYC",
                    f"Blocked: New York City requires the debtor's written "
                    f"consent before {ctx.channel}.",
                )
            )
    return verdicts


def _collection(ctx):
    return ctx.collection


_ANY_COLLECTION = frozenset(COLLECTION_CHANNELS)

RULES = [
    Rule("MA-CALLS", "Massachusetts: 2 phone communications per debt per 7 days",
         check_ma_calls, lambda c: _collection(c) and "MA" in c.debtor.states and c.consumer,
         channels=frozenset({"call", "voicemail", "sms"})),
    Rule("MA-WORK", "Massachusetts: no contact at work when the debtor asked",
         check_ma_work, lambda c: _collection(c) and "MA" in c.debtor.states and c.consumer,
         channels=_ANY_COLLECTION),
    Rule("WA", "Washington: 3 communications a week", check_wa,
         lambda c: _collection(c) and "WA" in c.debtor.states and c.consumer,
         channels=_ANY_COLLECTION),
    Rule("NYC", "New York City: 3 attempts per 7 days; written consent for email/text",
         check_nyc,
         lambda c: _collection(c) and c.policy.nyc_rules_enabled and c.consumer and _in_nyc(c),
         channels=_ANY_COLLECTION),
]  # fmt: skip
