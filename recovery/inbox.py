"""The webhook inbox: verify, store, answer; apply in batches behind the request.

A provider's webhook view checks the signature and calls `receive`, one INSERT (a
re-delivery of a stored event is dropped by the unique key), then answers 200. The
providers retry for days when the answer is slow or an error, and they send bursts: the
request holds no lock and does none of the event's work. `webhooks_drain` (a Celery task
on its own `webhooks` queue, kicked by the first event of a burst and swept by beat)
applies the stored rows oldest first, each in its own transaction through its provider's
handler: the row is marked applied in the same transaction as the event's effects, so a
worker killed mid-batch leaves the events it had not finished to be applied again (when
the batch's lease ends), never half of one. A handler that raises is retried with
backoff; after `MAX_ATTEMPTS` the row stays for a person (Django admin, "Inbound
webhooks"), with its error.

`HANDLERS` names each provider's handler; it takes the stored payload (JSON) and the
time the request arrived, and returns a short outcome. The effects stay exactly
once on their own too (each provider event's id is unique per office where it lands).
"""

import functools
import json
import logging
import time
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from recovery.bulk import rows_set

logger = logging.getLogger(__name__)

BATCH = 200
ROUNDS = 25  # batches per task before it hands over to a fresh one
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)  # a claimed batch is taken again after this if its drain died
LOCK_RETRIES = 3
KEEP_APPLIED = timedelta(days=14)  # payloads hold phone numbers and addresses
KICKED_KEY = "webhooks:drain-queued"
KICK_TIMEOUT = 30  # a lost kick is retried after this long (and beat sweeps every minute)
KICK_EVERY = 0.1  # seconds: a process kicks at most this often (one Redis call per burst)
QUIET = 0.15  # seconds a drain waits for a last look: longer than KICK_EVERY (see kick)
_last_kick = 0.0  # this process's, time.monotonic()

# provider -> "module.function" taking (payload, received_at) and returning an outcome
HANDLERS = {
    "stripe": "payments.services.stripe_events.stripe_inbox_apply",
    "twilio_status": "campaigns.webhooks.twilio_status_apply",
    "email_tracking": "campaigns.webhooks.email_tracking_apply",
}
# provider -> "module.function" taking [(payload, received_at)] and returning their
# outcomes in order: the provider's rows of a batch applied together, set-based
BATCH_HANDLERS = {
    "stripe": "payments.services.stripe_events.stripe_inbox_apply_batch",
    "twilio_status": "campaigns.webhooks.twilio_status_apply_batch",
    "email_tracking": "campaigns.webhooks.email_tracking_apply_batch",
}
# provider -> "module.function" taking a payload: whether its batch handler takes it
# (without one, every row of the provider goes to the batch handler)
BATCH_TAKES = {
    "stripe": "payments.services.stripe_events.stripe_inbox_together",
}


def receive(provider, key, payload):
    """Store a verified event (nothing when (provider, key) is stored already) and make
    sure a drain is on its way. One statement, committed on its own: call it outside a
    transaction (webhook views are `non_atomic_requests`)."""
    sql = (
        f"INSERT INTO {_table()} (provider, key, payload, received_at, outcome, attempts, "  # noqa: S608 (our table name)
        "error) VALUES (%s, %s, %s, %s, '', 0, '') ON CONFLICT (provider, key) DO NOTHING"
    )
    params = [provider, key[:200], json.dumps(payload), timezone.now()]
    # The INSERT is its own health check (Django's would cost a SELECT 1 first): a kept
    # connection that died fails it, and it is sent again on a new one (it is idempotent).
    connection.health_check_done = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    except (InterfaceError, OperationalError):
        if connection.in_atomic_block:
            raise
        connection.close()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    kick()


def kick():
    """Queue a drain, after the stored rows commit, unless one is queued already (one
    per burst, not one per event). Runs the drain at once when Celery is eager (tests).

    A process that kicked less than KICK_EVERY ago does not ask Redis again: the drain
    it kicked, or the one queued already, had not started then, and every drain takes
    a last look QUIET after it found the inbox empty, so it sees this row."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        webhooks_drain.delay()
    else:
        transaction.on_commit(_queue_drain)


def _queue_drain():
    global _last_kick
    now = time.monotonic()
    if now - _last_kick < KICK_EVERY:
        return
    _last_kick = now
    if cache.add(KICKED_KEY, 1, timeout=KICK_TIMEOUT):
        webhooks_drain.delay()  # routed to the `webhooks` queue (settings)


@functools.cache
def _table():
    from recovery.models import InboundWebhook

    return connection.ops.quote_name(InboundWebhook._meta.db_table)


def backoff(attempts):
    """1, 2, 4 … minutes, at most six hours."""
    return timedelta(minutes=min(2 ** (attempts - 1), 360))


def drain_once(limit=BATCH):
    """Apply up to `limit` pending rows, oldest first; returns how many were taken.

    The batch is claimed by one statement: each row's `next_attempt_at` becomes a lease
    (`LEASE`), so a second drain takes the next rows, and a drain that dies leaves its
    rows to be taken again when the lease ends. The rows are then applied provider by
    provider in arrival order: a run of rows its batch handler takes together, a row it
    does not take alone, each in its own transaction, which ends by marking
    them applied with their outcomes (one write per row): the effects and the mark
    commit together, and a row that is somehow taken twice is applied by whichever
    marks it first (the other finds it marked, and its transaction is undone)."""
    rows = _claim(limit)
    by_provider = {}
    for row in rows:
        by_provider.setdefault(row.provider, []).append(row)
    for provider, own in by_provider.items():
        if provider not in BATCH_HANDLERS:
            for row in own:
                _apply(row)
            continue
        takes = import_string(BATCH_TAKES[provider]) if provider in BATCH_TAKES else None
        run = []  # rows the batch handler takes, in a row: applied together, in their place
        for row in own:
            if _taken_together(takes, row):
                run.append(row)
                continue
            _apply_run(provider, run)
            run = []
            _apply(row)
        _apply_run(provider, run)
    return len(rows)


def _apply_run(provider, rows):
    if rows and not _apply_together(provider, rows):
        for row in rows:  # the group failed: one at a time, so only the bad one backs off
            _apply(row)


def _taken_together(takes, row):
    """Whether the batch handler takes the row (all of them, without a predicate); a
    payload the predicate cannot read goes alone, where its error is kept."""
    if takes is None:
        return True
    try:
        return bool(takes(row.payload))
    except Exception:
        return False


def _claim(limit):
    """Lease up to `limit` pending rows, oldest first: the rows (id, provider, payload,
    received_at, attempts) in id order."""
    from recovery.models import InboundWebhook

    now = timezone.now()
    if connection.vendor == "postgresql":
        table = _table()
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET next_attempt_at = %s WHERE id IN (SELECT id FROM {table} "  # noqa: S608 (our table name)
                "WHERE applied_at IS NULL AND attempts < %s AND (next_attempt_at IS NULL "
                "OR next_attempt_at <= %s) ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED) "
                "RETURNING id, provider, payload, received_at, attempts",
                [now + LEASE, MAX_ATTEMPTS, now, limit],
            )
            found = cursor.fetchall()
        return [
            InboundWebhook(id=i, provider=provider, received_at=at, attempts=attempts,
                           payload=json.loads(payload) if isinstance(payload, str) else payload)
            for i, provider, payload, at, attempts in sorted(found)
        ]  # fmt: skip
    with transaction.atomic():
        ids = list(
            InboundWebhook.objects.select_for_update(skip_locked=True)
            .filter(applied_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .order_by("id")
            .values_list("id", flat=True)[:limit]
        )
        InboundWebhook.objects.filter(id__in=ids).update(next_attempt_at=now + LEASE)
    rows = InboundWebhook.objects.filter(id__in=ids).order_by("id")
    return list(rows.only("id", "provider", "payload", "received_at", "attempts"))


def _mark_applied(rows, outcomes):
    """Mark `rows` applied with their outcomes, in one statement, unless another drain
    has (then `_Taken`: the caller's transaction, and its effects, are undone)."""
    from recovery.models import InboundWebhook

    now = timezone.now()
    for row, outcome in zip(rows, outcomes, strict=True):
        row.outcome, row.applied_at, row.error = str(outcome or "")[:200], now, ""
    if connection.vendor == "postgresql":
        marked = rows_set(InboundWebhook, rows, ["applied_at", "outcome", "error"],
                          only_if="t.applied_at IS NULL")  # fmt: skip
    else:
        marked = InboundWebhook.objects.filter(
            pk__in=[row.pk for row in rows], applied_at__isnull=True
        ).update(applied_at=now, error="")
        InboundWebhook.objects.bulk_update(rows, ["outcome"])
    if marked != len(rows):
        raise _Taken(f"{len(rows) - marked} of the rows were applied meanwhile")


def _apply_together(provider, rows):
    """One provider's rows of a batch in one transaction, through its batch handler:
    True when they were applied; False when anything went wrong (a deadlock, one bad
    event, a row another drain applied meanwhile). Nothing of the group is then kept,
    and each row goes alone through `_apply`, which retries and backs off the bad one
    only."""
    try:
        with transaction.atomic():
            _commit_lazily()
            handler = import_string(BATCH_HANDLERS[provider])
            outcomes = handler([(row.payload, row.received_at) for row in rows])
            if len(outcomes) != len(rows):
                raise ValueError(f"{provider}: {len(outcomes)} outcomes for {len(rows)} rows")
            _mark_applied(rows, outcomes)
            return True
    except Exception as exc:  # the rows go one by one instead
        reason = f"{type(exc).__name__}: {exc}"[:300]
        logger.warning(
            "%s webhook batch of %d rows applied one by one (%s)",
            provider,
            len(rows),
            reason,
            extra={"provider": provider, "rows": len(rows), "reason": reason},
        )
        return False


class _Taken(Exception):
    pass


def _apply(row):
    """One row in its own transaction; its outcome, or None when it was not applied."""
    from recovery.models import InboundWebhook

    for attempt in range(1, LOCK_RETRIES + 1):
        try:
            with transaction.atomic():
                _commit_lazily()
                if row.provider not in HANDLERS:
                    raise LookupError(f"no handler for {row.provider!r} webhooks")
                outcome = import_string(HANDLERS[row.provider])(row.payload, row.received_at)
                _mark_applied([row], [outcome])
                return row.outcome
        except _Taken:
            return None  # another drain applied it
        except OperationalError as exc:
            if _lock_conflict(exc) and attempt < LOCK_RETRIES:
                continue  # a deadlock with another drain: PostgreSQL chose us; go again
            error = exc
        except Exception as exc:  # the next rows still go; this one is retried later
            error = exc
        break
    attempts = row.attempts + 1
    InboundWebhook.objects.filter(pk=row.pk).update(
        attempts=attempts,
        error=f"{type(error).__name__}: {error}"[:2000],
        next_attempt_at=timezone.now() + backoff(attempts),
    )
    logger.error(
        "webhook not applied",
        exc_info=error,
        extra={"provider": row.provider, "id": row.pk, "attempts": attempts},
    )
    return None


def _commit_lazily():
    """The row's transaction need not wait for its WAL to reach the disk: if PostgreSQL
    crashed before it did, the row's effects and its applied mark are lost together and
    the row is applied again; the stored event itself was committed in full."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def _lock_conflict(exc):
    return getattr(exc.__cause__, "pgcode", None) in ("40P01", "40001")


@shared_task(acks_late=True)
def webhooks_drain():
    """Apply what the inbox holds. The kick's key is cleared first, so an event stored
    while this runs queues the next drain, or, when its process had just kicked, is
    found by the last look (nothing waits for the sweep)."""
    cache.delete(KICKED_KEY)
    taken = 0
    for _ in range(ROUNDS):
        done = drain_once()
        taken += done
        if done < BATCH:
            if settings.CELERY_TASK_ALWAYS_EAGER:
                return taken  # kicked per event, in the request: no kick was skipped
            time.sleep(QUIET)  # the last look, for rows whose kick was skipped (kick)
            done = drain_once()
            taken += done
            if not done:
                return taken
    kick()  # more is waiting: a fresh task takes over (no task runs for minutes)
    return taken


@shared_task
def webhooks_sweep():
    """Beat, every minute: drain what a lost kick or a retry's backoff left, and forget
    payloads applied more than KEEP_APPLIED ago."""
    from recovery.models import InboundWebhook

    InboundWebhook.objects.filter(applied_at__lt=timezone.now() - KEEP_APPLIED).delete()
    return webhooks_drain()
