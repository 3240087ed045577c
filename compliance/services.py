"""Verbs that change what the rules know: consents and opt-outs, holds, disputes,
validation notices. One transaction each; each leaves an event on the timeline and
takes effect as of when it happened (which may be before it was recorded)."""

from datetime import timedelta

import holidays
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Event
from accounts.services import event_record
from compliance.models import Dispute, Hold, ValidationNotice
from debtors.models import Consent, ContactPoint

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "CANCEL", "REVOKE", "OPTOUT",
              "OPT OUT"}  # fmt: skip
START_WORDS = {"START", "UNSTOP", "YES"}


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


@transaction.atomic
def hold_place(
    *,
    debtor,
    kind,
    scope,
    source,
    reason="",
    account=None,
    contact_point=None,
    channel="",
    effective_from=None,
    set_by=None,
):
    hold = Hold(
        debtor=debtor,
        kind=kind,
        scope=scope,
        source=source,
        reason=reason,
        account=account,
        contact_point=contact_point,
        channel=channel,
        effective_from=effective_from or timezone.now(),
        set_by=set_by,
    )
    hold.full_clean(exclude=["office"])
    hold.save()
    accounts = [account] if account else Account.objects.filter(debtor=debtor)
    for acc in accounts:
        event_record(
            account=acc,
            kind=Event.Kind.HOLD,
            actor=set_by,
            summary=f"{hold.get_kind_display()} hold placed",
            data={"hold_id": hold.pk, "scope": scope},
        )
    return hold


@transaction.atomic
def hold_lift(*, hold, lifted_by, at=None):
    if hold.effective_to is not None:
        raise ValidationError("This hold has already been lifted.")
    hold.effective_to = at or timezone.now()
    hold.lifted_by = lifted_by
    hold.save(update_fields=["effective_to", "lifted_by"])
    accounts = [hold.account] if hold.account_id else Account.objects.filter(debtor=hold.debtor)
    for acc in accounts:
        event_record(
            account=acc,
            kind=Event.Kind.HOLD,
            actor=lifted_by,
            summary=f"{hold.get_kind_display()} hold lifted",
            data={"hold_id": hold.pk},
        )
    return hold


def business_days_after(day, count, country="US"):
    """The date `count` business days after `day` (weekends and federal holidays off)."""
    calendar = holidays.country_holidays(country, years=range(day.year, day.year + 2))
    current = day
    while count:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in calendar:
            count -= 1
    return current


def validation_period(sent_on):
    """(assumed receipt, period end): receipt 5 business days after sending; the period
    ends 30 days after receipt (F-VPERIOD)."""
    received = business_days_after(sent_on, 5)
    return received, received + timedelta(days=30)


@transaction.atomic
def validation_notice_record(*, account, channel, sent_at=None, document=None):
    sent_at = sent_at or timezone.now()
    received, ends = validation_period(timezone.localdate(sent_at))
    notice = ValidationNotice.objects.create(
        account=account,
        channel=channel,
        sent_at=sent_at,
        assumed_received_on=received,
        period_ends_on=ends,
        document=document,
    )
    event_record(
        account=account,
        kind=Event.Kind.LETTER,
        channel=channel,
        summary=f"Validation notice sent; dispute period ends {ends:%b %-d, %Y}",
        data={"validation_notice_id": notice.pk, "period_ends_on": ends.isoformat()},
    )
    return notice


@transaction.atomic
def dispute_record(
    *,
    account,
    received_via,
    reason="",
    received_at=None,
    partial_amount=None,
    original_creditor_requested=False,
    recorded_by=None,
):
    """A dispute pauses collection on the whole account until verification is sent."""
    from accounts.services import account_transition

    received_at = received_at or timezone.now()
    notices = list(account.validation_notices.order_by("sent_at"))
    within = not notices or any(received_at.date() <= n.period_ends_on for n in notices)
    hold = hold_place(
        debtor=account.debtor,
        kind=Hold.Kind.DISPUTE,
        scope=Hold.Scope.ACCOUNT,
        account=account,
        source=received_via,
        reason=reason,
        effective_from=received_at,
        set_by=recorded_by,
    )
    dispute = Dispute.objects.create(
        account=account,
        debtor=account.debtor,
        received_at=received_at,
        received_via=received_via,
        reason=reason,
        is_partial=partial_amount is not None,
        disputed_amount=partial_amount,
        original_creditor_requested=original_creditor_requested,
        within_validation_period=within,
        hold=hold,
    )
    if account.status not in ("disputed", "paid", "settled", "closed", "recalled"):
        account_transition(
            account=account, status="disputed", actor=recorded_by, reason="dispute received"
        )
    event_record(
        account=account,
        kind=Event.Kind.DISPUTE,
        actor=recorded_by,
        summary="Dispute received" + (" (part of the debt)" if partial_amount else ""),
        data={"dispute_id": dispute.pk, "within_period": within},
    )
    return dispute


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
