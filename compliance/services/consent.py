"""Consents and opt-outs per contact point and channel, and inbound texts (T-REVOKE).
Never deletes a consent: a revocation is a new record that takes effect when it was
given."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Event
from accounts.services import event_record
from debtors.models import Consent, ContactPoint

# PARAR and ALTO: "stop" in Spanish (debtors write in English or Spanish).
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "CANCEL", "REVOKE", "OPTOUT",
              "OPT OUT", "PARAR", "ALTO"}  # fmt: skip
START_WORDS = {"START", "UNSTOP", "YES"}
# Which consent channels each kind of contact point carries.
CHANNELS_BY_CONTACT_KIND = {
    ContactPoint.Kind.PHONE: ("call", "sms"),
    # "esign": consent to required notices by email (F-ESIGN), withdrawn like any other.
    ContactPoint.Kind.EMAIL: ("email", "esign"),
    ContactPoint.Kind.ADDRESS: ("letter",),
}


def _timeline(debtor_id, kind, summary, *, actor=None, data=None, channel=""):
    """One event per open account of the debtor (a consent concerns all of them)."""
    for account in Account.objects.filter(debtor_id=debtor_id):
        event_record(
            account=account,
            kind=kind,
            summary=summary,
            actor=actor,
            data=data or {},
            channel=channel,
        )


@transaction.atomic
def consent_record(
    *, contact_point, channel, kind, source, method, effective_from=None, recorded_by=None
):
    """Record a consent or an opt-out for one channel of one contact point."""
    if kind not in Consent.Kind.values:
        raise ValidationError({"kind": f"Unknown consent kind {kind!r}."})
    fits = CHANNELS_BY_CONTACT_KIND.get(contact_point.kind, ())
    if channel not in fits:
        raise ValidationError(
            {
                "channel": f"A {contact_point.get_kind_display().lower()} can't be reached by "
                f"{channel}: choose {' or '.join(fits)}."
            }
        )
    record = Consent.objects.create(
        debtor_id=contact_point.debtor_id,
        contact_point=contact_point,
        channel=channel,
        kind=kind,
        source=source,
        method=method,
        effective_from=effective_from or timezone.now(),
        recorded_by=recorded_by,
    )
    if kind == Consent.Kind.CONSENT and channel == "sms":
        ContactPoint.objects.filter(pk=contact_point.pk).update(
            last_consent_at=record.effective_from
        )
    label = "Opted out of" if kind == Consent.Kind.OPT_OUT else "Consented to"
    _timeline(
        contact_point.debtor_id,
        Event.Kind.CONSENT,
        f"{label} {channel} ({method})",
        actor=recorded_by,
        data={
            "consent_id": record.pk,
            "channel": channel,
            "kind": kind,
            "contact_point_id": contact_point.pk,
        },
    )
    return record


def sms_keyword(body):
    """'stop', 'start' or None for an inbound SMS body (T-REVOKE keywords)."""
    word = " ".join(body.strip().upper().split())
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    return None


# Plain-language revocations a keyword does not catch: a person must read them (T-REVOKE
# allows any reasonable means).
_REVOCATION_HINTS = (
    "stop text",
    "stop messag",
    "don't text",
    "do not text",
    "no more text",
    "stop contact",
    "leave me alone",
    "unsubscribe me",
    "remove my number",
)


@transaction.atomic
def sms_inbound_record(*, from_number, body, received_at=None):
    """An inbound SMS: STOP-family keywords opt the number out of texts at once (T-REVOKE),
    START opts it back in, a plain-language revocation goes to a person. Returns what
    was done: "opted_out", "opted_in", "review" or "none"."""
    from recovery.models import WorkItem

    received_at = received_at or timezone.now()
    points = list(ContactPoint.objects.filter(kind=ContactPoint.Kind.PHONE, value=from_number))
    keyword = sms_keyword(body)
    if keyword and points:
        kind = Consent.Kind.OPT_OUT if keyword == "stop" else Consent.Kind.CONSENT
        for cp in points:
            consent_record(
                contact_point=cp,
                channel="sms",
                kind=kind,
                source="sms_reply",
                method=f"{body.strip().upper()[:20]} reply",
                effective_from=received_at,
            )
        return "opted_out" if keyword == "stop" else "opted_in"
    lowered = " ".join(body.lower().split())
    if points and any(hint in lowered for hint in _REVOCATION_HINTS):
        account = Account.objects.filter(debtor_id=points[0].debtor_id).order_by("-id").first()
        WorkItem.objects.create(
            kind=WorkItem.Kind.REVIEW,
            account=account,
            due_at=received_at,
            title="Reply may revoke consent to texts: read it and record an opt-out",
            detail=body[:1000],
        )
        return "review"
    return "none"
