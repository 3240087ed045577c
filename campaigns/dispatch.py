"""Send: claim due outbox rows, gate them again at send time, send, record.

1. In one transaction: claim due `planned`/`deferred` rows with `FOR UPDATE SKIP LOCKED`
   (two workers never claim the same row), ask the compliance gate with `reserve=True`
   (the debtor's caps are taken in the same transaction), and mark each row `blocked`,
   `deferred` (until the instant the gate named) or `sending`. Commit.
2. Outside it: render and hand each `sending` row to its channel; record `sent` with the
   provider's id, or `failed`, or — when the provider may or may not have sent it —
   leave it `sending` for reconciliation: never a blind resend.

Every planned message ends sent, deferred, blocked, failed or flagged.
"""

import logging

from django.utils import timezone

from accounts.models import Event
from campaigns import rendering
from campaigns.channels import PermanentError, TransientError
from campaigns.channels import email as email_channel
from campaigns.models import Message
from compliance.content import content_flags
from compliance.gate import Attempt, evaluate
from compliance.models import ContactAttempt
from recovery import tenancy

logger = logging.getLogger(__name__)

CHANNELS = {"email": email_channel}
DEFAULT_TEXT = {
    "email": (
        "About your account with {{ creditor_name }}",
        "Hello {{ first_name }},\n\nThis is a reminder about your account {{ reference }} "
        "with {{ creditor_name }}; the balance is {{ balance }} {{ currency }}. You can see "
        "the details, pay, set up a plan that fits your budget, or tell us if something is "
        "wrong here: {{ portal_link }}\n\nIf now is a hard time, reply and tell us: we can "
        "help.\n\n{{ office_name }} {{ office_phone }}",
    )
}


def _text(message):
    template = message.step.template if message.step_id else None
    if template is not None:
        return template.subject, template.body
    return DEFAULT_TEXT[message.channel]


def dispatch_due(*, office, now=None, limit=200):
    """One pass for the office. Each step is its own transaction (never one around the
    provider call), so it must not run inside an outer transaction. Returns counts."""
    now = now or timezone.now()
    counts = {"sent": 0, "deferred": 0, "blocked": 0, "failed": 0, "unknown": 0, "retry": 0}
    with tenancy.office_context(office.id):
        claimed = list(
            Message.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related(
                "account__debtor", "account__creditor", "contact_point", "step__template"
            )  # fmt: skip
            .filter(
                status__in=[Message.Status.PLANNED, Message.Status.DEFERRED],
                due_at__lte=now,
                channel__in=list(CHANNELS),
            )  # fmt: skip
            .order_by("due_at", "id")[:limit]
        )
        if not claimed:
            return counts
        to_send, events = [], []
        for message in claimed:
            if message.contact_point_id is None:
                message.status = Message.Status.BLOCKED
                counts["blocked"] += 1
                summary = f"{message.channel} not sent: no usable contact point"
                events.append(_event(message, Event.Kind.MESSAGE_BLOCKED, now, summary))
        gated = [m for m in claimed if m.contact_point_id is not None]
        texts = {m.id: _text(m) for m in gated}
        attempts = [
            Attempt(
                account_id=m.account_id,
                channel=m.channel,
                at=now,
                contact_point_id=m.contact_point_id,
                message_id=m.id,
                content=content_flags(" ".join(texts[m.id])),
            )
            for m in gated
        ]
        outcomes = evaluate(attempts, reserve=True)
        for message, outcome in zip(gated, outcomes, strict=True):
            if outcome.outcome == "block":
                message.status = Message.Status.BLOCKED
                counts["blocked"] += 1
                summary = f"{message.channel} blocked: {outcome.explanation}"
                events.append(_event(message, Event.Kind.MESSAGE_BLOCKED, now, summary))
            elif outcome.outcome == "defer":
                message.status = Message.Status.DEFERRED
                message.due_at = outcome.defer_until
                counts["deferred"] += 1
            else:
                message.status = Message.Status.SENDING
                to_send.append((message, outcome))
        Message.objects.bulk_update(claimed, ["status", "due_at"])
        Event.objects.bulk_create(events)
    for message, outcome in to_send:
        counts[_send(message, outcome, texts[message.id], office, now)] += 1
    return counts


def _event(message, kind, at, summary):
    return Event(office_id=message.office_id, account_id=message.account_id,
                 debtor_id=message.debtor_id, kind=kind, occurred_at=at, channel=message.channel,
                 summary=summary[:300], data={"message_id": message.id})  # fmt: skip


def _send(message, outcome, text, office, now):
    account = message.account
    values = rendering.merge_values(account=account, debtor=account.debtor, office=office,
                                    creditor=account.creditor)  # fmt: skip
    subject = rendering.render(text[0], values)
    body = rendering.render(text[1], values, disclosures=outcome.disclosures)
    channel = CHANNELS[message.channel]
    try:
        provider_id = channel.send(
            to=message.contact_point.value, subject=subject, body=body,
            office_id=message.office_id, message_id=message.id,
        )  # fmt: skip
    except TransientError:
        # Nothing went out: free the cap slot and try again on a later pass.
        with tenancy.office_context(message.office_id):
            ContactAttempt.objects.filter(decision_id=outcome.decision_id).delete()
            Message.objects.filter(pk=message.pk).update(status=Message.Status.PLANNED)
        return "retry"
    except PermanentError as exc:
        with tenancy.office_context(message.office_id):
            ContactAttempt.objects.filter(decision_id=outcome.decision_id).delete()
            Message.objects.filter(pk=message.pk).update(status=Message.Status.FAILED)
            _event(message, Event.Kind.MESSAGE_BLOCKED, now,
                   f"{message.channel} failed: {exc}"[:300]).save()  # fmt: skip
        return "failed"
    except Exception:
        # The provider may have sent it: leave it `sending` for reconciliation.
        logger.exception(
            "send outcome unknown; left for reconciliation",
            extra={"message_id": message.pk, "channel": message.channel},
        )
        return "unknown"
    with tenancy.office_context(message.office_id):
        Message.objects.filter(pk=message.pk).update(
            status=Message.Status.SENT, sent_at=now, provider=message.channel,
            provider_message_id=provider_id,
        )  # fmt: skip
        _event(message, Event.Kind.MESSAGE_SENT, now, f"{message.channel.title()} sent").save()
    return "sent"
