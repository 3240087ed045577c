"""Send: claim due outbox rows, gate them again at send time, send, record.

1. In one transaction: claim due `planned`/`deferred` rows and their debtors with `FOR
   UPDATE SKIP LOCKED` (two workers never claim the same row, nor wait for each other on
   a debtor: a row whose debtor another worker is gating is left for the next pass),
   ask the compliance gate with `reserve=True` (the debtor's caps are taken in the same
   transaction), and mark each row `blocked`,
   `deferred` (until the instant the gate named) or `sending`. Commit.
2. Outside it: take the batch's send budget per channel in one call (campaigns.ratelimit:
   the office's and the platform's, shared by every worker through Redis); rows over it
   go back to `planned` for the next round, untouched by the provider. Render and hand
   each remaining row to its channel (one provider client per channel per batch).
3. Record the results together (a fixed number of queries per batch): `sent` with the
   provider's id, or `failed`, or `planned` again when the provider said nothing went
   out, or — when the provider may or may not have sent it — left `sending` for
   reconciliation: never a blind resend.

Every planned message ends sent, deferred, blocked, failed or flagged.
"""

import logging
from collections import defaultdict, namedtuple
from types import SimpleNamespace

from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import Account, Creditor, Event
from accounts.services import summary_fit
from campaigns import letters, library, ratelimit, rendering, sendtime
from campaigns.channels import PermanentError, TransientError
from campaigns.channels import email as email_channel
from campaigns.channels import sms as sms_channel
from campaigns.models import Message, Step
from campaigns.tracking import UNUSABLE, contact_point_mark, lower_statuses
from compliance import windows
from compliance.content import content_flags
from compliance.gate import Attempt, evaluate
from compliance.models import ContactAttempt, OfficePolicy
from compliance.rules import federal
from debtors.models import ContactPoint, ContactPreference, Source
from debtors.timezones import debtor_candidate_zones
from recovery import tenancy
from recovery.bulk import rows_set
from recovery.lookups import array

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


# Sends recorded together. Larger is cheaper per message; smaller leaves fewer rows
# whose outcome is unknown when a worker dies mid-batch (an email then needs a person).
RECORD_EVERY = 20


def dispatch_due(*, office, now=None, limit=200):
    """One pass for the office. Each step is its own transaction (never one around the
    provider call), so it must not run inside an outer transaction. Returns counts.
    The number of queries does not grow with the batch (barring failed sends)."""
    now = now or timezone.now()
    counts = dict.fromkeys(
        ("sent", "deferred", "blocked", "failed", "unknown", "retry", "rate_limited"), 0
    )
    with tenancy.office_context(office.id):
        # Lock first, then read: the lock takes the due rows in order straight from
        # the outbox's due-queue index and stops at `limit`, where locking the joined
        # read would join and sort every due row of the office for each batch. The
        # debtor's row is locked too: the gate serialises on it (caps), so a row whose
        # debtor another worker is gating right now is left for the next pass instead
        # of this worker waiting for that one's transaction.
        locked = list(
            Message.objects.select_for_update(skip_locked=True, of=("self", "account__debtor"))
            .select_related("account__debtor")
            .only("id", "account__id", "account__debtor__id")
            .filter(
                status__in=[Message.Status.PLANNED, Message.Status.DEFERRED],
                due_at__lte=now,
                channel__in=CLAIMED,
            )  # fmt: skip
            .order_by("due_at", "id")[:limit]
        )
        claimed = (
            list(
                Message.objects.select_related("account__debtor", "contact_point")
                # Encrypted, and not needed to send: decrypting them cost more than rendering.
                .defer("account__debtor__date_of_birth", "account__debtor__ssn_last4")
                .filter(id__any=array(m.id for m in locked))
                .order_by("due_at", "id")
            )
            if locked
            else []
        )
        if not claimed:
            return counts
        _share_related(claimed)
        to_send, events = [], []
        book = WindowBook(office=office, debtor_ids={m.debtor_id for m in claimed})
        held = _send_time_hold(claimed, office=office, now=now, book=book)
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
        # A batch has a handful of distinct templates: flag each once.
        flags = {text: content_flags(" ".join(text)) for text in set(texts.values())}
        attempts = [
            Attempt(
                account_id=m.account_id,
                channel=m.channel,
                at=now,
                contact_point_id=m.contact_point_id,
                message_id=m.id,
                content=flags[texts[m.id]],
            )
            for m in gated
        ]
        # The claim locked these debtors, then read them with their accounts.
        outcomes = evaluate(
            attempts, reserve=True, accounts={m.account_id: m.account for m in gated}
        )
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
        rows_set(
            Message, claimed, ["status", "due_at", "sending_at", "send_time_at", "send_time_reason"]
        )
        Event.objects.bulk_create(events)
        # What the sends need, read once for the batch (still before any provider call).
        channels = {m.channel for m, _ in to_send} - {"letter"}
        budgets = {c: ratelimit.office_budgets(office_id=office.id, channel=c) for c in channels}
        senders = {c: CHANNELS[c].sender(office_id=office.id) for c in channels}
    letters_due = [(m, o) for m, o in to_send if m.channel == "letter"]
    for message, outcome in letters_due:
        counts[_queue_letter(message, outcome, texts[message.id], office, now)] += 1
    allowed, over = [], []
    for channel in sorted(channels):
        rows = [(m, o) for m, o in to_send if m.channel == channel]
        granted = ratelimit.take_many(office_id=office.id, channel=channel,
                                      budgets=budgets[channel], count=len(rows))  # fmt: skip
        # Over the budget: the rest wait, untouched by the provider, for the next round.
        allowed += rows[:granted]
        over += rows[granted:]
    if over:
        _release(over, office_id=office.id)
        counts["rate_limited"] += len(over)
    try:
        for start in range(0, len(allowed), RECORD_EVERY):
            results = []
            try:
                _send_all(allowed[start : start + RECORD_EVERY], texts=texts, senders=senders,
                          office=office, now=now, book=book, results=results)  # fmt: skip
            finally:
                # Recorded a few at a time, once their calls are over; a worker killed
                # before this leaves those rows `sending`, which reconciliation looks up
                # (never a resend): at most RECORD_EVERY of them.
                _record(results, office=office, now=now, counts=counts)
    finally:
        for sender in senders.values():
            sender.close()
    return counts


def _share_related(claimed):
    """Give the rows their creditors and steps as select_related would, but one instance
    of each (a batch has a handful of either, and a model instance per row cost more
    than reading them again): two queries whatever the batch's size."""
    accounts = [m.account for m in claimed]
    ids = array({a.creditor_id for a in accounts})
    creditors = {c.id: c for c in Creditor.objects.filter(id__any=ids)}
    for account in accounts:
        Account.creditor.field.set_cached_value(account, creditors[account.creditor_id])
    step_ids = {m.step_id for m in claimed if m.step_id}
    steps = {s.id: s for s in Step.objects.filter(id__any=array(step_ids))} if step_ids else {}
    for message in claimed:
        Message.step.field.set_cached_value(message, steps.get(message.step_id))


def _queue_letter(message, outcome, text, office, now):
    try:
        letters.letter_queue(
            message=message, text=text, disclosures=outcome.disclosures, office=office, now=now
        )
    except Exception:
        # Nothing was queued (one transaction): free the slot and try on a later pass.
        logger.exception("letter not queued; retried", extra={"message_id": message.pk})
        _release([(message, outcome)], office_id=message.office_id)
        return "retry"
    return "sent"


def _sent_record(messages, now):
    """Record the provider's ids, move the rows to `sent` and put "sent" on their
    timelines, in one statement (each row rewritten once). A status callback may have
    beaten us here: a row already past `sent` keeps its status and time. Needs the
    office in context."""
    if connection.vendor != "postgresql":
        Message.objects.filter(
            pk__in=[m.pk for m in messages], status__in=lower_statuses(Message.Status.SENT)
        ).update(status=Message.Status.SENT, sent_at=now)
        Message.objects.bulk_update(messages, ["provider", "provider_message_id"])
        Event.objects.bulk_create(
            _event(m, Event.Kind.MESSAGE_SENT, now, SENT_SUMMARY[m.channel]) for m in messages
        )
        return
    rows = ", ".join(["(%s, %s, %s, %s)"] * len(messages))
    params = [
        v
        for m in messages
        for v in (m.pk, m.provider, m.provider_message_id or "", SENT_SUMMARY[m.channel])
    ]
    lower = lower_statuses(Message.Status.SENT)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH v(id, provider, provider_message_id, summary) AS (VALUES {rows}), "  # noqa: S608 (our own names)
            f"sent AS (UPDATE {Message._meta.db_table} AS m SET "
            "provider = v.provider, provider_message_id = v.provider_message_id, "
            "status = CASE WHEN m.status = ANY(%s) THEN %s ELSE m.status END, "
            "sent_at = CASE WHEN m.status = ANY(%s) THEN %s ELSE m.sent_at END "
            "FROM v WHERE m.id = v.id::bigint AND m.office_id = %s "
            "RETURNING m.id, m.office_id, m.account_id, m.debtor_id, m.channel, v.summary) "
            f"INSERT INTO {Event._meta.db_table} "
            "(office_id, account_id, debtor_id, kind, occurred_at, channel, summary, data) "
            "SELECT office_id, account_id, debtor_id, %s, %s, channel, summary, "
            "jsonb_build_object('message_id', id) FROM sent",
            [*params, lower, Message.Status.SENT, lower, now, messages[0].office_id,
             Event.Kind.MESSAGE_SENT, now],
        )  # fmt: skip


def _release(rows, *, office_id):
    """Give back rows taken for sending that never reached the provider: their cap
    slots are freed and they are `planned` again, due as before."""
    with tenancy.office_context(office_id):
        ContactAttempt.objects.filter(decision_id__in=[o.decision_id for _, o in rows]).delete()
        Message.objects.filter(
            pk__in=[m.pk for m, _ in rows], status=Message.Status.SENDING
        ).update(status=Message.Status.PLANNED, sending_at=None)


def _send_time_hold(claimed, *, office, now, book):
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
            allowed=lambda at, m=message: book.end(m.debtor_id, at) is not None,
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


_ZonePoint = namedtuple("_ZonePoint", "debtor_id kind timezone_source candidate_timezones")


class WindowBook:
    """The debtors' allowed windows (the same zones, hours and inconvenient times the
    gate's F-TIME and F-PREF rules use), read for a whole batch in a fixed number of
    queries. Needs the office in context."""

    def __init__(self, *, office, debtor_ids):
        self.office = office
        self.points, self.prefs = defaultdict(list), defaultdict(list)
        # Only what the zones need, as plain rows (the rest is encrypted, and model
        # instances cost more than the window maths).
        debtors = array(debtor_ids)
        rows = ContactPoint.objects.filter(debtor_id__any=debtors).values_list(*_ZonePoint._fields)
        for row in rows:
            self.points[row[0]].append(_ZonePoint._make(row))
        for pref in ContactPreference.objects.filter(debtor_id__any=debtors):
            self.prefs[pref.debtor_id].append(pref)
        # The office's policies, newest first (policy_in_force, for any instant).
        self.policies = list(OfficePolicy.objects.order_by("-effective_from"))
        self.default_policy = OfficePolicy(office=office)
        self.zones = {}

    def _policy(self, at):
        for policy in self.policies:
            if policy.effective_from <= at:
                return policy
        return self.default_policy

    def end(self, debtor_id, at):
        """The end of the debtor's allowed window that `at` is in, or None."""
        zones = self.zones.get(debtor_id)
        if zones is None:
            zones = self.zones[debtor_id] = frozenset(
                debtor_candidate_zones(self.points[debtor_id])
            )
        window = federal.window_for(SimpleNamespace(office=self.office, policy=self._policy(at)))
        prefs = [p for p in self.prefs[debtor_id] if p.effective_from <= at
                 and (p.effective_to is None or p.effective_to > at)]  # fmt: skip
        quiet = federal.quiet_spans(SimpleNamespace(preferences=prefs)) if prefs else ()
        return windows.window_end(at, zones, window=window, quiet=quiet)


def _event(message, kind, at, summary):
    return Event(office_id=message.office_id, account_id=message.account_id,
                 debtor_id=message.debtor_id, kind=kind, occurred_at=at, channel=message.channel,
                 summary=summary_fit(summary), data={"message_id": message.id})  # fmt: skip


def _send_all(rows, *, texts, senders, office, now, book, results):
    """Render and hand each row to its channel, outside any transaction; append
    (message, outcome, result, detail) to `results` as each call returns, so that what
    went out is recorded even if a later row raises."""
    for message, outcome in rows:
        account = message.account
        values = rendering.merge_values(
            account=account, debtor=account.debtor, office=office,
            creditor=account.creditor, message_id=message.id,
        )  # fmt: skip
        text = texts[message.id]
        subject = rendering.render(text[0], values)
        body = rendering.render(text[1], values, disclosures=outcome.disclosures)
        # A text must not wait at the provider past the debtor's window.
        valid_until = book.end(message.debtor_id, now) if message.channel == "sms" else None
        try:
            provider_id = senders[message.channel].send(
                to=message.contact_point.value, subject=subject, body=body,
                message_id=message.id, valid_until=valid_until,
            )  # fmt: skip
        except TransientError:
            results.append((message, outcome, "retry", None))
        except PermanentError as exc:
            results.append((message, outcome, "failed", exc))
        except Exception:
            # The provider may have sent it: leave it `sending` for reconciliation.
            logger.exception(
                "send outcome unknown; left for reconciliation",
                extra={"message_id": message.pk, "channel": message.channel},
            )
            results.append((message, outcome, "unknown", None))
        else:
            results.append((message, outcome, "sent", provider_id))


def _record(results, *, office, now, counts):
    """Record a batch's send results in a fixed number of queries (a failed send, rare,
    costs its own few)."""
    by_kind = defaultdict(list)
    for message, outcome, kind, detail in results:
        by_kind[kind].append((message, outcome, detail))
        counts[kind] += 1
    if by_kind["retry"]:
        # Nothing went out: free the cap slots and try again on a later pass.
        _release([(m, o) for m, o, _ in by_kind["retry"]], office_id=office.id)
    for message, outcome, exc in by_kind["failed"]:
        _fail(message, outcome, exc, now)
    sent = by_kind["sent"]
    if not sent:
        return
    with tenancy.office_context(office.id):
        for message, _, provider_id in sent:
            message.provider = getattr(CHANNELS[message.channel], "PROVIDER", message.channel)
            message.provider_message_id = provider_id
        _sent_record([m for m, _, _ in sent], now)


SENT_SUMMARY = {"sms": "SMS sent", "email": "Email sent"}


def _fail(message, outcome, exc, now):
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
