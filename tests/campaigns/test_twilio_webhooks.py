"""Twilio's status callbacks and inbound texts, signed Twilio's way over our public URL
(the app sits behind a TLS proxy): verified, applied once, never moving a message
back; STOP takes effect at once, other replies reach a person."""

from datetime import timedelta

import pytest
import responses
import time_machine
from django.db.models import Q

from accounts.models import Event
from campaigns.models import DeliveryEvent, Message
from debtors.models import Consent, ContactPoint
from recovery import tenancy
from recovery.models import WorkItem
from tests.campaigns.twilio_fakes import (
    ACCOUNT_SID,
    MESSAGES_URL,
    SERVICE_SID,
    dispatch,
    message_json,
    new_sid,
    planned,
    signed_post,
    twilio_settings,  # noqa: F401
)
from tests.compliance.conftest import NOON

pytestmark = pytest.mark.usefixtures("twilio_settings")
STATUS = "/webhooks/twilio/status/"
INBOUND = "/webhooks/twilio/inbound/"
NUMBER = "+12125550100"


@pytest.fixture
def sent_sms(office_a):
    """A text sent through Twilio: (scene, message, sid)."""
    scene = planned(office_a)
    sid = new_sid()
    with responses.RequestsMock() as fake:
        fake.post(MESSAGES_URL, json=message_json(sid=sid, to=NUMBER), status=201)
        assert dispatch(scene)["sent"] == 1
    with tenancy.office_context(office_a.id):
        message = Message.objects.get()
    return scene, message, sid


def callback(message, sid, status, **extra):
    params = {"ApiVersion": "2010-04-01", "AccountSid": ACCOUNT_SID, "MessageSid": sid,
              "SmsSid": sid, "SmsStatus": status, "MessageStatus": status, "To": NUMBER,
              "From": "+15017122661", "MessagingServiceSid": SERVICE_SID, **extra}  # fmt: skip
    return f"{STATUS}?m={message.id}", params


def reload(office, message):
    with tenancy.office_context(office.id):
        return Message.objects.get(pk=message.pk)


def test_delivered_callback_marks_the_text_delivered_on_the_timeline(client, sent_sms):
    scene, message, sid = sent_sms
    response = signed_post(client, *callback(message, sid, "delivered"))
    assert response.status_code == 200
    message = reload(scene.office, message)
    assert (message.status, message.provider_status) == ("delivered", "delivered")
    with tenancy.office_context(scene.office.id):
        assert Event.objects.filter(kind="message_delivered", account=scene.account).count() == 1


@pytest.mark.parametrize("forgery", ["wrong token", "no signature", "tampered body"])
def test_a_forged_callback_gets_403_and_changes_nothing(client, sent_sms, forgery):
    scene, message, sid = sent_sms
    path, params = callback(message, sid, "undelivered", ErrorCode="30005")
    if forgery == "wrong token":
        response = signed_post(client, path, params, token="not-the-auth-token")
    elif forgery == "no signature":
        response = signed_post(client, path, params, signature="")
    else:
        from twilio.request_validator import RequestValidator

        from tests.campaigns.twilio_fakes import AUTH_TOKEN, PUBLIC

        genuine = RequestValidator(AUTH_TOKEN).compute_signature(
            PUBLIC + path, {**params, "MessageStatus": "delivered", "SmsStatus": "delivered"}
        )
        response = signed_post(client, path, params, signature=genuine)
    assert response.status_code == 403
    assert reload(scene.office, message).status == "sent"
    with tenancy.office_context(scene.office.id):
        assert ContactPoint.objects.get(pk=scene.phone.pk).validity == "unverified"
        assert not DeliveryEvent.objects.exists()
        assert not Event.objects.filter(kind="message_delivered").exists()


def test_callbacks_out_of_order_never_move_the_text_back(client, sent_sms):
    scene, message, sid = sent_sms
    for status in ("delivered", "sent", "queued"):
        assert signed_post(client, *callback(message, sid, status)).status_code == 200
    message = reload(scene.office, message)
    assert (message.status, message.provider_status) == ("delivered", "delivered")


def test_a_repeated_callback_is_applied_once(client, sent_sms):
    scene, message, sid = sent_sms
    for _ in range(3):
        assert signed_post(client, *callback(message, sid, "delivered")).status_code == 200
    with tenancy.office_context(scene.office.id):
        assert DeliveryEvent.objects.filter(message=message).count() == 1
        assert Event.objects.filter(kind="message_delivered").count() == 1


def test_an_unknown_number_is_marked_disconnected_and_gets_no_more_texts(client, sent_sms):
    scene, message, sid = sent_sms
    path, params = callback(message, sid, "undelivered", ErrorCode="30005")
    assert signed_post(client, path, params).status_code == 200
    message = reload(scene.office, message)
    assert (message.status, message.error_code) == ("failed", "30005")
    with tenancy.office_context(scene.office.id):
        assert ContactPoint.objects.get(pk=scene.phone.pk).validity == "disconnected"
        assert Event.objects.filter(kind="message_blocked", summary__contains="30005").exists()
        # A text planned for that number before the callback is stopped at send time.
        Message.objects.create(account=scene.account, debtor_id=scene.debtor.id, channel="sms",
                               contact_point=scene.phone, due_at=NOON, attempt=2)  # fmt: skip
    with responses.RequestsMock() as fake:
        assert dispatch(scene)["blocked"] == 1
        assert len(fake.calls) == 0


def test_a_landline_gets_no_texts_but_keeps_its_calls(client, sent_sms):
    scene, message, sid = sent_sms
    landline = callback(message, sid, "failed", ErrorCode="30006")
    assert signed_post(client, *landline).status_code == 200
    with tenancy.office_context(scene.office.id):
        phone = ContactPoint.objects.get(pk=scene.phone.pk)
    assert (phone.phone_type, phone.validity) == ("landline", "unverified")


def test_a_callback_that_beats_the_send_record_is_not_undone(client, office_a):
    """Twilio may call back before the worker records the send: the later record must
    not move the text back from delivered to sent."""
    scene = planned(office_a)
    sid = new_sid()

    def twilio_answers_after_calling_back(request):
        with tenancy.office_context(office_a.id):
            message = Message.objects.get()
        signed_post(client, *callback(message, sid, "delivered"))
        import json

        return 201, {}, json.dumps(message_json(sid=sid, to=NUMBER))

    with responses.RequestsMock() as fake:
        fake.add_callback(responses.POST, MESSAGES_URL, callback=twilio_answers_after_calling_back)
        assert dispatch(scene)["sent"] == 1
    with tenancy.office_context(office_a.id):
        message = Message.objects.get()
    assert (message.status, message.provider_message_id) == ("delivered", sid)


def inbound(body, *, sid=None, number=NUMBER, **extra):
    sid = sid or new_sid()
    return {"ToCountry": "US", "ToState": "CA", "SmsMessageSid": sid, "NumMedia": "0",
            "ToCity": "", "FromZip": "10001", "SmsSid": sid, "FromState": "NY",
            "SmsStatus": "received", "FromCity": "NEW YORK", "Body": body, "FromCountry": "US",
            "To": "+15017122661", "MessagingServiceSid": SERVICE_SID, "ToZip": "",
            "NumSegments": "1", "MessageSid": sid, "AccountSid": ACCOUNT_SID,
            "From": number, "ApiVersion": "2010-04-01", **extra}  # fmt: skip


def test_stop_reply_blocks_the_queued_sms(client, office_a):
    scene = planned(office_a)  # planned at noon, not sent yet
    with time_machine.travel(NOON + timedelta(minutes=1), tick=False):
        response = signed_post(client, INBOUND, inbound("Stop"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.decode().endswith("<Response />")
    with responses.RequestsMock() as fake:
        counts = dispatch(scene, at=NOON + timedelta(minutes=2))
        assert len(fake.calls) == 0  # Twilio never asked to send it
    assert counts["blocked"] == 1
    with tenancy.office_context(office_a.id):
        assert Message.objects.get().status == "blocked"
        blocked = Event.objects.get(kind="message_blocked")
        assert "opted out" in blocked.summary
        assert Consent.objects.get(contact_point=scene.phone).source == "sms_reply"
        assert Event.objects.filter(kind="response", summary__contains="opt-out").exists()
        assert not WorkItem.objects.filter(kind="inbox").exists()


def test_twilios_own_opt_out_keyword_is_honoured(client, office_a):
    scene = planned(office_a)
    with time_machine.travel(NOON - timedelta(minutes=1), tick=False):
        reply = inbound("no more", OptOutType="STOP")
        assert signed_post(client, INBOUND, reply).status_code == 200
    assert "T-REVOKE" in scene.decide_one("sms").rule_ids


def test_other_replies_land_in_the_agent_inbox_on_the_account(client, sent_sms):
    scene, message, sid = sent_sms
    reply = inbound("Can I pay half now and half next month?")
    assert signed_post(client, INBOUND, reply).status_code == 200
    assert signed_post(client, INBOUND, reply).status_code == 200  # Twilio retried
    with tenancy.office_context(scene.office.id):
        item = WorkItem.objects.get(kind="inbox")
        assert item.account_id == scene.account.id and "half next month" in item.detail
        event = Event.objects.get(kind="response")
        assert event.channel == "sms" and "half" not in event.summary  # no text on the timeline
    assert scene.decide_one("sms").outcome == "allow"


def test_a_forged_inbound_stop_is_refused_and_changes_nothing(client, office_a):
    scene = planned(office_a)
    response = signed_post(client, INBOUND, inbound("STOP"), token="guessed")
    assert response.status_code == 403
    with tenancy.office_context(office_a.id):
        assert not Consent.objects.exists()
    assert scene.decide_one("sms").outcome == "allow"


def test_an_inbound_text_reaches_only_offices_that_hold_the_number(client, office_a, office_b):
    scene = planned(office_a)
    assert signed_post(client, INBOUND, inbound("hello")).status_code == 200
    with tenancy.office_context(office_b.id):
        assert not WorkItem.objects.exists() and not Event.objects.exists()
    with tenancy.office_context(office_a.id):
        assert WorkItem.objects.filter(kind="inbox", account=scene.account).count() == 1
        assert not Event.objects.filter(~Q(account=scene.account)).exists()


@pytest.mark.parametrize("word", ["PARAR", "alto", "STOPALL", "unsubscribe"])
def test_stop_family_words_in_english_and_spanish_opt_out(client, office_a, word):
    scene = planned(office_a)
    with time_machine.travel(NOON - timedelta(minutes=1), tick=False):
        assert signed_post(client, INBOUND, inbound(word)).status_code == 200
    assert "T-REVOKE" in scene.decide_one("sms").rule_ids


def test_an_office_with_its_own_twilio_account_is_spoken_for_only_by_its_token(client, sent_sms):
    """Its callbacks are signed with its own token; the platform's token is not enough."""
    import json

    from recovery.models import InboundWebhook, ProviderCredential

    scene, message, sid = sent_sms
    own = {"account_sid": "AC" + "9" * 32, "auth_token": "office-own-token-0123456789abcd",
           "messaging_service_sid": "MG" + "9" * 32}  # fmt: skip
    with tenancy.office_context(scene.office.id):
        ProviderCredential.objects.create(
            provider=ProviderCredential.Provider.TWILIO, secrets=json.dumps(own)
        )
    platform_signed = signed_post(client, *callback(message, sid, "delivered"))
    assert platform_signed.status_code == 200  # genuine Twilio: stored, then refused
    assert InboundWebhook.objects.get().outcome.startswith("refused: signed by the platform")
    assert reload(scene.office, message).status == "sent"

    path, params = callback(message, sid, "delivered", AccountSid=own["account_sid"])
    assert signed_post(client, path, params, token=own["auth_token"]).status_code == 200
    assert reload(scene.office, message).status == "delivered"
    wrong = signed_post(client, *callback(message, sid, "failed"), token="someone-elses")
    assert wrong.status_code == 403
