"""Messages whose send outcome is unknown (the worker died after the provider call,
before recording it): looked up at Twilio or flagged for a person, never resent blindly."""

from datetime import timedelta

import pytest
import requests
import responses
from django.conf import settings

from campaigns.models import Message
from campaigns.reconcile import reconcile_unknown
from recovery import tenancy
from recovery.models import WorkItem
from tests.campaigns.twilio_fakes import (
    MESSAGES_URL,
    dispatch,
    list_json,
    message_json,
    new_sid,
    planned,
    twilio_settings,  # noqa: F401
)
from tests.compliance.conftest import NOON

pytestmark = pytest.mark.usefixtures("twilio_settings")
NUMBER = "+12125550100"
LATER = NOON + timedelta(minutes=20)


def unknown_sms(office):
    """A text whose create call timed out: Twilio may or may not have it."""
    scene = planned(office)
    with responses.RequestsMock() as fake:
        fake.post(MESSAGES_URL, body=requests.exceptions.ReadTimeout("read timed out"))
        assert dispatch(scene)["unknown"] == 1
    return scene


def reconcile(scene, at=LATER):
    return reconcile_unknown(office=scene.office, now=at)


def the_message(office):
    with tenancy.office_context(office.id):
        return Message.objects.get()


def test_a_text_twilio_did_send_is_recorded_not_resent(office_a):
    scene = unknown_sms(office_a)
    sid = new_sid()
    others = [message_json(sid=new_sid(), to=NUMBER, status="delivered",
                           created=NOON - timedelta(days=3))]  # an older text  # fmt: skip
    found = message_json(sid=sid, to=NUMBER, status="delivered", created=NOON, sent=NOON)
    with responses.RequestsMock() as fake:
        fake.get(MESSAGES_URL, json=list_json([found, *others], NUMBER))
        assert reconcile(scene)["recorded"] == 1
        assert [c.request.method for c in fake.calls] == ["GET"]
        assert "To=%2B12125550100" in fake.calls[0].request.url
    message = the_message(office_a)
    assert (message.status, message.provider_message_id) == ("delivered", sid)
    assert dispatch(scene, at=LATER)["sent"] == 0


def test_a_text_twilio_never_got_goes_back_to_the_queue_and_is_sent_once(office_a):
    scene = unknown_sms(office_a)
    with responses.RequestsMock() as fake:
        fake.get(MESSAGES_URL, json=list_json([], NUMBER))
        assert reconcile(scene)["requeued"] == 1
    assert the_message(office_a).status == "planned"
    with responses.RequestsMock() as fake:
        fake.post(MESSAGES_URL, json=message_json(sid=new_sid(), to=NUMBER), status=201)
        assert dispatch(scene, at=LATER)["sent"] == 1
        assert len(fake.calls) == 1


def test_two_candidate_texts_are_left_to_a_person(office_a):
    scene = unknown_sms(office_a)
    twins = [message_json(sid=new_sid(), to=NUMBER, status="sent", created=NOON)
             for _ in range(2)]  # fmt: skip
    with responses.RequestsMock() as fake:
        fake.get(MESSAGES_URL, json=list_json(twins, NUMBER))
        assert reconcile(scene)["flagged"] == 1
    assert the_message(office_a).status == "flagged"
    with tenancy.office_context(office_a.id):
        assert WorkItem.objects.get(kind="review").account_id == scene.account.id


def test_twilio_unreachable_leaves_it_for_the_next_pass(office_a):
    scene = unknown_sms(office_a)
    with responses.RequestsMock() as fake:
        fake.get(MESSAGES_URL, status=503, json={"message": "Service Unavailable"})
        assert reconcile(scene)["later"] == 1
    assert the_message(office_a).status == "sending"


def test_a_send_still_in_a_workers_hands_is_left_alone(office_a):
    scene = unknown_sms(office_a)
    with responses.RequestsMock() as fake:
        assert reconcile(scene, at=NOON + timedelta(minutes=5)) == {
            "recorded": 0, "requeued": 0, "flagged": 0, "later": 0}  # fmt: skip
        assert len(fake.calls) == 0


def test_an_email_with_an_unknown_outcome_is_flagged_for_a_person(office_a, monkeypatch):
    from campaigns.channels import email as channel

    scene = planned(office_a, channels=("email",))

    def dies_mid_send(self, *args, **kwargs):
        raise OSError("connection reset")

    monkeypatch.setattr(channel.EmailMessage, "send", dies_mid_send)
    assert dispatch(scene)["unknown"] == 1
    monkeypatch.undo()
    assert reconcile(scene)["flagged"] == 1
    assert the_message(office_a).status == "flagged"
    with tenancy.office_context(office_a.id):
        item = WorkItem.objects.get()
        assert "ESP" in item.title and item.account_id == scene.account.id
    assert dispatch(scene, at=LATER)["sent"] == 0  # never resent on its own


def test_reconciliation_runs_on_the_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["reconcile-tick"]
    assert entry["task"] == "campaigns.tasks.reconcile_tick"
