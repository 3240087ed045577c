"""TCPA, carrier policy and the consent registry (T-*), plus the opt-out disclosure."""

from datetime import timedelta

from compliance.rules import Rule, block, require

SMS_RECENT = timedelta(days=60)
OPT_OUT_TEXT = {
    ("sms", "en"): "Reply STOP to stop texts to this number.",
    ("sms", "es"): "Responda STOP para dejar de recibir mensajes en este número.",
    ("email", "en"): "To stop emails to this address, use the unsubscribe link or reply "
    "\u201cunsubscribe\u201d.",
    ("email", "es"): "Para dejar de recibir correos en esta dirección, use el enlace para "
    "darse de baja o responda \u201cbaja\u201d.",
}


def _consent(ctx, channel=None):
    return ctx.consent(channel or ctx.channel)


def check_revoked(ctx):
    record = _consent(ctx)
    if record is not None and record.kind == "opt_out":
        # Decisions hold no personal data: name the kind of contact point, not its value.
        where = {"phone": "this number", "email": "this address"}.get(
            getattr(ctx.contact_point, "kind", ""), "this contact point"
        )
        return block(
            "T-REVOKE",
            f"Blocked: {where} was opted out of {ctx.channel} on "
            f"{record.effective_from:%b} {record.effective_from.day} ({record.method}).",
        )
    return None


def check_consent(ctx):
    cp = ctx.contact_point
    if cp is None:
        return block("T-CONSENT", f"Blocked: no {ctx.channel} contact point on file.")
    record = _consent(ctx)
    given = record is not None and record.kind == "consent"
    # A number the debtor gave the creditor for the debt counts as prior express consent.
    if given or cp.source in ("placement", "debtor", "portal"):
        return None
    return block("T-CONSENT", "Blocked: no prior express consent to text this number.")


def check_sms_recency(ctx):
    cp = ctx.contact_point
    if cp is None:
        return None
    recent = [t for t in (cp.last_consent_at, cp.last_reassigned_check_at) if t]
    if recent and max(recent) >= ctx.at - SMS_RECENT:
        return None
    return [
        block(
            "F-SMS60",
            "Blocked: the debtor has not texted from or consented to this number "
            "in the last 60 days.",
        ),
        block(
            "T-RND", "Blocked until this number is checked against the reassigned-numbers database."
        ),
    ]


def check_carrier(ctx):
    if ctx.office.collector_type != "third_party" or ctx.office.country not in ("US", "CA"):
        return None
    if ctx.policy.sms_provider_permits_third_party:
        return None
    return block(
        "T-CARRIER",
        "Blocked: US/Canadian carriers do not carry third-party debt "
        "collection texts; configure a provider that permits it.",
    )


def check_esign(ctx):
    record = _consent(ctx, "esign")
    if record is not None and record.kind == "consent":
        return None
    what = "validation notice" if "validation_notice" in ctx.attempt.content else "dispute response"
    why = "was withdrawn" if record is not None else "is not on file"
    return block(
        "F-ESIGN",
        f"Blocked: the debtor's E-SIGN consent to receive notices at this address {why}; "
        f"send this {what} by letter.",
    )


def _needs_esign(ctx):
    """A validation notice after the first communication, or a dispute response, sent
    electronically (12 CFR 1006.42(c)). A notice that is itself the first communication
    may go by email once the address qualifies (F-EMAIL)."""
    content = ctx.attempt.content
    if "verification" in content:
        return True
    return "validation_notice" in content and (
        ctx.account.id in ctx.facts.ever_contacted
        or any(p.account_id == ctx.account.id for p in ctx.pending)
    )


def disclose_opt_out(ctx):
    language = "es" if ctx.debtor.debtor.language == "es" else "en"
    return require("F-OPTOUT", OPT_OUT_TEXT[(ctx.channel, language)], "Opt-out instructions")


_SMS = frozenset({"sms"})

RULES = [
    Rule("T-REVOKE", "Opt-outs and revocations", check_revoked,
         lambda c: c.attempt.contact_point_id is not None),
    Rule("T-CONSENT", "Prior express consent for texts", check_consent,
         lambda c: not c.attempt.debtor_initiated, channels=_SMS),
    Rule("F-SMS60", "Recent consent or reassigned-number check", check_sms_recency,
         lambda c: not c.attempt.debtor_initiated, channels=_SMS),
    Rule("T-CARRIER", "Carrier policy on third-party collection texts", check_carrier,
         channels=_SMS),
    Rule("F-ESIGN", "E-SIGN consent for notices sent electronically", check_esign,
         lambda c: c.collector_reg_f and _needs_esign(c), channels=frozenset({"email", "sms"})),
    Rule("F-OPTOUT", "Opt-out instructions", disclose_opt_out,
         channels=frozenset({"email", "sms"})),
]  # fmt: skip
