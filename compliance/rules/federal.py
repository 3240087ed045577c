"""Regulation F / FDCPA rules (12 CFR part 1006), plus those every office follows."""

from datetime import timedelta

from compliance import windows
from compliance.jurisdictions import FEDERAL, INDIA, LIMITATION_PERIODS
from compliance.rules import (
    COLLECTION_CHANNELS,
    PHONE_CHANNELS,
    Rule,
    block,
    cap_deferral,
    day_label,
    defer,
    label,
    require,
)

CLOSED_STATUSES = {"paid", "settled", "closed", "recalled"}
MIRANDA_FIRST = {
    "en": "This is an attempt to collect a debt, and any information obtained will be used "
    "for that purpose.",
    "es": "Este es un intento de cobrar una deuda y cualquier información obtenida será "
    "utilizada para ese propósito.",
}
MIRANDA_LATER = {
    "en": "This communication is from a debt collector.",
    "es": "Esta comunicación proviene de un cobrador de deudas.",
}


def _collection(ctx):
    return ctx.collection


def window_for(ctx):
    start, end = FEDERAL.window.start, FEDERAL.window.end
    if ctx.office.country == "IN":
        start, end = INDIA.window.start, INDIA.window.end
    # The office's policy can only narrow the window.
    return max(start, ctx.policy.earliest_hour), min(end, ctx.policy.latest_hour)


def quiet_spans(ctx):
    values = [p.value for p in ctx.preferences if p.kind == "inconvenient_time"]
    return windows.parse_quiet(values)


def check_time(ctx):
    window = window_for(ctx)
    nxt = windows.next_allowed(ctx.at, ctx.zones, window=window)
    if nxt == ctx.at:
        return None
    zones = ", ".join(sorted(ctx.zones)) if len(ctx.zones) <= 3 else f"{len(ctx.zones)} zones"
    if nxt is None:
        return block(
            "F-TIME",
            f"Blocked: no moment is between {window[0]}:00 and {window[1]}:00 in every zone "
            f"the debtor may be in ({zones}); confirm their location.",
        )
    return defer(
        "F-TIME",
        nxt,
        f"Deferred: outside {window[0]}:00–{window[1]}:00 in the debtor's time zone "
        f"({zones}); next allowed {nxt:%Y-%m-%d %H:%M} UTC.",
    )


def check_preferences(ctx):
    verdicts = []
    for pref in ctx.preferences:
        if pref.kind == "no_contact_channel" and pref.value.get("channel") == ctx.channel:
            verdicts.append(
                block("F-PREF", f"Blocked: the debtor asked not to be contacted by {ctx.channel}.")
            )
    cp = ctx.contact_point
    if cp is not None and cp.is_work:
        # Unlike MA-WORK's oral request, the federal "inconvenient place" never lapses.
        asked = next((p for p in ctx.preferences if p.kind == "no_contact_at_work"), None)
        if asked:
            verdicts.append(
                block(
                    "F-PREF",
                    f"Blocked: the debtor said on {day_label(asked.effective_from)} that "
                    "contact at work is inconvenient.",
                )
            )
    spans = quiet_spans(ctx)
    if spans:
        window = window_for(ctx)
        nxt = windows.next_allowed(ctx.at, ctx.zones, window=window, quiet=spans)
        if nxt is None:
            verdicts.append(
                block("F-PREF", "Blocked: every time is one the debtor named inconvenient.")
            )
        elif nxt != ctx.at and windows.is_allowed(ctx.at, ctx.zones, window=window):
            verdicts.append(
                defer(
                    "F-PREF",
                    nxt,
                    "Deferred: the debtor said this time is "
                    f"inconvenient; next {nxt:%Y-%m-%d %H:%M} UTC.",
                )
            )
    return verdicts


def check_attorney(ctx):
    atty = ctx.circumstance("attorney")
    if atty:
        name = atty.details.get("firm") or "their attorney"
        return block(
            "F-ATTY", f"Blocked: the debtor is represented by an attorney; contact {name} instead."
        )
    return None


def check_work(ctx):
    cp = ctx.contact_point
    if cp is None:
        return None
    if ctx.channel == "email" and cp.is_work:
        return block("F-WORK", "Blocked: never email a work address.")
    if cp.is_work and ctx.circumstance("work_forbidden"):
        return block("F-WORK", "Blocked: the debtor's employer forbids contact at work.")
    return None


def _holds(ctx, kind):
    if not ctx.holds:
        return
    cp_id = ctx.attempt.contact_point_id
    for hold in ctx.holds:
        if hold.kind != kind:
            continue
        if hold.scope == "debtor":
            yield hold
        elif hold.scope == "account" and hold.account_id == ctx.account.id:
            yield hold
        elif hold.scope == "contact_point" and hold.contact_point_id == cp_id:
            yield hold
        elif hold.scope == "channel" and hold.channel == ctx.channel:
            yield hold


def check_cease(ctx):
    hold = next(_holds(ctx, "cease"), None)
    if hold and "final_notice" not in ctx.attempt.content:
        return block(
            "F-CEASE",
            f"Blocked: the debtor asked us to stop contacting them "
            f"(received {day_label(hold.effective_from)}); only the allowed "
            "final notices may go out.",
        )
    return None


def check_email_qualified(ctx):
    cp = ctx.contact_point
    if ctx.channel != "email" or cp is None:
        return None
    how = cp.email_qualification
    if how in ("used_by_debtor", "consented"):
        return None
    if how == "creditor_notice" and cp.email_qualified_at:
        ready = cp.email_qualified_at + timedelta(days=35)
        if ready <= ctx.at:
            return None
        return defer(
            "F-EMAIL",
            ready,
            "Deferred: the creditor's notice about this address "
            f"needs 35 days to pass (until {day_label(ready)}).",
        )
    return block(
        "F-EMAIL",
        "Blocked: this email address has not been qualified (used by the "
        "debtor, consented to, or disclosed by the creditor with 35 days' "
        "notice).",
    )


def check_7in7(ctx):
    calls = ctx.recent(
        days=7, channels=PHONE_CHANNELS, account_only=True, exclude_not_connected=True
    )
    conversation = next((c for c in reversed(calls) if c.result == "conversation"), None)
    if conversation:
        until = _midnight_after_days(conversation.occurred_at, 7, ctx.zones)
        if until > ctx.at:
            return defer(
                "F-7IN7",
                until,
                "Deferred: a telephone conversation about this debt "
                f"took place on {day_label(conversation.occurred_at)}; no "
                "call for 7 days after it.",
            )
    cap = FEDERAL.caps["call_per_debt_7d"]
    cap = min(cap, ctx.policy.caps_per_7_days.get("call", cap))
    return cap_deferral(
        "F-7IN7", calls, cap,
        "Deferred: {n} calls already placed to this debtor about this account since "
        "{since} (cap {cap} in 7 days).",
    )  # fmt: skip


def _midnight_after_days(instant, days, zones):
    """The latest local midnight, across the zones, that starts day `days + 1` counting
    the instant's own day as day 1."""
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    latest = None
    for name in zones:
        zone = ZoneInfo(name)
        day = instant.astimezone(zone).date() + timedelta(days=days)
        candidate = datetime.combine(day, time(0), tzinfo=zone)
        latest = candidate if latest is None or candidate > latest else latest
    return latest


def check_harass(ctx):
    if ctx.channel not in ("email", "sms"):
        return None
    default = FEDERAL.caps[f"{ctx.channel}_per_debtor_7d"]
    cap = min(default, ctx.policy.caps_per_7_days.get(ctx.channel, default))
    sent = ctx.recent(days=7, channels={ctx.channel})
    return cap_deferral(
        "F-HARASS", sent, cap,
        f"Deferred: {{n}} {ctx.channel} messages to this debtor since {{since}} "
        "(cap {cap} in 7 days).",
    )  # fmt: skip


def check_validation_notice(ctx):
    if "validation_notice" in ctx.attempt.content or ctx.channel not in COLLECTION_CHANNELS:
        return None
    if _to_third_party(ctx):
        return None  # not a communication with the debtor (F-3P governs it)
    delivered = [n for n in ctx.notices if not n.returned_at]
    if delivered:
        return None
    returned = ctx.notices
    why = "came back undeliverable; resend it" if returned else "has not been sent"
    return block(
        "F-VN",
        f"Blocked: the validation notice for this account {why} before any "
        "other collection message.",
    )


def check_dispute(ctx):
    if "verification" in ctx.attempt.content:
        return None
    disputes = ctx.disputes
    hold = next(_holds(ctx, "dispute"), None)
    if disputes or hold:
        since = disputes[0].received_at if disputes else hold.effective_from
        return block(
            "F-DISPUTE",
            f"Blocked: the debt was disputed on {day_label(since)}; collection "
            "is paused until verification is sent.",
        )
    return None


def check_overshadow(ctx):
    if "overshadows" not in ctx.attempt.content:
        return None
    for notice in ctx.notices:
        if ctx.at.date() <= notice.period_ends_on:
            return block(
                "F-OVERSHADOW",
                "Blocked: this message would undercut the right to "
                "dispute during the validation period (ends "
                f"{notice.period_ends_on:%b %-d}).",
            )
    return None


def check_stay(ctx):
    bk = ctx.circumstance("bankruptcy")
    if bk and not bk.details.get("stay_lifted"):
        return block(
            "F-STAY",
            "Blocked: the debtor is in an open bankruptcy case (automatic "
            "stay); no collection contact or action.",
        )
    return None


def check_deceased(ctx):
    if ctx.circumstance("deceased"):
        return block(
            "F-DECEASED",
            "Blocked: the debtor is deceased; only the estate's representative may be contacted.",
        )
    return None


def check_paid(ctx):
    if ctx.account.status in CLOSED_STATUSES:
        status = label(type(ctx.account), "status", ctx.account.status)
        return block(
            "F-PAID",
            f"Blocked: the account is {status.lower()}; nothing more may be collected.",
        )
    if ctx.circumstance("identity_theft"):
        return block("F-PAID", "Blocked: an identity-theft report on this debtor is unresolved.")
    return None


def time_barred(account, at):
    """True, False or None (unknown: treat as possibly time-barred)."""
    period = LIMITATION_PERIODS.get(account.governing_law_state)
    start = account.last_payment_date or account.charge_off_date
    if period is None or start is None:
        return None
    try:
        ends = start.replace(year=start.year + period.years)
    except ValueError:  # 29 February
        ends = start.replace(year=start.year + period.years, day=28)
    return at.date() >= ends


def check_timebar(ctx):
    if ctx.channel != "legal" and "threatens_suit" not in ctx.attempt.content:
        return None
    barred = time_barred(ctx.account, ctx.at)
    if barred is None:
        return block(
            "F-TIMEBAR",
            "Blocked: the limitation period for this debt is unknown, so it "
            "may be time-barred: no suit and no threat of suit.",
        )
    if barred:
        return block(
            "F-TIMEBAR",
            "Blocked: the debt is time-barred in "
            f"{ctx.account.governing_law_state}: no suit and no threat of "
            "suit.",
        )
    return None


def check_scra(ctx):
    if ctx.channel == "legal" and ctx.circumstance("servicemember"):
        if "scra_review" not in ctx.attempt.content:
            return block(
                "SCRA",
                "Blocked: the debtor is an active-duty servicemember; record "
                "the SCRA review before any legal escalation.",
            )
    return None


def check_media(ctx):
    if ctx.channel in ("postcard", "social"):
        return block("F-MEDIA", f"Blocked: no debt collection by {ctx.channel}.")
    return None


def check_other_holds(ctx):
    if not ctx.holds:
        return None
    for kind in ("hardship", "other", "attorney", "bankruptcy", "deceased", "scra"):
        hold = next(_holds(ctx, kind), None)
        if hold:
            return block(
                "HOLD",
                f"Blocked: a {label(type(hold), 'kind', hold.kind).lower()} hold is in place "
                f"since {day_label(hold.effective_from)}.",
            )
    return None


# Where a message cannot have reached the debtor (F-PASSIVE): it never counts.
UNDELIVERABLE = {"invalid", "bounced", "returned", "disconnected"}
PASSIVE_WAIT = timedelta(days=14)


def check_passive(ctx):
    """Reg F 1006.30(a): before furnishing, speak to the debtor about the debt, or place
    a message and wait 14 days for a notice that it could not be delivered."""
    history = [r for r in ctx.facts.furnishing.get(ctx.account.id, []) if r.occurred_at <= ctx.at]
    if any(r.result == "conversation" for r in history):
        return None
    sent = []  # instants of messages that may have reached the debtor
    for row in history:
        if row.result == "conversation" or row.debtor_initiated:
            continue
        cp = ctx.debtor.contact_points.get(row.contact_point_id)
        if cp is not None and cp.validity not in UNDELIVERABLE:
            sent.append(row.occurred_at)
    # The validation notice is such a message, unless it came back.
    sent += [n.sent_at for n in ctx.notices if not n.returned_at]
    if not sent:
        return block(
            "F-PASSIVE",
            "Blocked: nothing may be reported to the credit bureaus until we have spoken "
            "to the debtor about this debt or sent them a message that did not bounce or "
            "come back.",
        )
    ready = min(sent) + PASSIVE_WAIT
    if ready <= ctx.at:
        return None
    return defer(
        "F-PASSIVE",
        ready,
        f"Deferred: our first message about this debt went out on {day_label(min(sent))}; "
        f"we wait 14 days for a bounce before reporting to the credit bureaus "
        f"(until {day_label(ready)}).",
    )


def disclose_miranda(ctx):
    if ctx.channel not in ("email", "sms", "letter", "call", "voicemail", "payment_link"):
        return None
    if _to_third_party(ctx):
        return None  # a third party must not learn of the debt (F-3P)
    language = "es" if ctx.debtor.debtor.language == "es" else "en"
    first = ctx.account.id not in ctx.facts.ever_contacted and not any(
        p.account_id == ctx.account.id for p in ctx.pending
    )
    text = MIRANDA_FIRST[language] if first else MIRANDA_LATER[language]
    return require("F-MIRANDA", text, "First communication" if first else "Later communication")


def _reg_f(ctx):
    return ctx.reg_f and _collection(ctx)


def _timed(ctx):
    # A letter is read days after it is posted: its sending hour is nobody's evening.
    return _reg_f(ctx) and ctx.channel != "letter"


def _to_third_party(ctx):
    cp = ctx.contact_point
    return cp is not None and cp.is_third_party


def check_third_party(ctx):
    """FDCPA 804, 805(b); Reg F 1006.6(d)(1), 1006.10: a third party may be asked where
    the debtor is, once, without a word about the debt."""
    if not _to_third_party(ctx):
        return None
    cp = ctx.contact_point
    who = label(type(cp), "relation", cp.relation).lower()
    content = ctx.attempt.content
    if "location_inquiry" not in content or "mentions_debt" in content:
        return block(
            "F-3P",
            f"Blocked: this contact point belongs to a third party ({who}); we may only ask "
            "them where the debtor is, once, without mentioning the debt.",
        )
    earlier = [
        r.occurred_at
        for r in ctx.facts.third_party.get(cp.id, [])
        if r.occurred_at <= ctx.at and r.result != "not_connected" and r.pk != ctx.attempt.ledger_id
    ]
    earlier += [p.occurred_at for p in ctx.pending if p.contact_point_id == cp.id]
    if earlier:
        return block(
            "F-3P",
            f"Blocked: this third party ({who}) was already asked on "
            f"{day_label(min(earlier))} where the debtor is; a location inquiry is once only.",
        )
    return None


def check_office_channels(ctx):
    enabled = ctx.policy.channels_enabled
    if enabled and ctx.channel not in enabled:
        return block("OFFICE", f"Blocked: the office's policy has {ctx.channel} switched off.")
    return None


_ANY_COLLECTION = frozenset(COLLECTION_CHANNELS)
_TIMED = _ANY_COLLECTION - {"letter"}
_PHONE = frozenset(PHONE_CHANNELS)

RULES = [
    Rule("OFFICE", "Channels the office's policy allows", check_office_channels, _collection,
         channels=_ANY_COLLECTION),
    Rule("F-TIME", "Contact hours in every candidate zone", check_time, _timed, channels=_TIMED),
    Rule("F-PREF", "Inconvenient times and media", check_preferences, _timed, channels=_TIMED),
    Rule("F-ATTY", "Represented by an attorney", check_attorney,
         lambda c: c.reg_f and not c.attempt.debtor_initiated),
    Rule("F-WORK", "Contact at work", check_work, lambda c: c.reg_f),
    Rule("F-CEASE", "Cease communication", check_cease,
         lambda c: c.reg_f and not c.attempt.debtor_initiated),
    Rule("F-3P", "Third parties: location only, once", check_third_party, lambda c: c.reg_f),
    Rule("F-EMAIL", "Qualified email address", check_email_qualified, _reg_f,
         channels=frozenset({"email"})),
    Rule("F-7IN7", "Seven calls in seven days", check_7in7, _reg_f, channels=_PHONE),
    Rule("F-HARASS", "Frequency caps per channel", check_harass, _collection,
         channels=frozenset({"email", "sms"})),
    Rule("F-VN", "Validation notice first", check_validation_notice,
         lambda c: c.collector_reg_f and _collection(c), channels=_ANY_COLLECTION),
    Rule("F-DISPUTE", "Disputed debt", check_dispute, _collection, channels=_ANY_COLLECTION),
    Rule("F-OVERSHADOW", "Overshadowing the dispute right", check_overshadow,
         lambda c: c.collector_reg_f),
    Rule("F-STAY", "Bankruptcy automatic stay", check_stay,
         lambda c: not c.attempt.debtor_initiated),
    Rule("F-DECEASED", "Deceased debtor", check_deceased,
         lambda c: not c.attempt.debtor_initiated),
    Rule("F-PAID", "Paid, settled or identity theft", check_paid, _collection,
         channels=_ANY_COLLECTION),
    # The US limitation table means nothing to a UK office: UK-CONC has its own.
    Rule("F-TIMEBAR", "Time-barred debt", check_timebar, lambda c: c.office.country != "GB"),
    Rule("SCRA", "Servicemembers", check_scra, channels=frozenset({"legal"})),
    Rule("F-MEDIA", "Postcards and public media", check_media,
         channels=frozenset({"postcard", "social"})),
    Rule("HOLD", "Holds on the debtor or account", check_other_holds, _collection,
         channels=_ANY_COLLECTION),
    Rule("F-PASSIVE", "No credit reporting before contact", check_passive,
         lambda c: c.reg_f and c.consumer, channels=frozenset({"furnish"})),
    Rule("F-MIRANDA", "Debt collector disclosure", disclose_miranda,
         lambda c: c.collector_reg_f and _collection(c), channels=_ANY_COLLECTION),
]  # fmt: skip
