"""Kill a real Celery worker at each step of a dispatch batch, start another, and check
that no message reached a provider twice and none was lost (issue #6).

A batch of three messages (one per debtor) is claimed by a worker (`celery -A recovery
worker`, prefork, on Redis) that is SIGKILLed, with its pool child, before the first
provider call, during the second one, or after the second one was answered but before
it was recorded (see tests/campaigns/worker_harness.py for how each point is reached
from outside our code). A fresh worker, 20 minutes later, runs what beat would queue:
dispatch, then reconciliation, twice over. Twilio and Postmark are fakes at the HTTP
boundary that count each message's calls.
"""

import os
import secrets
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from accounts.models import Event
from campaigns import planner
from campaigns.models import Message
from recovery import tenancy
from recovery.celery import app
from recovery.models import WorkItem
from tests.campaigns.test_planner import campaign_with_steps
from tests.campaigns.worker_harness import (
    FakeProviders,
    Worker,
    broker_forget,
    message_statuses,
    owner_connect,
    wait_for,
)
from tests.compliance.conftest import NOON, Scene

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="the worker shares the PostgreSQL test DB"),
]

NUMBERS = ["+12125550101", "+12125550102", "+12125550103"]
DISPATCH, RECONCILE = "recovery.tasks.dispatch_office", "campaigns.tasks.reconcile_office"
# Which provider call the worker is killed at: before the first, during or after the second.
KILL_AT = {"before": 1, "during": 2, "after": 2}


def expected_end(channel, left, called):
    """How a message must end, from what the killed worker left of it: its status and
    whether the provider got it. Returns (status, provider calls, timeline summary)."""
    if left == "sent":  # recorded before the kill
        return "sent", 1, "SMS sent" if channel == "sms" else "Email sent"
    if channel == "email":  # the ESP cannot be asked: a person checks its log
        return "flagged", int(called), "flagged for a person"
    if called:  # Twilio has it: recorded from Twilio's list, never resent
        return "delivered", 1, "found at Twilio after an interrupted send"
    return "sent", 1, "queued again"  # Twilio has none: back to the queue, sent once


@pytest.fixture
def broker_url():
    # A Redis database of the test run's own (WORKER_BROKER_URL), else the suite's.
    url = os.environ.get("WORKER_BROKER_URL") or settings.REDIS_URL
    if not url:
        pytest.fail("The worker tests need Redis: set REDIS_URL (or WORKER_BROKER_URL).")
    return url


@pytest.fixture
def fake(tmp_path):
    fake = FakeProviders(tmp_path)
    yield fake
    fake.close()


@pytest.fixture
def workers(fake, broker_url, tmp_path):
    """Start workers on a queue of this test's own; all are killed at the end."""
    started, queue = [], f"killtest-{secrets.token_hex(6)}"

    def start(clock):
        log = tmp_path / f"worker-{len(started) + 1}.log"
        worker = Worker(fake=fake, broker_url=broker_url, queue=queue, clock=clock, log=log)
        started.append(worker)
        worker.wait_ready()
        fake.worker = worker
        return worker

    def enqueue(*tasks, office_id):
        with app.connection_for_write(broker_url) as conn:
            for task in tasks:
                app.send_task(task, args=[office_id], queue=queue, connection=conn)

    start.enqueue = enqueue
    yield start
    for worker in started:
        worker.kill()
    broker_forget(broker_url, queue)


def planned_batch(office, channel):
    office.collector_type = "first_party"  # texts through Twilio are allowed (T-CARRIER)
    office.save()
    scenes = [Scene(office, phone=number) for number in NUMBERS]
    campaign = campaign_with_steps(office, (0, [channel]))
    with tenancy.office_context(office.id):
        planner.enroll(campaign=campaign, accounts=[s.account for s in scenes], now=NOON)
        planner.plan_due(office_id=office.id, now=NOON)
        ids = list(Message.objects.order_by("due_at", "id").values_list("id", flat=True))
    assert len(ids) == 3
    return ids


@pytest.mark.parametrize("channel", ["sms", "email"])
@pytest.mark.parametrize("point", ["before", "during", "after"])
def test_a_killed_worker_sends_nothing_twice_and_loses_nothing(office_a, fake, workers, channel,
                                                                point):  # fmt: skip
    with time_machine.travel(NOON, tick=True) as clock:
        ids = planned_batch(office_a, channel)
        first = workers(clock=timezone.now())
        fake.kill = (point, KILL_AT[point])
        workers.enqueue(DISPATCH, office_id=office_a.id)
        wait_for("the fake provider to kill the worker", lambda: first.process.poll() is not None,
                 explain=first.tail)  # fmt: skip
        pg = owner_connect()
        left = message_statuses(pg)
        pg.close()
        called = {m: fake.calls[(channel, m)] for m in ids}
        # The kill came where it was meant to: the batch claimed, the killed call's message
        # and the ones after it unrecorded; the provider got none, or the first two.
        nth = KILL_AT[point]
        assert [left[m] for m in ids[nth - 1 :]] == ["sending"] * (4 - nth), left
        assert left[ids[0]] in ("sent", "sending"), left
        assert [called[m] for m in ids[:nth]] == [1] * (nth - 1) + [int(point != "before")]

        # Past the reconciler's 15 minutes, a fresh worker does what beat would queue:
        # dispatch first (as the killed task redelivered would), then reconciliation.
        clock.shift(timedelta(minutes=20))
        second = workers(clock=timezone.now())
        workers.enqueue(DISPATCH, RECONCILE, DISPATCH, RECONCILE, office_id=office_a.id)
        wait_for("the fresh worker to run reconciliation and dispatch twice",
                 lambda: second.succeeded(RECONCILE) == 2 and second.succeeded(DISPATCH) == 2,
                 explain=second.tail)  # fmt: skip

    assert all(n == 1 for n in fake.calls.values()), f"a provider got a message twice: {fake.calls}"
    with tenancy.office_context(office_a.id):
        for n, message_id in enumerate(ids, start=1):
            status, calls, said = expected_end(channel, left[message_id], called[message_id])
            message = Message.objects.get(pk=message_id)
            assert (message.status, fake.calls[(channel, message_id)]) == (status, calls), (
                f"message {n} of 3 (left {left[message_id]}, {called[message_id]} call(s))"
            )
            timeline = list(Event.objects.filter(data__message_id=message_id)
                            .values_list("summary", flat=True))  # fmt: skip
            assert any(said in summary for summary in timeline), timeline
            review = WorkItem.objects.filter(
                kind="review", account_id=message.account_id, detail__contains=f"{message_id} ("
            )
            assert review.exists() == (status == "flagged"), f"message {n}: work item"
