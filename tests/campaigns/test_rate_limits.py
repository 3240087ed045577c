"""Send-rate limits per office and provider, held in Redis: a batch over the budget
sends what the budget allows and leaves the rest `planned` for the next round (never
failed, never sent twice), and every dispatcher draws on the same budget."""

import json
import threading
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection

from campaigns import planner, ratelimit
from campaigns.dispatch import dispatch_due
from campaigns.models import Message
from recovery import tenancy
from recovery.models import ProviderCredential
from tests.campaigns.test_planner import campaign_with_steps
from tests.compliance.conftest import NOON, Scene

pytestmark = pytest.mark.skipif(
    "redis" not in django_settings.CACHES["default"]["BACKEND"].lower(),
    reason="the shared budget lives in Redis (the suite runs with REDIS_URL)",
)


@pytest.fixture(autouse=True)
def small_budget(settings):
    settings.RATE_LIMITS = {"email": "2/s", "sms": "10/s"}


def five_planned_emails(office):
    scenes = [Scene(office, phone=f"+1212555{i:04d}") for i in range(5)]
    campaign = campaign_with_steps(office, (0, ["email"]))
    with tenancy.office_context(office.id):
        planner.enroll(campaign=campaign, accounts=[s.account for s in scenes], now=NOON)
        planner.plan_due(office_id=office.id, now=NOON)
        assert Message.objects.filter(status="planned").count() == 5
    return scenes


def dispatch_at(office, at):
    with time_machine.travel(at, tick=False), tenancy.office_context(office.id):
        return dispatch_due(office=office, now=at)


def statuses(office):
    with tenancy.office_context(office.id):
        return sorted(Message.objects.values_list("status", flat=True))


def test_a_batch_over_the_limit_sends_what_it_may_and_leaves_the_rest(office_a):
    five_planned_emails(office_a)
    first = dispatch_at(office_a, NOON)
    assert (first["sent"], first["rate_limited"], first["failed"]) == (2, 3, 0)
    assert statuses(office_a) == ["planned"] * 3 + ["sent"] * 2
    assert len(mail.outbox) == 2
    # The next rounds (the next seconds) send the rest, each message once.
    assert dispatch_at(office_a, NOON + timedelta(seconds=1))["sent"] == 2
    assert dispatch_at(office_a, NOON + timedelta(seconds=2))["sent"] == 1
    assert statuses(office_a) == ["sent"] * 5
    sent_ids = [m.metadata["message_id"] for m in mail.outbox]
    assert len(sent_ids) == len(set(sent_ids)) == 5


def test_two_dispatchers_share_one_budget(office_a):
    five_planned_emails(office_a)
    assert dispatch_at(office_a, NOON)["sent"] == 2
    # A second dispatcher in the same second (another worker) finds the budget spent.
    second = dispatch_at(office_a, NOON)
    assert (second["sent"], second["rate_limited"]) == (0, 3)
    assert len(mail.outbox) == 2


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_running_at_once_share_one_budget():
    from tests.factories import OfficeFactory

    office = OfficeFactory(slug="rate-race-office")
    five_planned_emails(office)
    barrier, results, errors = threading.Barrier(2), [], []

    def dispatcher():
        try:
            barrier.wait(timeout=10)
            with tenancy.office_context(office.id):
                # Three rows each at most: SKIP LOCKED gives each worker its own rows.
                results.append(dispatch_due(office=office, now=NOON, limit=3))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    with time_machine.travel(NOON, tick=False):
        threads = [threading.Thread(target=dispatcher) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert not errors
    assert all(r["sent"] + r["rate_limited"] > 0 for r in results)  # both had rows to send
    assert sum(r["sent"] for r in results) == 2  # not 2 each
    assert statuses(office) == ["planned"] * 3 + ["sent"] * 2
    assert len(mail.outbox) == 2


def test_concurrent_takers_never_exceed_the_budget():
    # Each thread has its own cache connection, as separate workers would.
    granted, lock = [], threading.Lock()

    def worker():
        for _ in range(5):
            ok = ratelimit.take(office_id=1, channel="email", rate=(3, 60))
            with lock:
                granted.append(ok)

    with time_machine.travel(NOON, tick=False):
        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert granted.count(True) == 3
    assert len(granted) == 40


def test_budgets_are_per_office(office_a, office_b):
    assert ratelimit.take(office_id=office_a.id, channel="email", rate=(1, 60))
    assert not ratelimit.take(office_id=office_a.id, channel="email", rate=(1, 60))
    assert ratelimit.take(office_id=office_b.id, channel="email", rate=(1, 60))
    assert ratelimit.take(office_id=office_a.id, channel="sms", rate=(1, 60))


def test_an_office_credential_can_set_its_own_limit(office_a, settings):
    with tenancy.office_context(office_a.id):
        ProviderCredential.objects.create(
            provider=ProviderCredential.Provider.EMAIL, secrets=json.dumps({"rate_limit": "1/s"})
        )
        assert ratelimit.office_rate(office_id=office_a.id, channel="email") == (1, 1)
        assert ratelimit.office_rate(office_id=office_a.id, channel="sms") == (10, 1)
    five_planned_emails(office_a)
    assert dispatch_at(office_a, NOON)["sent"] == 1


def test_no_limit_configured_means_no_limit(office_a, settings):
    settings.RATE_LIMITS = {}
    five_planned_emails(office_a)
    assert dispatch_at(office_a, NOON)["sent"] == 5


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [
        ("50/s", (50, 1)),
        ("600/min", (600, 60)),
        (" 10 / m ", (10, 60)),
        ("3600/h", (3600, 3600)),
        ("", None),
        (None, None),
        ("0/s", None),
        ("fast", None),
        ("5/week", None),
    ],
)
def test_rates_are_read_leniently(rate, parsed):
    assert ratelimit.rate_parse(rate) == parsed
