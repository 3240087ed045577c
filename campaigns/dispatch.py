"""Send: claim due outbox rows, gate them again at send time, send, record.

1. In one transaction: claim due `planned`/`deferred` rows with `FOR UPDATE SKIP LOCKED`
   (two workers never claim the same row), ask the compliance gate with `reserve=True`
   (the debtor's caps are taken in the same transaction), and mark each row `blocked`,
   `deferred` (until the instant the gate named) or `sending`. Commit.
2. Outside it: render and hand each `sending` row to its channel; record `sent` with the
   provider's id, or `failed`, or — when the provider may or may not have sent it —
   leave it `sending` for reconciliation: never a blind resend. Before each provider
   call the office's send budget for the channel is taken (campaigns.ratelimit, shared
   by every worker through Redis); once it is spent, the channel's remaining rows go
   back to `planned` for the next round, untouched by the provider.

Every planned message ends sent, deferred, blocked, failed or flagged.
"""

import logging
from types import SimpleNamespace

from django.conf import settings
from django.utils import timezone

from accounts.models import Event
from accounts.services import summary_fit
from campaigns import letters, library, ratelimit, rendering, sendtime
from campaigns.channels import PermanentError, TransientError
from campaigns.channels import email as email_channel
from campaigns.channels import sms as sms_channel
from campaigns.models import Message
from campaigns.tracking import UNUSABLE, contact_point_mark, lower_statuses
from compliance import windows
from compliance.content import content_flags
from compliance.facts import policy_in_force
from compliance.gate import Attempt, evaluate
from compliance.models import ContactAttempt
from compliance.rules import federal
from debtors.models import ContactPoint, ContactPreference, Source
from debtors.timezones import debtor_candidate_zones
from recovery import tenancy

logger = logging.getLogger(__name__)

CHANNELS = {"email": email_channel, "sms": sms_channel}
# Letters call no provider: they are rendered and queued for a print batch.
CLAIMED = [*CHANNELS, "letter"]
DEFAULT_TEXT = {
    "email": (
        "About your account with {{ creditor_name }}",
        "Hello {{ first_name }},\n\nThis is a reminder about your account {{ reference }} "
        "with {{ creditor_name }}; the balance is {{ balance }} {{ currency }}. You can see "
        "the details, pay, set up a plan that fits your budget, or tell us if something is "
        "wrong here: {{ portal_link }}\n\nIf now is a hard time, reply and tell us: we can "
        "help.\n\n{{ office_name }} {{ office_phone }}",
    ),
    "sms": (
        "",
        "Hi {{ first_name }}, this is {{ office_name }} about your {{ creditor_name }} "
        "account {{ reference }}. Options and payment: {{ portal_link }}",
    ),
    "letter": (
        "",
        "Dear {{ full_name }},\n\nWe are writing about your account {{ reference }} with "
        "{{ creditor_name }}. The balance is {{ balance }} {{ currency }}.\n\nYou can see the "
        "details, pay, or set up a plan that fits your budget at {{ portal_link }}, or call us "
        "at {{ office_phone }}. If something is wrong, or now is a hard time, tell us: we can "
        "help.\n\nSincerely,\n{{ office_name }}",
    ),
}


def _text(message, index=None):
    """The step's template for the channel and the row's variant, in the debtor's
    language (campaigns.library); the default reminder when the step names none."""
    template = None
    if message.step_id:
        index = index or library.TemplateIndex()
        language = message.account.debtor.language
        template = library.step_template(
            message.step, message.channel, language=language, variant=message.variant, index=index
        )
    if template is not None:
        return template.subject, template.body
    return DEFAULT_TEXT[message.channel]


def dispatch_due(*, office, now=None, limit=200):
    """One pass for the office. Each step is its own transaction (never one around the
    provider call), so it must not run inside an outer transaction. Returns counts."""
    now = now or timezone.now()
    counts = dict.fromkeys(
        ("sent", "deferred", "blocked", "failed", "unknown", "retry", "rate_limited"), 0
    )
    with tenancy.office_context(office.id):
        claimed = list(
            Message.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related(
                "account__debtor", "account__creditor", "contact_point", "step__template"
            )  # fmt: skip
            .filter(
                status__in=[Message.Status.PLANNED, Message.Status.DEFERRED],
                due_at__lte=now,
                channel__in=CLAIMED,
            )  # fmt: skip
            .order_by("due_at", "id")[:limit]
        )
        if not claimed:
            return counts
        to_send, events = [], []
        held = _send_time_hold(claimed, office=office, now=now)
        counts["deferred"] += len(held)
        for message in claimed:
            if message.id in held:
                continue  # held for the debtor's best hour
            unusable = _unusable(message)
            if unusable:
                message.status = Message.Status.BLOCKED
                counts["blocked"] += 1
                summary = f"{message.channel} not sent: {unusable}"
                events.append(_event(message, Event.Kind.MESSAGE_BLOCKED, now, summary))
        gated = [m for m in claimed if m.status != Message.Status.BLOCKED and m.id not in held]
        index = library.TemplateIndex()  # the office's templates, read once per batch
        texts = {m.id: _text(m, index) for m in gated}
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
                message.sending_at = now
                to_send.append((message, outcome))
        Message.objects.bulk_update(
            claimed, ["status", "due_at", "sending_at", "send_time_at", "send_time_reason"]
        )
        Event.objects.bulk_create(events)
    rates, spent = {}, set()
    for message, outcome in to_send:
        channel = message.channel
        if channel == "letter":
            counts[_queue_letter(message, outcome, texts[message.id], office, now)] += 1
            continue
        if channel not in rates:
            with tenancy.office_context(office.id):
                rates[channel] = ratelimit.office_rate(office_id=office.id, channel=channel)
        if channel in spent or not ratelimit.take(
            office_id=office.id, channel=channel, rate=rates[channel]
        ):
            # Over the budget: stop this channel for the batch; the next round sends it.
            spent.add(channel)
            _release(message, outcome)
            counts["rate_limited"] += 1
            continue
        counts[_send(message, outcome, texts[message.id], office, now)] += 1
    return counts


def _queue_letter(message, outcome, text, office, now):
    try:
        letters.letter_queue(
            message=message, text=text, disclosures=outcome.disclosures, office=office, now=now
        )
    except Exception:
        # Nothing was queued (one transaction): free the slot and try on a later pass.
        logger.exception("letter not queued; retried", extra={"message_id": message.pk})
        _release(message, outcome)
        return "retry"
    return "sent"


def _release(message, outcome):
    """Give back a row taken for sending that never reached the provider: its cap slot
    is freed and it is `planned` again, due as before."""
    with tenancy.office_context(message.office_id):
        ContactAttempt.objects.filter(decision_id=outcome.decision_id).delete()
        Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
            status=Message.Status.PLANNED, sending_at=None
        )


def _send_time_hold(claimed, *, office, now):
    """Choose once, for each row not chosen yet, whether to hold it for the debtor's
    best hour (campaigns.sendtime); held rows become `deferred` to that hour. Returns
    the ids of the rows held."""
    # A letter is read days after it is posted: no hour of the week to choose.
    fresh = [
        m for m in claimed if m.channel != "letter" and not m.send_time_reason and not _unusable(m)
    ]
    if not fresh or not getattr(settings, "SEND_TIME_CHOICE", True):
        return set()
    slots = sendtime.slots_for(fresh, office_id=office.id, now=now)
    held = set()
    for message in fresh:
        when, reason = sendtime.send_time_choose(
            slots.get(message.debtor_id),
            now=now,
            due_at=message.due_at,
            allowed=lambda at, m=message: (
                window_end(office=office, debtor_id=m.debtor_id, at=at) is not None
            ),
        )
        message.send_time_reason = reason[:200]
        if when is not None:
            message.status = Message.Status.DEFERRED
            message.due_at = message.send_time_at = when
            held.add(message.id)
    return held


def _unusable(message):
    """Why the row's contact point cannot be used any more (bounced, disconnected, a
    landline for a text), or None. Rows planned before a bounce are stopped here."""
    cp = message.contact_point
    if cp is None:
        return "no usable contact point"
    if cp.validity in UNUSABLE:
        return f"the {cp.get_kind_display().lower()} is marked {cp.validity}"
    if message.channel == "sms" and cp.phone_type == ContactPoint.PhoneType.LANDLINE:
        return "the number is a landline"
    return None


def window_end(*, office, debtor_id, at):
    """The end of the debtor's allowed window that `at` is in (the same zones, hours
    and inconvenient times the gate's F-TIME and F-PREF rules use), or None."""
    points = ContactPoint.objects.filter(debtor_id=debtor_id)
    zones = debtor_candidate_zones(points)
    policy = policy_in_force(office, at)
    window = federal.window_for(SimpleNamespace(office=office, policy=policy))
    prefs = ContactPreference.objects.filter(debtor_id=debtor_id, effective_from__lte=at)
    prefs = [p for p in prefs if p.effective_to is None or p.effective_to > at]
    quiet = federal.quiet_spans(SimpleNamespace(preferences=prefs))
    for start, end in windows.allowed_intervals(zones, at, window=window, quiet=quiet):
        if start <= at < end:
            return end
    return None


def _event(message, kind, at, summary):
    return Event(office_id=message.office_id, account_id=message.account_id,
                 debtor_id=message.debtor_id, kind=kind, occurred_at=at, channel=message.channel,
                 summary=summary_fit(summary), data={"message_id": message.id})  # fmt: skip


def _send(message, outcome, text, office, now):
    account = message.account
    values = rendering.merge_values(account=account, debtor=account.debtor, office=office,
                                    creditor=account.creditor)  # fmt: skip
    subject = rendering.render(text[0], values)
    body = rendering.render(text[1], values, disclosures=outcome.disclosures)
    channel = CHANNELS[message.channel]
    valid_until = None
    if message.channel == "sms":
        # The text must not wait at the provider past the debtor's window.
        with tenancy.office_context(message.office_id):
            valid_until = window_end(office=office, debtor_id=message.debtor_id, at=now)
    try:
        provider_id = channel.send(
            to=message.contact_point.value, subject=subject, body=body,
            office_id=message.office_id, message_id=message.id, valid_until=valid_until,
        )  # fmt: skip
    except TransientError:
        # Nothing went out: free the cap slot and try again on a later pass.
        _release(message, outcome)
        return "retry"
    except PermanentError as exc:
        with tenancy.office_context(message.office_id):
            ContactAttempt.objects.filter(decision_id=outcome.decision_id).delete()
            Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
                status=Message.Status.FAILED, error_code=str(getattr(exc, "code", "") or "")
            )
            _event(message, Event.Kind.MESSAGE_BLOCKED, now,
                   f"{message.channel} failed: {exc}").save()  # fmt: skip
            effect = getattr(exc, "effect", None)
            if effect:
                source = Source.CARRIER if message.channel == "sms" else Source.EMAIL_EVENT
                contact_point_mark(contact_point=message.contact_point, effect=effect,
                                   source=source, method=str(exc), at=now,
                                   message=message)  # fmt: skip
        return "failed"
    except Exception:
        # The provider may have sent it: leave it `sending` for reconciliation.
        logger.exception(
            "send outcome unknown; left for reconciliation",
            extra={"message_id": message.pk, "channel": message.channel},
        )
        return "unknown"
    provider = getattr(channel, "PROVIDER", message.channel)
    with tenancy.office_context(message.office_id):
        # A status callback may have beaten us here: never move the row back.
        earlier = lower_statuses(Message.Status.SENT)
        Message.objects.filter(pk=message.pk, status__in=earlier).update(
            status=Message.Status.SENT, sent_at=now, provider=provider
        )
        Message.objects.filter(pk=message.pk).update(provider=provider,
                                                     provider_message_id=provider_id)  # fmt: skip
        label = "SMS" if message.channel == "sms" else message.channel.title()
        _event(message, Event.Kind.MESSAGE_SENT, now, f"{label} sent").save()
    return "sent"
