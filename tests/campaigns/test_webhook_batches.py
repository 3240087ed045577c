"""Delivery webhooks applied a batch at a time (`recovery.inbox` with the Twilio and
email batch handlers): the same result as one at a time, in arrival order, across
offices; an event that says something about the number still has its effect; a bad
row sends its batch one by one without holding up the rest; and the statements a
batch costs do not grow with its size."""

import pytest
import responses
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Event
from campaigns.models import Campaign, DeliveryEvent, Message
from debtors.models import ContactPoint
from recovery import inbox, tenancy
from recovery.models import InboundWebhook
from tests.campaigns.test_email_tracking import mailgun_event, mailgun_webhooks  # noqa: F401
from tests.campaigns.test_email_tracking import post as email_post
from tests.campaigns.test_twilio_webhooks import NUMBER, callback
from tests.campaigns.twilio_fakes import (
    MESSAGES_URL,
    dispatch,
    message_json,
    new_sid,
    planned,
    signed_post,
    twilio_settings,  # noqa: F401
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("twilio_settings", "lazy_worker")]


def sent(office, channel):
    """(scene, message, sid) for one text or email of `office`, sent."""
    scene = planned(office, channels=(channel,))
    sid = new_sid()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as fake:
        fake.post(MESSAGES_URL, json=message_json(sid=sid, to=NUMBER), status=201)
        assert dispatch(scene)["sent"] == 1
    with tenancy.office_context(office.id):
        message = Message.objects.get(account=scene.account, channel=channel)
        campaign = Campaign.objects.filter(enrollments=message.enrollment_id)
        campaign.update(name=f"{channel} reminders")  # the next one may use the default name
    return scene, message, sid


def store(client, requests):
    """POST each request the provider's way; nothing is applied yet."""
    for kind, args in requests:
        if kind == "twilio":
            response = signed_post(client, *args, drain=False)
        else:
            response = email_post(client, args, drain=False)
        assert response.status_code == 200


def state(office, message):
    with tenancy.office_context(office.id):
        message = Message.objects.select_related("contact_point").get(pk=message.pk)
        events = sorted(
            Event.objects.filter(account=message.account_id, kind__startswith="message_")
            .values_list("kind", "summary")
        )  # fmt: skip
        keys = sorted(DeliveryEvent.objects.filter(message=message).values_list("kind", flat=True))
        point = message.contact_point
    return {"status": (message.status, message.provider_status, message.error_code),
            "timeline": events, "provider events": keys,
            "number": (point.phone_type, point.validity)}  # fmt: skip


@pytest.mark.parametrize("drains", ["one batch", "one at a time"])
def test_a_batch_ends_where_one_at_a_time_does(client, office_a, office_b, drains):
    _, text_a, sid_a = sent(office_a, "sms")
    _, text_b, sid_b = sent(office_b, "sms")
    _, email, _ = sent(office_a, "email")
    requests = [
        ("twilio", callback(text_a, sid_a, "delivered")),
        ("twilio", callback(text_b, sid_b, "sent")),
        ("email", mailgun_event(email, "delivered")),
        ("twilio", callback(text_a, sid_a, "sent")),  # late: never moves it back
        # says the number is a landline: applied alone, in its place
        ("twilio", callback(text_b, sid_b, "undelivered", ErrorCode="30006")),
        ("email", mailgun_event(email, "opened")),
        ("twilio", callback(text_b, sid_b, "delivered")),  # after the failure: stays failed
    ]
    if drains == "one batch":
        store(client, requests)
        assert inbox.drain_once() == len(requests)
    else:
        for request in requests:
            store(client, [request])
            inbox.drain_once()

    assert InboundWebhook.objects.filter(applied_at__isnull=True).count() == 0
    assert set(InboundWebhook.objects.values_list("outcome", flat=True)) == {"applied"}
    a, b = state(office_a, text_a), state(office_b, text_b)
    assert a["status"] == ("delivered", "delivered", "")
    assert a["timeline"] == [("message_delivered", "SMS delivered"), ("message_sent", "SMS sent")]
    assert a["provider events"] == ["delivered", "sent"]
    assert b["status"] == ("failed", "undelivered", "30006")
    assert b["number"][0] == ContactPoint.PhoneType.LANDLINE
    assert b["timeline"] == [
        ("message_blocked", "Number is a landline: no more texts to it (calls unaffected)"),
        ("message_blocked", "SMS undelivered (error 30006)"),
        ("message_delivered", "SMS delivered"),
        ("message_sent", "SMS sent"),
    ]
    assert b["provider events"] == ["delivered", "sent", "undelivered"]
    with tenancy.office_context(office_a.id):
        email = Message.objects.get(pk=email.pk)
        assert (email.status, email.provider_status) == ("delivered", "delivered")
        assert list(
            Event.objects.filter(data__message_id=email.pk, kind="message_delivered")
            .order_by("summary")
            .values_list("summary", flat=True)
        ) == ["Email delivered", "Email opened"]


def test_a_replayed_batch_changes_nothing(client, office_a):
    _, text, sid = sent(office_a, "sms")
    store(client, [("twilio", callback(text, sid, "delivered"))])
    inbox.drain_once()
    before = state(office_a, text)
    InboundWebhook.objects.update(applied_at=None, next_attempt_at=None, outcome="")
    assert inbox.drain_once() == 1
    assert state(office_a, text) == before
    assert InboundWebhook.objects.get().outcome == "unchanged"


def test_a_bad_row_sends_its_batch_one_by_one_and_only_it_waits(client, office_a):
    _, text, sid = sent(office_a, "sms")
    store(client, [("twilio", callback(text, sid, "sent"))])
    inbox.receive("twilio_status", "broken", {"m": str(text.pk)})  # no params: cannot apply
    store(client, [("twilio", callback(text, sid, "delivered"))])

    assert inbox.drain_once() == 3
    broken = InboundWebhook.objects.get(key="broken")
    assert broken.applied_at is None and broken.attempts == 1
    assert broken.error.startswith("KeyError") and broken.next_attempt_at is not None
    assert InboundWebhook.objects.filter(applied_at__isnull=False).count() == 2
    assert state(office_a, text)["status"] == ("delivered", "delivered", "")


def test_a_batchs_statements_do_not_grow_with_its_events(client, office_a):
    _, first, sid = sent(office_a, "sms")
    texts = [first]
    with tenancy.office_context(office_a.id):
        for attempt in range(2, 42):
            clone = Message.objects.get(pk=first.pk)
            clone.pk, clone.attempt, clone.provider_message_id = None, attempt, new_sid()
            clone.save()
            texts.append(clone)

    def drain_queries(batch):
        store(client, [("twilio", callback(m, m.provider_message_id, "delivered"))
                       for m in batch])  # fmt: skip
        with CaptureQueriesContext(connection) as queries:
            assert inbox.drain_once() == len(batch)
        return len(queries)

    assert drain_queries(texts[:5]) == drain_queries(texts[5:])  # 5 events, then 36
    with tenancy.office_context(office_a.id):
        assert set(Message.objects.values_list("status", flat=True)) == {"delivered"}
        assert Event.objects.filter(kind="message_delivered").count() == 41
