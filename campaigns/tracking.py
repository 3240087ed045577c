"""Track: what providers tell us after a send — status callbacks, email tracking
events, inbound texts — applied to the outbox, the contact points and the timeline.

Each verb runs inside the office's context (the webhook found the office first) and:
- applies an event once: its key (the provider's event id, or Twilio's
  (MessageSid, status)) is unique per office, so retries and duplicates are no-ops;
- never moves a message back: statuses have a rank and only a higher one replaces a
  lower one (a `sent` arriving after `delivered` changes nothing);
- records what an event says about the address or number (bounced, disconnected,
  landline, opted out at the carrier) even when it arrives late;
- puts the event on the account's timeline (ids and codes, never text or addresses).
"""

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Account, Event
from accounts.services import event_record, summary_fit
from campaigns.channels import sms as sms_channel
from campaigns.models import DeliveryEvent, Message
from compliance import services as compliance
from debtors.models import ContactPoint, Source
from recovery.models import WorkItem

logger = logging.getLogger(__name__)

S = Message.Status
RANK = {S.PLANNED: 0, S.DEFERRED: 0, S.BLOCKED: 0, S.SENDING: 1, S.FLAGGED: 1, S.SENT: 2,
        S.DELIVERED: 3, S.FAILED: 3}  # fmt: skip

# Twilio's message statuses → ours.
TWILIO_STATUS = {
    "accepted": S.SENT, "scheduled": S.SENT, "queued": S.SENT, "sending": S.SENT,
    "sent": S.SENT, "delivered": S.DELIVERED, "read": S.DELIVERED,
    "undelivered": S.FAILED, "failed": S.FAILED, "canceled": S.FAILED,
}  # fmt: skip

UNUSABLE = {ContactPoint.Validity.INVALID, ContactPoint.Validity.BOUNCED,
            ContactPoint.Validity.RETURNED, ContactPoint.Validity.DISCONNECTED}  # fmt: skip


def lower_statuses(status):
    return [s for s, rank in RANK.items() if rank < RANK[status]]


def event_once(*, message, provider, event_key, kind, occurred_at, data=None, office_id=None):
    """Record a provider event; False when it was recorded before (a duplicate)."""
    try:
        with transaction.atomic():
            DeliveryEvent.objects.create(
                office_id=office_id or message.office_id,
                message=message,
                provider=provider,
                event_key=event_key[:200],
                kind=kind[:20],
                occurred_at=occurred_at,
                data=data or {},
            )
    except IntegrityError:
        return False
    return True


@dataclass
class Delivery:
    """One provider event about a message: what `deliveries_record` needs to apply it,
    alone or together with others (set-based)."""

    message_id: int
    provider: str
    event_key: str
    kind: str
    occurred_at: datetime
    data: dict
    status: str | None = None  # ours; None: the event moves no status
    provider_status: str = ""
    error_code: str = ""
    provider_message_id: str = ""
    timeline: tuple | None = None  # (Event kind, summary, data)
    effect: str | None = None  # what it says about the address (`contact_point_mark`)
    applied: bool = field(default=False, init=False)


def deliveries_record(deliveries):
    """Apply `Delivery`s of this office (one, or a batch's) as one at a time in order
    would: the messages are read and locked in id order by one query, the new event keys
    found by one and inserted by one, the status moves made by one UPDATE per resulting
    status, the timeline by one insert. What an event says about the address is the
    caller's (`twilio_status_record`, `email_event_record`).
    Sets each delivery's `applied` (False: its key was recorded before, or its message is
    not this office's). A constant number of statements, whatever the number of events."""
    if not deliveries:
        return deliveries
    office_id = _office_id()
    messages = {
        row["pk"]: row
        for row in Message.objects.select_for_update(of=("self",))
        .filter(pk__in={d.message_id for d in deliveries})
        .order_by("pk")
        .values(
            "pk",
            "status",
            "sent_at",
            "provider_message_id",
            "channel",
            "account_id",
            "account__debtor_id",
        )  # fmt: skip
    }
    recorded = set(
        DeliveryEvent.objects.filter(
            event_key__in={d.event_key[:200] for d in deliveries},
            provider__in={d.provider for d in deliveries},
        ).values_list("provider", "event_key")
    )
    new_events, timeline, moves = [], [], {}
    for d in deliveries:
        key = (d.provider, d.event_key[:200])
        message = messages.get(d.message_id)
        if message is None or key in recorded:
            continue
        known_id = message["provider_message_id"]
        if d.provider_message_id and known_id and known_id != d.provider_message_id:
            logger.warning("status callback SID does not match the message", extra={
                "message_id": d.message_id})  # fmt: skip
            continue
        recorded.add(key)  # a second copy in the same batch is a duplicate too
        d.applied = True
        new_events.append(DeliveryEvent(office_id=office_id, message_id=d.message_id,
                                        provider=d.provider, event_key=key[1],
                                        kind=d.kind[:20], occurred_at=d.occurred_at,
                                        data=d.data))  # fmt: skip
        if d.status is not None and RANK[d.status] > RANK[message["status"]]:
            message["status"] = d.status  # a step up: later events compare against it
            moves[d.message_id] = d
        if d.timeline is not None:
            kind, summary, data = d.timeline
            timeline.append(Event(office_id=office_id, account_id=message["account_id"],
                                  debtor_id=message["account__debtor_id"], kind=kind,
                                  summary=summary_fit(summary), channel=message["channel"],
                                  occurred_at=d.occurred_at,
                                  data={"message_id": d.message_id, **(data or {})}))  # fmt: skip
    DeliveryEvent.objects.bulk_create(new_events)
    _moves_write(moves, messages)
    Event.objects.bulk_create(timeline)
    return deliveries


def _moves_write(moves, messages):
    """The status moves `deliveries_record` decided: one UPDATE for every message that
    ends on the same status, codes and no other change (the usual case); one each for
    the few that also get their first `sent_at` or their provider id."""
    together = {}
    for message_id, d in sorted(moves.items()):
        fields = {"status": d.status, "provider_status": d.provider_status[:20],
                  "error_code": str(d.error_code or "")[:20]}  # fmt: skip
        message = messages[message_id]
        alone = {}
        if d.provider_message_id and message["provider_message_id"] != d.provider_message_id:
            alone["provider_message_id"] = d.provider_message_id
        if d.status in (S.SENT, S.DELIVERED) and message["sent_at"] is None:
            alone["sent_at"] = d.occurred_at
        if alone:
            Message.objects.filter(pk=message_id).update(**fields, **alone)
        else:
            together.setdefault(tuple(fields.items()), []).append(message_id)
    for fields, ids in together.items():
        Message.objects.filter(pk__in=ids).update(**dict(fields))


def contact_point_mark(*, contact_point, effect, source, method, at, message=None):
    """What a provider said about an address or number. "bounced", "invalid" and
    "disconnected" stop every later message to it (the planner skips it, the dispatcher
    blocks rows planned before); "landline" stops texts only; "opted_out" is an opt-out
    of the channel, recorded through compliance with its source and time."""
    if effect == "opted_out":
        channel = "email" if contact_point.kind == ContactPoint.Kind.EMAIL else "sms"
        compliance.consent_record(contact_point=contact_point, channel=channel, kind="opt_out",
                                  source=source, method=method[:100],
                                  effective_from=at)  # fmt: skip
        return
    if effect == "landline":
        ContactPoint.objects.filter(pk=contact_point.pk).update(
            phone_type=ContactPoint.PhoneType.LANDLINE
        )
        summary = "Number is a landline: no more texts to it (calls unaffected)"
    else:
        ContactPoint.objects.filter(pk=contact_point.pk).update(validity=effect)
        what = "Email address" if contact_point.kind == ContactPoint.Kind.EMAIL else "Number"
        summary = f"{what} marked {effect} ({method}): nothing more goes to it"
    accounts = ([message.account] if message is not None else
                Account.objects.filter(debtor_id=contact_point.debtor_id))  # fmt: skip
    for account in accounts:
        event_record(account=account, kind=Event.Kind.MESSAGE_BLOCKED, summary=summary,
                     occurred_at=at, data={"contact_point_id": contact_point.pk,
                                           "effect": effect, "source": source})  # fmt: skip


# ---------- Twilio ----------


def twilio_provider_status(params):
    """The status a Twilio callback reports (`MessageStatus`, or the older `SmsStatus`)."""
    return (params.get("MessageStatus") or params.get("SmsStatus") or "").lower()


def twilio_status_record(*, message, params, at=None):
    """One Twilio status callback (its form parameters) for a message of this office:
    `deliveries_record` of one, then what it says about the number."""
    delivery = twilio_delivery(message_id=message.pk, params=params, at=at or timezone.now())
    if delivery is None:
        logger.warning("unknown Twilio status", extra={
            "status": twilio_provider_status(params)[:20]})  # fmt: skip
        return False
    deliveries_record([delivery])
    if delivery.applied and delivery.effect and message.contact_point_id:
        contact_point_mark(contact_point=message.contact_point, effect=delivery.effect,
                           source=Source.CARRIER, method=f"Twilio error {delivery.error_code}",
                           at=delivery.occurred_at, message=message)  # fmt: skip
    return delivery.applied


def _twilio_timeline_entry(provider_status, error_code):
    """(kind, summary, data) for the timeline, or None: queued/sent are there already
    (the dispatcher put "SMS sent" on it)."""
    status = TWILIO_STATUS[provider_status]
    if status == S.DELIVERED:
        return Event.Kind.MESSAGE_DELIVERED, "SMS delivered", None
    if status == S.FAILED:
        code = f" (error {error_code})" if error_code else ""
        return Event.Kind.MESSAGE_BLOCKED, f"SMS {provider_status}{code}", {
            "error_code": error_code}  # fmt: skip
    return None


def twilio_delivery(*, message_id, params, at):
    """A status callback as a `Delivery`, or None for a status we do not know."""
    provider_status = twilio_provider_status(params)
    status = TWILIO_STATUS.get(provider_status)
    error_code = params.get("ErrorCode", "") or ""
    if status is None:
        return None
    sid = params.get("MessageSid", "")
    return Delivery(message_id=message_id, provider="twilio",
                    event_key=f"{sid}:{provider_status}", kind=provider_status,
                    occurred_at=at, data={"sid": sid, "error_code": error_code},
                    status=status, provider_status=provider_status, error_code=error_code,
                    provider_message_id=sid,
                    timeline=_twilio_timeline_entry(provider_status, error_code),
                    effect=sms_channel.number_effect(error_code) if status == S.FAILED
                    else None)  # fmt: skip


def sms_reply_record(*, from_number, body, sid, at=None, opt_out_type="", inbox=True):
    """An inbound text for this office. STOP-family words (and Twilio's own opt-out
    keyword handling) opt the number out at once; other replies go to the agent inbox
    on the account that last texted the number. Returns what compliance did."""
    at = at or timezone.now()
    office_id = _office_id()
    if not event_once(message=None, provider="twilio", event_key=f"inbound:{sid}",
                      kind="inbound", occurred_at=at, office_id=office_id):  # fmt: skip
        return "duplicate"
    done = compliance.sms_inbound_record(from_number=from_number, body=body, received_at=at)
    if opt_out_type.upper() == "STOP" and done != "opted_out":
        # A custom opt-out keyword Twilio recognised for the sender.
        for cp in ContactPoint.objects.filter(kind=ContactPoint.Kind.PHONE, value=from_number):
            compliance.consent_record(contact_point=cp, channel="sms", kind="opt_out",
                                      source=Source.SMS_REPLY, method="opt-out keyword reply",
                                      effective_from=at)  # fmt: skip
        done = "opted_out"
    account = _account_for_number(from_number)
    if account is None:
        return done
    if done == "none" and inbox:
        WorkItem.objects.create(kind=WorkItem.Kind.INBOX, account=account, due_at=at,
                                title="Text reply from the debtor", detail=body[:1000])  # fmt: skip
    summary = {"opted_out": "Text reply: opt-out keyword; texts stopped",
               "opted_in": "Text reply: opted back in to texts",
               "review": "Text reply that may revoke consent: sent to review"}.get(
        done, "Text reply received: in the agent inbox")  # fmt: skip
    event_record(account=account, kind=Event.Kind.RESPONSE, summary=summary, channel="sms",
                 occurred_at=at, data={"sid": sid, "result": done})  # fmt: skip
    return done


def _office_id():
    from recovery import tenancy

    return tenancy.current_office_id()


def _account_for_number(number):
    """The account whose SMS most recently went to this number, else the debtor's latest."""
    last = (Message.objects.filter(channel="sms", contact_point__value=number)
            .select_related("account").order_by("-created_at", "-id").first())  # fmt: skip
    if last is not None:
        return last.account
    cp = ContactPoint.objects.filter(kind=ContactPoint.Kind.PHONE, value=number).first()
    if cp is None:
        return None
    return Account.objects.filter(debtor_id=cp.debtor_id).order_by("-id").first()


# ---------- email (anymail) ----------

# anymail's normalised event types → (our status or None, what it means for the address)
EMAIL_EVENTS = {
    "queued": (S.SENT, None), "sent": (S.SENT, None),
    "delivered": (S.DELIVERED, None), "opened": (S.DELIVERED, None),
    "clicked": (S.DELIVERED, None),
    "bounced": (S.FAILED, "bounced"), "rejected": (S.FAILED, None),
    "failed": (S.FAILED, None), "deferred": (None, None),
    "complained": (None, "opted_out"), "unsubscribed": (None, "opted_out"),
}  # fmt: skip
EMAIL_SUMMARY = {
    "delivered": "Email delivered", "opened": "Email opened", "clicked": "Email link clicked",
    "bounced": "Email bounced", "rejected": "Email rejected by the provider",
    "failed": "Email failed", "deferred": "Email delivery delayed; the provider retries",
    "complained": "Email reported as spam: no more email to this address",
    "unsubscribed": "Unsubscribed from email",
}  # fmt: skip
EMAIL_TIMELINE = {"delivered": Event.Kind.MESSAGE_DELIVERED, "opened": Event.Kind.MESSAGE_DELIVERED,
                  "clicked": Event.Kind.RESPONSE, "deferred": Event.Kind.MESSAGE_SENT}  # fmt: skip


def email_event_key(event):
    if event.event_id:
        return f"email:{event.event_id}"
    raw = "|".join(str(x) for x in (event.message_id, event.event_type, event.timestamp,
                                    event.recipient, event.click_url))  # fmt: skip
    return "email:h:" + hashlib.sha256(raw.encode()).hexdigest()


def email_event_record(*, message, event, esp_name=""):
    """One anymail tracking event for a message of this office: `deliveries_record` of
    one, then what it says about the address."""
    delivery = email_delivery(message_id=message.pk, event=event, esp_name=esp_name)
    deliveries_record([delivery])
    if delivery.applied and delivery.effect and message.contact_point_id:
        contact_point_mark(contact_point=message.contact_point, effect=delivery.effect,
                           source=Source.EMAIL_EVENT,
                           method=f"{esp_name or 'ESP'} {event.event_type}",
                           at=delivery.occurred_at, message=message)  # fmt: skip
    return delivery.applied


def _email_meaning(event):
    """(our status or None, what it says about the address or None)."""
    status, effect = EMAIL_EVENTS.get(event.event_type, (None, None))
    if event.event_type == "rejected" and event.reject_reason in ("bounced", "invalid"):
        effect = "bounced"
    elif event.event_type == "rejected" and event.reject_reason in ("spam", "unsubscribed"):
        effect = "opted_out"
    return status, effect


def _email_timeline_entry(kind):
    if kind not in EMAIL_SUMMARY:
        return None
    return EMAIL_TIMELINE.get(kind, Event.Kind.MESSAGE_BLOCKED), EMAIL_SUMMARY[kind], {
        "event": kind}  # fmt: skip


def email_delivery(*, message_id, event, esp_name=""):
    """A tracking event as a `Delivery`."""
    status, effect = _email_meaning(event)
    return Delivery(message_id=message_id, provider="email", event_key=email_event_key(event),
                    kind=event.event_type, occurred_at=event.timestamp or timezone.now(),
                    data={"esp": esp_name[:20], "reject_reason": event.reject_reason or ""},
                    status=status, provider_status=event.event_type,
                    timeline=_email_timeline_entry(event.event_type),
                    effect=effect)  # fmt: skip
