"""The webhook inbox (`recovery.inbox`) with Stripe's events: the request verifies and
stores, a worker applies; a bad event is retried with backoff without holding up the
rest; a worker dying mid-batch leaves what it had not finished for the next one; old
payloads are forgotten."""

import time
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from payments.models import GatewayEvent
from recovery import inbox, tenancy
from recovery.models import InboundWebhook
from tests.payments import test_stripe
from tests.payments.conftest import (
    WHSEC,
    post_event,
    session_object,
    sign,
    stripe_event,
)
from tests.payments.test_stripe import payment

pytestmark = pytest.mark.django_db
started = test_stripe.started  # the fixture: a $200 checkout on a $500 account


def die(payload, received_at):
    raise SystemExit("worker killed")  # not an Exception: nothing in the drain catches it


def die_together(items):
    die(*items[0])


def test_the_request_stores_the_event_and_the_worker_applies_it(client, started, lazy_worker):
    scene, p, _ = started
    response = post_event(client, stripe_event("checkout.session.completed", session_object(p)))
    assert response.status_code == 200 and response.json() == {"received": True}
    assert payment(p).status == "pending"
    (row,) = response.inbox
    assert row.applied_at is None and row.payload["event"]["type"] == "checkout.session.completed"

    assert inbox.drain_once() == 1
    row.refresh_from_db()
    assert row.applied_at is not None and row.outcome == "succeeded" and row.error == ""
    assert payment(p).status == "succeeded"
    assert inbox.drain_once() == 0  # nothing is applied twice


def test_a_forged_event_is_not_stored(client, started, lazy_worker):
    scene, p, _ = started
    response = post_event(
        client, stripe_event("checkout.session.completed", session_object(p)), secret="whsec_x"
    )
    assert response.status_code == 400
    assert not InboundWebhook.objects.exists()


@pytest.mark.usefixtures("stripe_keys")
@pytest.mark.parametrize("body", ["not json {", '["a list"]', '{"object": "event"}'])
def test_a_signed_body_that_is_not_an_event_gets_400_and_is_not_stored(client, body):
    response = client.post("/payments/stripe/webhook/", data=body,
                           content_type="application/json",
                           HTTP_STRIPE_SIGNATURE=sign(body, WHSEC))  # fmt: skip
    assert response.status_code == 400
    assert response.content == b"The body is not a Stripe event."
    assert not InboundWebhook.objects.exists()


def test_a_failing_event_is_retried_with_backoff_and_the_rest_still_apply(
    client, started, lazy_worker
):
    scene, p, _ = started
    broken = {"id": "evt_broken", "object": "event", "type": "checkout.session.completed"}
    post_event(client, broken)  # signed, so stored; it has no data to apply
    post_event(client, stripe_event("checkout.session.completed", session_object(p)))

    assert inbox.drain_once() == 2
    bad = InboundWebhook.objects.get(key__endswith=":evt_broken")
    assert bad.applied_at is None and bad.attempts == 1 and bad.error.startswith("KeyError")
    assert bad.next_attempt_at > timezone.now() + timedelta(seconds=50)
    assert payment(p).status == "succeeded"  # the good one behind it went through

    assert inbox.drain_once() == 0  # not before its backoff
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert inbox.drain_once() == 1
        bad.refresh_from_db()
        assert bad.attempts == 2 and bad.next_attempt_at > timezone.now() + timedelta(minutes=1)

    InboundWebhook.objects.filter(pk=bad.pk).update(
        attempts=inbox.MAX_ATTEMPTS, next_attempt_at=None
    )
    assert inbox.drain_once() == 0  # left for a person, with its error


def test_a_worker_dying_mid_batch_leaves_the_rest_for_the_next_once_its_lease_ends(
    client, started, lazy_worker, monkeypatch
):
    scene, p, _ = started
    monkeypatch.setitem(inbox.BATCH_HANDLERS, "crash", "tests.payments.test_inbox.die_together")
    inbox.receive("crash", "1", {})
    post_event(client, stripe_event("checkout.session.completed", session_object(p)))

    with pytest.raises(SystemExit):  # before the Stripe rows (groups go in arrival order)
        inbox.drain_once()
    assert payment(p).status == "pending"
    assert not InboundWebhook.objects.filter(applied_at__isnull=False).exists()
    assert inbox.drain_once() == 0  # the dead worker's batch is still leased

    InboundWebhook.objects.filter(provider="crash").delete()
    with time_machine.travel(timezone.now() + inbox.LEASE + timedelta(seconds=1)):
        assert inbox.drain_once() == 1
    assert payment(p).status == "succeeded"
    with tenancy.office_context(scene.office.id):
        assert GatewayEvent.objects.count() == 1
    assert InboundWebhook.objects.get(provider="stripe").outcome == "succeeded"


def test_an_unknown_provider_is_kept_with_a_clear_error(lazy_worker):
    inbox.receive("pager", "x1", {"hello": "world"})
    assert inbox.drain_once() == 1
    row = InboundWebhook.objects.get()
    assert row.applied_at is None and "no handler for 'pager' webhooks" in row.error


def test_the_sweep_forgets_payloads_applied_two_weeks_ago_and_drains_the_rest(lazy_worker):
    now = timezone.now()
    InboundWebhook.objects.create(
        provider="pager", key="old", payload={}, applied_at=now - timedelta(days=15)
    )
    InboundWebhook.objects.create(
        provider="pager", key="recent", payload={}, applied_at=now - timedelta(days=2)
    )
    inbox.receive("pager", "pending", {})
    inbox.webhooks_sweep()
    assert set(InboundWebhook.objects.values_list("key", flat=True)) == {"recent", "pending"}
    assert InboundWebhook.objects.get(key="pending").attempts == 1  # tried (no handler)


@pytest.mark.django_db(transaction=True)
def test_a_kept_connection_that_died_is_replaced_and_the_event_still_stored(
    client, started, lazy_worker
):
    """No SELECT 1 before the INSERT: a dead connection fails the INSERT itself, which
    is sent again on a new one (the event is stored once, the provider gets its 200)."""
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("terminating a backend is PostgreSQL's")
    scene, p, _ = started
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    other = connections.create_connection("default")  # the same role may end its own backends
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    response = post_event(client, stripe_event("checkout.session.completed", session_object(p)))
    assert response.status_code == 200
    (row,) = response.inbox
    assert row.applied_at is None  # stored, for the worker
    assert inbox.drain_once() == 1 and payment(p).status == "succeeded"


def test_an_event_whose_kick_was_skipped_is_taken_by_the_drains_last_look(
    client, started, lazy_worker, monkeypatch, django_capture_on_commit_callbacks
):
    """A process asks Redis for a drain at most every KICK_EVERY; the drain it kicked
    looks once more QUIET after finding the inbox empty, and finds what came meanwhile."""
    scene, p, _ = started
    waited = []

    def sleep(seconds):  # the drain's wait: the event arrives during it
        waited.append(seconds)
        if len(waited) == 1:
            kicked = inbox._last_kick = time.monotonic()  # this process kicked just now,
            monkeypatch.setattr(inbox, "KICK_EVERY", 3600)  # however slow the request is
            with django_capture_on_commit_callbacks(execute=True):
                post_event(client, stripe_event("checkout.session.completed", session_object(p)))
            assert inbox._last_kick == kicked  # so it asked Redis for no drain of its own

    monkeypatch.setattr(inbox.time, "sleep", sleep)
    assert inbox.webhooks_drain() == 1
    assert waited == [inbox.QUIET, inbox.QUIET]  # found one, looked again, found none
    assert payment(p).status == "succeeded"
