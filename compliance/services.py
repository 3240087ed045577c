"""Verbs that change what the rules know: consents and opt-outs, holds, disputes,
validation notices. One transaction each; each leaves an event on the timeline and
takes effect as of when it happened (which may be before it was recorded)."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from accounts.models import Account, Event
from accounts.services import event_record, note_add
from compliance.facts import policy_in_force
from compliance.jurisdictions import FEDERAL, INDIA
from compliance.models import (
    Complaint,
    ComplaintAccount,
    Dispute,
    Hold,
    OfficePolicy,
    ValidationNotice,
)
from debtors.models import Circumstance, Consent, ContactPoint, Source
from recovery.models import Document, WorkItem
from recovery.services import work_items_close

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "CANCEL", "REVOKE", "OPTOUT",
              "OPT OUT"}  # fmt: skip
START_WORDS = {"START", "UNSTOP", "YES"}
# Which consent channels each kind of contact point carries.
CHANNELS_BY_CONTACT_KIND = {
    ContactPoint.Kind.PHONE: ("call", "sms"),
    ContactPoint.Kind.EMAIL: ("email",),
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
    effective_to=None,
    set_by=None,
):
    """Pause collection from `effective_from` (now by default) until lifted, or until
    `effective_to` when the hold is for a fixed time (e.g. a hardship forbearance)."""
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
        effective_to=effective_to,
        set_by=set_by,
    )
    if effective_to is not None and effective_to <= hold.effective_from:
        raise ValidationError(
            {"effective_to": "The hold must end after it starts: choose today or a later date."}
        )
    hold.full_clean(exclude=["office"])
    hold.save()
    accounts = [account] if account else Account.objects.filter(debtor=debtor)
    for acc in accounts:
        event_record(
            account=acc,
            kind=Event.Kind.HOLD,
            actor=set_by,
            summary=f"{hold.get_kind_display()} hold placed"
            # A hold "until" a day ends at the next midnight: name the last day it covers.
            + (
                f" through {day_label(effective_to - timedelta(microseconds=1))}"
                if effective_to
                else ""
            ),
            data={"hold_id": hold.pk, "scope": scope},
        )
    return hold


@transaction.atomic
def hold_lift(*, hold, lifted_by, at=None):
    if hold.effective_to is not None and hold.effective_to <= timezone.now():
        raise ValidationError("This hold has already been lifted.")
    if (
        hold.kind == Hold.Kind.DISPUTE
        and Dispute.objects.filter(hold=hold, status=Dispute.Status.OPEN).exists()
    ):
        # F-DISPUTE: collection stays paused until verification is sent.
        raise ValidationError(
            "A dispute hold lifts when verification is sent to the debtor, not by hand."
        )
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
    if partial_amount is not None and not (0 < partial_amount <= account.balance):
        raise ValidationError(
            {
                "partial_amount": "The disputed part must be more than 0 and no more than "
                f"the balance ({account.balance} {account.currency}); for all of it, choose "
                "the whole debt."
            }
        )
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


# ---------- dates received ----------


def day_label(value):
    """ "Nov 5, 2026" for a date or datetime (portable: no %-d)."""
    return f"{value:%b} {value.day}, {value.year}"


def day_start(*, office, day, field="received_on"):
    """The instant a thing dated `day` takes effect: the start of that day in the office's
    time zone (we rarely know the hour a letter arrived; the conservative reading is the
    whole day). Refuses a day in the future."""
    zone = ZoneInfo(office.time_zone)
    if day > timezone.localdate(timezone=zone):
        raise ValidationError({field: "The date received cannot be in the future."})
    return datetime.combine(day, time(0), tzinfo=zone)


def _day_end(office, day):
    return datetime.combine(day, time(23, 59), tzinfo=ZoneInfo(office.time_zone))


def hold_end(*, office, until):
    """A hold "until" a day covers that whole day: it ends at the next midnight."""
    return datetime.combine(until + timedelta(days=1), time(0), tzinfo=ZoneInfo(office.time_zone))


# ---------- the office's own policy ----------

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
    if errors:
        raise ValidationError(errors)
    limits = policy_limits(office)
    reason = reason.strip()
    now = timezone.now()
    policy = OfficePolicy(
        caps_per_7_days={ch: caps_per_7_days[ch] for ch in limits["caps"]},
        earliest_hour=earliest_hour,
        latest_hour=latest_hour,
        channels_enabled=[ch for ch in POLICY_CHANNELS if ch in set(channels_enabled)],
        first_party_follows_reg_f=first_party_follows_reg_f,
        sms_provider_permits_third_party=sms_provider_permits_third_party,
        nyc_rules_enabled=nyc_rules_enabled,
        effective_from=now,
        changed_by=changed_by,
        reason=reason[:200],
    )
    current = policy_in_force(office, now)
    if policy_effective(policy, office) == policy_effective(current, office):
        raise ValidationError("Nothing changed: the policy in force already says this.")
    policy.save()
    return policy


# ---------- the complaint register ----------

# Response deadlines the form proposes (the officer may set another date). The CFPB asks
# a company to respond to a complaint it forwards within 15 days (and to close it within
# 60); for complaints from anyone else we default to 30 days, the usual state
# attorney-general deadline.
COMPLAINT_RESPONSE_DAYS_CFPB = 15
COMPLAINT_RESPONSE_DAYS_OTHER = 30


def complaint_response_days(source):
    if source == Complaint.Source.CFPB:
        return COMPLAINT_RESPONSE_DAYS_CFPB
    return COMPLAINT_RESPONSE_DAYS_OTHER


def complaint_task_title(complaint):
    # Also how complaint_outcome_record finds the task again (no foreign key on it).
    return f"Respond to complaint #{complaint.pk}: {complaint.get_source_display()}"


@transaction.atomic
def complaint_create(
    *, accounts, source, received_on, response_due_on=None, summary="", created_by=None
):
    """Enter a complaint in the register, linked to the accounts it concerns (all of one
    debtor). Puts a review task in the creator's work, due when the response is due, and
    an event on each account's timeline. The summary, free text, is kept as a note."""
    accounts = list(accounts)
    if not accounts:
        raise ValidationError({"account": "Name the account the complaint is about."})
    debtor_ids = {a.debtor_id for a in accounts}
    if len(debtor_ids) != 1:
        raise ValidationError({"account": "A complaint concerns the accounts of one debtor."})
    if source not in Complaint.Source.values:
        raise ValidationError({"source": "Choose where the complaint came from."})
    office = accounts[0].office
    received_at = day_start(office=office, day=received_on)
    due_on = response_due_on or received_on + timedelta(days=complaint_response_days(source))
    if due_on < received_on:
        raise ValidationError(
            {"response_due_on": "The response can't be due before the complaint was received."}
        )
    complaint = Complaint.objects.create(
        debtor_id=accounts[0].debtor_id,
        source=source,
        received_at=received_at,
        response_due_at=_day_end(office, due_on),
    )
    for account in accounts:
        ComplaintAccount.objects.create(complaint=complaint, account=account)
        event_record(
            account=account,
            kind=Event.Kind.RESPONSE,
            actor=created_by,
            summary=f"Complaint received ({complaint.get_source_display()}); "
            f"response due {day_label(due_on)}",
            data={"complaint_id": complaint.pk, "source": source},
        )
    summary = (summary or "").strip()
    if summary:
        note_add(
            account=accounts[0],
            body=f"Complaint #{complaint.pk} ({complaint.get_source_display()}): {summary}",
            author=created_by,
        )
    WorkItem.objects.create(
        kind=WorkItem.Kind.REVIEW,
        title=complaint_task_title(complaint),
        detail=summary[:2000],
        account=accounts[0],
        assignee=created_by,
        due_at=complaint.response_due_at,
    )
    return complaint


@transaction.atomic
def complaint_outcome_record(*, complaint, outcome, root_cause="", recorded_by=None):
    """Close a complaint as upheld or not upheld. An upheld complaint needs its root
    cause: upheld complaints count against the office's compliance KPI."""
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    if complaint.outcome != Complaint.Outcome.PENDING:
        raise ValidationError(
            f"The outcome of this complaint was already recorded "
            f"({complaint.get_outcome_display().lower()})."
        )
    if outcome not in (Complaint.Outcome.UPHELD, Complaint.Outcome.NOT_UPHELD):
        raise ValidationError({"outcome": "Choose whether the complaint was upheld."})
    root_cause = (root_cause or "").strip()
    if outcome == Complaint.Outcome.UPHELD and not root_cause:
        raise ValidationError(
            {"root_cause": "Name the root cause of an upheld complaint, so it can be fixed."}
        )
    complaint.outcome = outcome
    complaint.root_cause = root_cause[:200]
    complaint.save(update_fields=["outcome", "root_cause"])
    work_items_close(
        WorkItem.objects.filter(kind=WorkItem.Kind.REVIEW, title=complaint_task_title(complaint))
    )
    for account in complaint.accounts.all():
        event_record(
            account=account,
            kind=Event.Kind.RESPONSE,
            actor=recorded_by,
            summary=f"Complaint closed: {complaint.get_outcome_display().lower()}",
            data={"complaint_id": complaint.pk, "outcome": outcome},
        )
    return complaint


# ---------- incoming correspondence ----------


class Correspondence(models.TextChoices):
    DISPUTE = "dispute", "Dispute"
    CEASE = "cease", "Cease communication / refusal to pay"
    ATTORNEY = "attorney", "Attorney notice"
    BANKRUPTCY = "bankruptcy", "Bankruptcy notice"
    COMPLAINT = "complaint", "Complaint"
    PAYMENT_DIRECTION = "payment_direction", "Payment direction"


@dataclass
class CorrespondenceResult:
    classification: str
    effective_from: datetime
    record: object = None  # the Dispute, Hold, Circumstance, Complaint or Note it made
    document: Document | None = None
    already_in_force: bool = False  # e.g. a second cease letter: the hold stands


@transaction.atomic
def correspondence_record(
    *,
    account,
    classification,
    received_on,
    received_via="letter",
    note="",
    upload=None,
    recorded_by=None,
    attorney="",
    bankruptcy_chapter="",
    bankruptcy_case="",
    complaint_source=Complaint.Source.DEBTOR,
):
    """A letter or email received about an account, classified by staff. Each takes
    effect as of the day it was received (not the day it was keyed in), so the audit's
    "facts known now" shows how slow intake was:

    dispute → a dispute (pauses the account); cease → a cease hold on the debtor;
    attorney / bankruptcy notice → a circumstance of the debtor; complaint → the register;
    payment direction → a note the payment desk follows (F-ALLOC).
    """
    if classification not in Correspondence.values:
        raise ValidationError({"classification": "Choose what the correspondence is."})
    office = account.office
    at = day_start(office=office, day=received_on)
    note = (note or "").strip()
    label = Correspondence(classification).label
    day = day_label(received_on)
    result = CorrespondenceResult(classification=classification, effective_from=at)

    if classification == Correspondence.DISPUTE:
        result.record = dispute_record(
            account=account,
            received_via=received_via,
            reason=note[:300],
            received_at=at,
            recorded_by=recorded_by,
        )
    elif classification == Correspondence.CEASE:
        # A cease already in force since that day covers this letter too.
        existing = _cease_in_force(account.debtor_id, at)
        result.already_in_force = existing is not None
        # The conservative reading: a cease request stops contact about every debt of
        # this debtor, not only the account it names.
        result.record = existing or hold_place(
            debtor=account.debtor,
            kind=Hold.Kind.CEASE,
            scope=Hold.Scope.DEBTOR,
            source=received_via,
            reason=f"Cease request received {day}",
            effective_from=at,
            set_by=recorded_by,
        )
    elif classification in (Correspondence.ATTORNEY, Correspondence.BANKRUPTCY):
        details = {}
        if classification == Correspondence.ATTORNEY and attorney.strip():
            details["firm"] = attorney.strip()[:200]
        if classification == Correspondence.BANKRUPTCY:
            details.update(
                {k: v.strip() for k, v in (("chapter", bankruptcy_chapter),
                                           ("case", bankruptcy_case)) if v.strip()}
            )  # fmt: skip
        result.record = Circumstance.objects.create(
            debtor=account.debtor,
            kind=classification,
            details=details,
            source=Source.AGENT,
            effective_from=at,
            recorded_by=recorded_by,
        )
    elif classification == Correspondence.COMPLAINT:
        result.record = complaint_create(
            accounts=[account],
            source=complaint_source,
            received_on=received_on,
            summary=note,
            created_by=recorded_by,
        )
    elif classification == Correspondence.PAYMENT_DIRECTION:
        if not note:
            raise ValidationError(
                {"note": "Write down the direction: which debt the debtor wants paid first."}
            )
        result.record = note_add(
            account=account, body=f"Payment direction received {day}: {note}", author=recorded_by
        )

    if note and classification not in (
        Correspondence.COMPLAINT,
        Correspondence.PAYMENT_DIRECTION,
    ):
        note_add(account=account, body=f"{label} received {day}: {note}", author=recorded_by)
    if upload is not None:
        result.document = _document_store(
            upload, account=account, title=f"{label} received {day}", created_by=recorded_by
        )
    event_record(
        account=account,
        kind=Event.Kind.LETTER,
        actor=recorded_by,
        channel="email" if received_via == "email" else "",
        summary=f"Incoming {received_via.replace('_', ' ')} recorded: {label.lower()}, "
        f"received {day}",
        data={
            "classification": classification,
            "received_on": received_on.isoformat(),
            "document_id": result.document.pk if result.document else None,
            "record_id": getattr(result.record, "pk", None),
        },
    )
    return result


def _cease_in_force(debtor_id, at):
    return (
        Hold.objects.filter(
            debtor_id=debtor_id,
            kind=Hold.Kind.CEASE,
            scope=Hold.Scope.DEBTOR,
            effective_from__lte=at,
        )
        .filter(models.Q(effective_to__isnull=True) | models.Q(effective_to__gt=timezone.now()))
        .order_by("effective_from")
        .first()
    )


def _document_store(upload, *, account, title, created_by):
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return Document.objects.create(
        kind=Document.Kind.UPLOAD,
        title=title[:200],
        file=upload,
        content_type=(getattr(upload, "content_type", "") or "")[:100],
        sha256=digest.hexdigest(),
        size=upload.size or 0,
        account=account,
        debtor_id=account.debtor_id,
        created_by=created_by,
    )


@transaction.atomic
def dispute_verification_record(*, dispute, recorded_by, sent_at=None, channel="letter"):
    """Verification (or the original creditor's name and address) was sent: the dispute
    is answered, its hold lifts, and an account paused by it becomes active again."""
    from accounts.services import account_transition

    if dispute.status != Dispute.Status.OPEN:
        raise ValidationError("This dispute has already been answered.")
    sent_at = sent_at or timezone.now()
    if sent_at > timezone.now():
        raise ValidationError("The date verification was sent cannot be in the future.")
    dispute.status = Dispute.Status.VERIFIED
    dispute.verification_sent_at = sent_at
    dispute.save(update_fields=["status", "verification_sent_at"])
    if dispute.hold_id and dispute.hold.effective_to is None:
        hold_lift(hold=dispute.hold, lifted_by=recorded_by, at=sent_at)
    account = dispute.account
    still_open = Dispute.objects.filter(account=account, status=Dispute.Status.OPEN).exists()
    if account.status == "disputed" and not still_open:
        account_transition(account=account, status="active", actor=recorded_by,
                           reason="verification sent")  # fmt: skip
    event_record(account=account, kind=Event.Kind.DISPUTE, actor=recorded_by, channel=channel,
                 summary="Verification sent; collection may resume",
                 data={"dispute_id": dispute.pk})  # fmt: skip
    return dispute
