"""Send-rate limits per office and provider, and platform-wide per provider, held in
Redis: a batch over a budget sends what the budget allows and leaves the rest `planned`
for the next round (never failed, never sent twice), and every dispatcher — of every
office, for the platform's budget — draws on the same budget."""

import json
import threading
from datetime import timedelta

import pytest
import responses
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
from tests.campaigns.twilio_fakes import (
    MESSAGES_URL,
    form,
    message_json,
    new_sid,
    twilio_settings,  # noqa: F401
)
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
        assert ratelimit.office_budgets(office_id=office_a.id, channel="email").office == (1, 1)
        assert ratelimit.office_budgets(office_id=office_a.id, channel="sms").office == (10, 1)
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


# --- the platform-wide budget: every office sending through the platform's account --


def test_the_platform_budget_is_shared_by_every_office():
    platform = (3, 60)
    granted = [
        ratelimit.take(office_id=office_id, channel="sms", rate=(10, 60), platform=platform)
        for office_id in (1, 2, 1, 2, 1)
    ]
    # Each office is far below its own limit: the platform's cap stops the fourth send.
    assert granted == [True, True, True, False, False]
    # Email has a budget of its own on the platform.
    assert ratelimit.take(office_id=1, channel="email", rate=None, platform=platform)


def test_a_send_refused_by_one_budget_takes_nothing_from_the_other():
    budgets = ratelimit.Budgets(office=(2, 60), platform=(3, 60))
    assert ratelimit.take_many(office_id=1, channel="sms", budgets=budgets, count=5) == 2
    # Office 1's budget is spent; its refused sends left the platform's third slot free.
    assert ratelimit.take_many(office_id=1, channel="sms", budgets=budgets, count=1) == 0
    assert ratelimit.take_many(office_id=2, channel="sms", budgets=budgets, count=5) == 1


def test_platform_budget_comes_from_settings_unless_the_office_has_its_own_account(
    office_a, office_b, settings
):
    settings.RATE_LIMITS = {"sms": "10/s", "email": "5/s", "platform": {"sms": "4/s"}}
    with tenancy.office_context(office_a.id):
        budgets = ratelimit.office_budgets(office_id=office_a.id, channel="sms")
        assert budgets == ratelimit.Budgets(office=(10, 1), platform=(4, 1))
        assert ratelimit.office_budgets(office_id=office_a.id, channel="email").platform is None
    with tenancy.office_context(office_b.id):
        ProviderCredential.objects.create(
            provider=ProviderCredential.Provider.TWILIO,
            secrets=json.dumps({"account_sid": "AC" + "1" * 32, "auth_token": "t",
                                "from_number": "+12125550199"}),
        )  # fmt: skip
        # Its own Twilio account: the platform's shared account is not drawn on.
        budgets = ratelimit.office_budgets(office_id=office_b.id, channel="sms")
        assert budgets == ratelimit.Budgets(office=(10, 1), platform=None)


def planned_texts(office, numbers):
    office.collector_type = "first_party"  # texts through Twilio are allowed (T-CARRIER)
    office.save()
    scenes = [Scene(office, phone=number) for number in numbers]
    campaign = campaign_with_steps(office, (0, ["sms"]))
    with tenancy.office_context(office.id):
        planner.enroll(campaign=campaign, accounts=[s.account for s in scenes], now=NOON)
        planner.plan_due(office_id=office.id, now=NOON)
        assert Message.objects.filter(status="planned").count() == len(numbers)


@pytest.mark.usefixtures("twilio_settings")
def test_two_offices_share_the_platform_cap_and_the_rest_wait(office_a, office_b, settings):
    settings.RATE_LIMITS = {"sms": "10/s", "platform": {"sms": "3/s"}}
    planned_texts(office_a, ["+12125550111", "+12125550112"])
    planned_texts(office_b, ["+12125550121", "+12125550122"])

    def created(request):
        return 201, {}, json.dumps(message_json(sid=new_sid(), to=form(request)["To"]))

    with responses.RequestsMock() as twilio:
        twilio.add_callback(responses.POST, MESSAGES_URL, callback=created)
        first_a = dispatch_at(office_a, NOON)
        first_b = dispatch_at(office_b, NOON)
        # Three texts in the platform's second, whichever office sent them.
        assert first_a["sent"] + first_b["sent"] == 3
        assert first_a["rate_limited"] + first_b["rate_limited"] == 1
        assert first_a["failed"] + first_b["failed"] == 0
        assert len(twilio.calls) == 3
        assert sorted(statuses(office_a) + statuses(office_b)) == ["planned"] + ["sent"] * 3
        # Deferred, not failed: the next second sends the last one, once.
        later = NOON + timedelta(seconds=1)
        assert dispatch_at(office_a, later)["sent"] + dispatch_at(office_b, later)["sent"] == 1
        assert sorted(form(c.request)["To"] for c in twilio.calls) == [
            "+12125550111", "+12125550112", "+12125550121", "+12125550122"
        ]  # fmt: skip
    assert statuses(office_a) + statuses(office_b) == ["sent"] * 4


def test_without_redis_the_budgets_still_hold_in_one_process(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    budgets = ratelimit.Budgets(office=(5, 60), platform=(2, 60))
    assert ratelimit.take_many(office_id=1, channel="sms", budgets=budgets, count=3) == 2
    assert ratelimit.take_many(office_id=2, channel="sms", budgets=budgets, count=1) == 0
