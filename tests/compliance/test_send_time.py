"""Caps hold under concurrency, and what is learned after planning wins at send time."""

import threading
from datetime import timedelta

import pytest
from django.db import connection

from compliance import services
from compliance.models import ContactAttempt
from debtors.models import Circumstance
from recovery import tenancy
from tests.compliance.conftest import NOON, Scene
from tests.compliance.test_rules import add_calls


def race(scene, channel, workers=2):
    """Gate the same attempt in `workers` threads (own connections) at the same moment."""
    barrier = threading.Barrier(workers)
    results, errors = [], []

    def work():
        try:
            barrier.wait(timeout=10)
            results.append(scene.decide_one(channel, reserve=True))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_two_workers_cannot_both_take_the_last_call_of_seven(office_a):
    office_a.collector_type = "first_party"
    office_a.save()
    scene = Scene(office_a)
    add_calls(scene, 6, start=NOON - timedelta(days=5))
    outcomes = race(scene, "call")
    assert sorted(o.outcome for o in outcomes) == ["allow", "defer"]
    with tenancy.office_context(office_a.id):
        assert ContactAttempt.objects.filter(channel="call").count() == 7


@pytest.mark.django_db(transaction=True)
def test_two_workers_cannot_both_take_massachusetts_second_slot(office_a):
    office_a.collector_type = "first_party"
    office_a.save()
    scene = Scene(office_a, state="MA", zip_code="02108", phone="+16175550100")
    add_calls(scene, 1, start=NOON - timedelta(days=2))
    outcomes = race(scene, "call", workers=3)
    assert sorted(o.outcome for o in outcomes) == ["allow", "defer", "defer"]
    deferred = [o for o in outcomes if o.outcome == "defer"]
    assert all("MA-CALLS" in o.rule_ids for o in deferred)


def _stop(scene):
    services.consent_record(
        contact_point=scene.phone,
        channel="sms",
        kind="opt_out",
        source="sms_reply",
        method="STOP reply",
        effective_from=NOON - timedelta(minutes=1),
    )


def _dispute(scene):
    services.dispute_record(
        account=scene.account, received_via="email", received_at=NOON - timedelta(minutes=1)
    )


def _cease(scene):
    services.hold_place(
        debtor=scene.debtor,
        kind="cease",
        scope="debtor",
        source="letter",
        effective_from=NOON - timedelta(minutes=1),
    )


def _attorney(scene):
    Circumstance.objects.create(
        debtor=scene.debtor,
        kind="attorney",
        source="agent",
        details={"firm": "Lee LLP"},
        effective_from=NOON - timedelta(minutes=1),
    )


@pytest.mark.parametrize(("news", "rule"), [
    (_stop, "T-REVOKE"), (_dispute, "F-DISPUTE"), (_cease, "F-CEASE"), (_attorney, "F-ATTY"),
])  # fmt: skip
def test_news_after_planning_blocks_the_message_at_send_time(scene, news, rule):
    planned = scene.decide_one("sms", at=NOON)
    assert planned.outcome == "allow"
    with tenancy.office_context(scene.office.id):
        news(scene)
    at_send = scene.decide_one("sms", at=NOON, reserve=True)
    assert at_send.outcome == "block"
    assert rule in at_send.rule_ids
    with tenancy.office_context(scene.office.id):
        assert not ContactAttempt.objects.filter(channel="sms").exists()
