"""State and city overlays: numbers from compliance.jurisdictions, applied for every
state the debtor may be in (all at once; the strictest wins)."""

from compliance.jurisdictions import NYC, NYC_ZIP_PREFIXES, STATES
from compliance.rules import COLLECTION_CHANNELS, Rule, block, cap_deferral


def check_ma_calls(ctx):
    rows = ctx.recent(days=7, channels={"call", "voicemail", "sms"}, account_only=True)
    return cap_deferral(
        "MA-CALLS", rows, STATES["MA"].caps["phone_per_debt_7d"],
        "Deferred: Massachusetts allows {cap} phone communications per debt in 7 days; "
        "{n} since {since}.",
    )  # fmt: skip


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
    Rule("WA", "Washington: 3 communications a week", check_wa,
         lambda c: _collection(c) and "WA" in c.debtor.states and c.consumer,
         channels=_ANY_COLLECTION),
    Rule("NYC", "New York City: 3 attempts per 7 days; written consent for email/text",
         check_nyc,
         lambda c: _collection(c) and c.policy.nyc_rules_enabled and c.consumer and _in_nyc(c),
         channels=_ANY_COLLECTION),
]  # fmt: skip
