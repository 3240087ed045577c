"""The office's own policy: stricter caps, hours and channels. Each change is a new row
in force from its instant; nothing here may loosen what the law allows."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from compliance.facts import policy_in_force
from compliance.jurisdictions import FEDERAL, INDIA
from compliance.models import OfficePolicy

# The channels an office may switch off in its policy.
POLICY_CHANNELS = {
    "email": "Email",
    "sms": "SMS",
    "call": "Calls",
    "voicemail": "Voicemail",
    "letter": "Letters",
    "payment_link": "Payment links",
}
# The caps the policy may tighten, per channel, and where the law's figure lives.
_CAP_SOURCES = {
    "email": "email_per_debtor_7d",
    "sms": "sms_per_debtor_7d",
    "call": "call_per_debt_7d",
}
# The longest automatic hardship pause a policy may set (an agent can set longer holds).
HARDSHIP_MAX_DAYS = 180
_CAP_NOUNS = {"email": "emails", "sms": "texts", "call": "calls"}


def policy_limits(office):
    """What the law allows this office (the policy may only be stricter): the contact
    window and the per-channel caps per 7 days."""
    profile = INDIA if office.country == "IN" else FEDERAL
    caps = {channel: FEDERAL.caps[key] for channel, key in _CAP_SOURCES.items()}
    return {"window": (profile.window.start, profile.window.end), "caps": caps}


def policy_effective(policy, office):
    """A policy with its blanks read the way the rules read them: a missing cap is the
    law's default; no channel list means every channel."""
    limits = policy_limits(office)
    return {
        "caps": {
            ch: min(cap, policy.caps_per_7_days.get(ch, cap)) for ch, cap in limits["caps"].items()
        },
        "earliest_hour": policy.earliest_hour,
        "latest_hour": policy.latest_hour,
        "channels_enabled": sorted(policy.channels_enabled or POLICY_CHANNELS),
        "first_party_follows_reg_f": policy.first_party_follows_reg_f,
        "sms_provider_permits_third_party": policy.sms_provider_permits_third_party,
        "nyc_rules_enabled": policy.nyc_rules_enabled,
        "hardship_pause_days": policy.hardship_pause_days,
    }


def policy_errors(*, office, caps_per_7_days, earliest_hour, latest_hour, channels_enabled, reason):
    """What is wrong with a proposed policy, by field ({} when nothing): anything
    looser than the law, a window that is not one, no reason given."""
    limits = policy_limits(office)
    start, end = limits["window"]
    errors = {}
    for channel, most in limits["caps"].items():
        value = caps_per_7_days.get(channel)
        noun = _CAP_NOUNS[channel]
        if value is None:
            errors[f"cap_{channel}"] = f"Give a cap for {noun} (0 to {most})."
        elif value < 0:
            errors[f"cap_{channel}"] = f"A cap can't be negative: use 0 to send no {noun} at all."
        elif value > most:
            errors[f"cap_{channel}"] = (
                f"The law's default allows at most {most} {noun} in 7 days, and the policy may "
                f"only be stricter: choose 0 to {most}."
            )
    if earliest_hour is None or earliest_hour < start:
        errors["earliest_hour"] = (
            f"Contact may not start before {start:02d}:00: choose {start} or later."
        )
    if latest_hour is None or latest_hour > end:
        errors["latest_hour"] = f"Contact must end by {end:02d}:00: choose {end} or earlier."
    if (
        "earliest_hour" not in errors
        and "latest_hour" not in errors
        and earliest_hour >= latest_hour
    ):
        errors["latest_hour"] = (
            f"The latest hour must be after the earliest hour ({earliest_hour:02d}:00)."
        )
    unknown = set(channels_enabled) - set(POLICY_CHANNELS)
    if unknown:
        errors["channels_enabled"] = f"Unknown channel: {', '.join(sorted(unknown))}."
    elif not channels_enabled:
        # An empty list reads as "every channel": to stop all contact, place holds.
        errors["channels_enabled"] = (
            "Leave at least one channel on. To stop contacting a debtor, place a hold instead."
        )
    if not (reason or "").strip():
        errors["reason"] = "Say why the policy changes: the reason is kept in its history."
    return errors


@transaction.atomic
def policy_change(
    *,
    office,
    changed_by,
    reason,
    caps_per_7_days,
    earliest_hour,
    latest_hour,
    channels_enabled,
    first_party_follows_reg_f,
    sms_provider_permits_third_party,
    nyc_rules_enabled,
    hardship_pause_days=None,
):
    """Put a new policy in force from now. Never edits: each change is a new row, so the
    audit can replay the policy in force at any instant. Refuses anything looser than
    the law, saying what to fix."""
    errors = policy_errors(
        office=office,
        caps_per_7_days=caps_per_7_days,
        earliest_hour=earliest_hour,
        latest_hour=latest_hour,
        channels_enabled=channels_enabled,
        reason=reason,
    )
    if hardship_pause_days is not None and not 0 <= hardship_pause_days <= HARDSHIP_MAX_DAYS:
        errors["hardship_pause_days"] = (
            f"Choose 0 (no automatic pause) to {HARDSHIP_MAX_DAYS} days."
        )
    if errors:
        raise ValidationError(errors)
    limits = policy_limits(office)
    reason = reason.strip()
    now = timezone.now()
    current = policy_in_force(office, now)
    if hardship_pause_days is None:  # not part of this change: carried over
        hardship_pause_days = current.hardship_pause_days
    policy = OfficePolicy(
        caps_per_7_days={ch: caps_per_7_days[ch] for ch in limits["caps"]},
        earliest_hour=earliest_hour,
        latest_hour=latest_hour,
        channels_enabled=[ch for ch in POLICY_CHANNELS if ch in set(channels_enabled)],
        first_party_follows_reg_f=first_party_follows_reg_f,
        sms_provider_permits_third_party=sms_provider_permits_third_party,
        nyc_rules_enabled=nyc_rules_enabled,
        hardship_pause_days=hardship_pause_days,
        effective_from=now,
        changed_by=changed_by,
        reason=reason[:200],
    )
    if policy_effective(policy, office) == policy_effective(current, office):
        raise ValidationError("Nothing changed: the policy in force already says this.")
    policy.save()
    return policy
