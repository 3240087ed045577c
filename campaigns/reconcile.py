"""Reconcile messages whose send outcome is unknown: rows still `sending` long after
the dispatcher took them (the worker died after the provider call, before recording).

Never resends blindly. For SMS, Twilio is asked which texts went to that number since
the attempt: one match is recorded (SID and status), none means Twilio never got the
request and the row goes back to the queue (the gate decides again at send time),
several are left to a person. Email providers cannot be asked that way, so an email
row is flagged for a person (a work item on the account) to check the ESP's log.
"""

import logging
from datetime import timedelta

import requests
from django.utils import timezone
from twilio.base.exceptions import TwilioException

from accounts.models import Event
from accounts.services import event_record
from campaigns import tracking
from campaigns.channels import sms as sms_channel
from campaigns.models import Message
from compliance.models import ContactAttempt, Decision
from recovery import tenancy
from recovery.models import WorkItem

logger = logging.getLogger(__name__)

# Far beyond the SDK's timeout: a row this old is not still in a worker's hands.
STUCK_AFTER = timedelta(minutes=15)
# Twilio's and our clocks, and the time between our claim and the create call.
CLOCK_SKEW = timedelta(minutes=2)
EMAIL_UNKNOWN = ("Email may or may not have gone out (the worker stopped mid-send): check "
                 "the ESP's log before sending again")  # fmt: skip


def reconcile_unknown(*, office, now=None, stuck_after=STUCK_AFTER, limit=100):
    """One pass for the office; each message its own transaction. Returns counts."""
    now = now or timezone.now()
    counts = {"recorded": 0, "requeued": 0, "flagged": 0, "later": 0}
    cutoff = now - stuck_after
    with tenancy.office_context(office.id):
        stuck = list(
            Message.objects.filter(status=Message.Status.SENDING, sending_at__lt=cutoff)
            .select_related("account", "contact_point")
            .order_by("sending_at", "id")[:limit]
        )
    for message in stuck:
        if message.channel == "sms":
            result = _sms(message, now)
        elif message.channel == "letter":
            # A letter is queued in one transaction with its PDF: still `sending` means
            # nothing was queued, so the gate decides again.
            with tenancy.office_context(message.office_id):
                result = _requeue(message, now, "Letter not queued (interrupted): queued again")
        else:
            result = _flag(message, now, EMAIL_UNKNOWN)
        counts[result] += 1
    return counts


def _sms(message, now):
    with tenancy.office_context(message.office_id):
        config = sms_channel.office_config(message.office_id)
    if not config.configured or message.contact_point is None:
        return _flag(message, now, "Text may or may not have gone out, and Twilio cannot "
                     "be asked: check before sending again")  # fmt: skip
    since = message.sending_at - CLOCK_SKEW
    try:
        found = sms_channel.client_for(config).messages.list(to=message.contact_point.value,
                                                             limit=20)  # fmt: skip
    except (TwilioException, requests.exceptions.RequestException):
        logger.warning("Twilio lookup failed; retried on the next pass",
                       extra={"message_id": message.pk})  # fmt: skip
        return "later"
    sender = config.messaging_service_sid or config.from_number
    with tenancy.office_context(message.office_id):
        known = set(Message.objects.filter(provider="twilio",
                                           provider_message_id__in=[m.sid for m in found])
                    .values_list("provider_message_id", flat=True))  # fmt: skip
    candidates = [
        m for m in found
        if m.direction and m.direction.startswith("outbound")
        and m.date_created is not None and m.date_created >= since
        and sender in (m.messaging_service_sid, m.from_)
        and m.sid not in known
    ]  # fmt: skip
    if len(candidates) > 1:
        return _flag(message, now, "Several texts went to this number around the time of "
                     "an unrecorded send: check which one it was")  # fmt: skip
    with tenancy.office_context(message.office_id):
        if not candidates:
            return _requeue(message, now)
        [sent] = candidates
        status = tracking.TWILIO_STATUS.get(sent.status, Message.Status.SENT)
        Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
            status=status, provider="twilio", provider_message_id=sent.sid,
            provider_status=sent.status or "", error_code=str(sent.error_code or ""),
            sent_at=sent.date_sent or sent.date_created,
        )  # fmt: skip
        event_record(account=message.account, kind=Event.Kind.MESSAGE_SENT, channel="sms",
                     summary="SMS sent (found at Twilio after an interrupted send)",
                     occurred_at=sent.date_created,
                     data={"message_id": message.pk, "sid": sent.sid,
                           "status": sent.status or ""})  # fmt: skip
    return "recorded"


def _requeue(message, now, summary="SMS not sent (Twilio never received it): queued again"):
    """Nothing went out (Twilio has no text to this number since the attempt, or a letter
    was never queued). The row goes back to the queue, its cap slot freed; the gate
    decides again."""
    moved = Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
        status=Message.Status.PLANNED, sending_at=None
    )
    if moved:
        decisions = Decision.objects.filter(message_id=message.pk, outcome="allow")
        ContactAttempt.objects.filter(decision_id__in=decisions.values("id")).delete()
        event_record(account=message.account, kind=Event.Kind.MESSAGE_BLOCKED,
                     channel=message.channel, summary=summary,
                     occurred_at=now, data={"message_id": message.pk})  # fmt: skip
    return "requeued"


def _detail(message):
    taken = f"{message.sending_at:%Y-%m-%d %H:%M} UTC" if message.sending_at else "unknown"
    return f"Outbox message {message.pk} ({message.channel}), taken to send at {taken}."


def _flag(message, now, title):
    with tenancy.office_context(message.office_id):
        moved = Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
            status=Message.Status.FLAGGED
        )
        if moved:
            WorkItem.objects.create(kind=WorkItem.Kind.REVIEW, account=message.account,
                                    due_at=now, title=title[:200],
                                    detail=_detail(message))  # fmt: skip
            event_record(account=message.account, kind=Event.Kind.MESSAGE_BLOCKED,
                         channel=message.channel, occurred_at=now,
                         summary=f"{message.channel} send outcome unknown: flagged for a person",
                         data={"message_id": message.pk})  # fmt: skip
    return "flagged"
