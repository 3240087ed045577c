"""Texts through the twilio SDK: the window as validity, our callback, the office's own
credentials, and every answer Twilio can give (sent, retry later, refused for good,
no answer at all)."""

import json

import pytest
import requests
import responses

from accounts.models import Event
from campaigns.models import Message
from compliance.models import ContactAttempt
from debtors.models import Consent, ContactPoint
from recovery import tenancy
from recovery.models import ProviderCredential
from tests.campaigns.twilio_fakes import (
    ACCOUNT_SID,
    EVENING,
    MESSAGES_URL,
    PUBLIC,
    SERVICE_SID,
    dispatch,
    error_json,
    form,
    message_json,
    new_sid,
    planned,
    twilio_settings,  # noqa: F401
)
from tests.compliance.conftest import NOON

pytestmark = pytest.mark.usefixtures("twilio_settings")


def created(to="+12125550100", sid=None):
    return message_json(sid=sid or new_sid(), to=to)


@responses.activate
def test_a_due_sms_goes_through_twilio_with_the_window_left_as_validity(office_a):
    scene = planned(office_a)
    sid = new_sid()
    responses.post(MESSAGES_URL, json=created(sid=sid), status=201)
    assert dispatch(scene, at=EVENING)["sent"] == 1
    [call] = responses.calls
    sent = form(call.request)
    assert call.request.url.endswith(f"/Accounts/{ACCOUNT_SID}/Messages.json")
    assert sent["To"] == "+12125550100"
    assert sent["MessagingServiceSid"] == SERVICE_SID
    # 18:00 in New York, window ends at 21:00: the text may wait at most three hours.
    assert sent["ValidityPeriod"] == str(3 * 3600)
    assert "Hi Rosa" in sent["Body"] and "/p/" in sent["Body"]
    assert "Reply STOP to stop texts" in sent["Body"]  # F-OPTOUT disclosure
    with tenancy.office_context(office_a.id):
        message = Message.objects.get()
        assert sent["StatusCallback"] == f"{PUBLIC}/webhooks/twilio/status/?m={message.id}"
        assert message.status == "sent" and message.sending_at == EVENING
        assert (message.provider, message.provider_message_id) == ("twilio", sid)
        assert Event.objects.get(kind="message_sent").summary == "SMS sent"
        assert ContactAttempt.objects.filter(channel="sms").count() == 1
    # A second pass calls Twilio for nothing.
    assert dispatch(scene, at=EVENING)["sent"] == 0
    assert len(responses.calls) == 1


@responses.activate
def test_validity_never_exceeds_twilios_maximum(office_a):
    scene = planned(office_a)
    responses.post(MESSAGES_URL, json=created(), status=201)
    dispatch(scene, at=NOON)  # 10:00 in New York: eleven hours left, Twilio allows ten
    assert form(responses.calls[0].request)["ValidityPeriod"] == "36000"


@responses.activate
def test_the_offices_own_twilio_account_is_used(office_a):
    scene = planned(office_a)
    own_sid = "AC" + "9" * 32
    with tenancy.office_context(office_a.id):
        ProviderCredential.objects.create(provider="twilio", secrets=json.dumps({
            "account_sid": own_sid, "auth_token": "office-token", "from_number": "+15005550006",
        }))  # fmt: skip
    responses.post(MESSAGES_URL, json=message_json(sid=new_sid(), to="+12125550100",
                                                   account_sid=own_sid), status=201)  # fmt: skip
    assert dispatch(scene)["sent"] == 1
    request = responses.calls[0].request
    assert f"/Accounts/{own_sid}/" in request.url
    assert form(request)["From"] == "+15005550006" and "MessagingServiceSid" not in form(request)


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (500, 20500), (503, None)])
@responses.activate
def test_twilio_busy_or_down_sends_nothing_and_the_text_goes_next_pass(office_a, status, code):
    scene = planned(office_a)
    body = error_json(code, "Too Many Requests", status) if code else {"message": "unavailable"}
    responses.post(MESSAGES_URL, json=body, status=status)
    assert dispatch(scene)["retry"] == 1
    with tenancy.office_context(office_a.id):
        assert Message.objects.get().status == "planned"
        assert not ContactAttempt.objects.exists()  # the cap slot is free again
    responses.replace(responses.POST, MESSAGES_URL, json=created(), status=201)
    assert dispatch(scene)["sent"] == 1
    assert len(responses.calls) == 2


@responses.activate
def test_an_invalid_number_fails_for_good_and_the_number_is_not_used_again(office_a):
    scene = planned(office_a)
    responses.post(MESSAGES_URL, status=400, json=error_json(
        21211, "The 'To' number +12125550100 is not a valid phone number.", 400))  # fmt: skip
    assert dispatch(scene)["failed"] == 1
    with tenancy.office_context(office_a.id):
        message = Message.objects.get()
        assert (message.status, message.error_code) == ("failed", "21211")
        assert ContactPoint.objects.get(pk=scene.phone.pk).validity == "invalid"
        assert not ContactAttempt.objects.exists()
        assert Event.objects.filter(kind="message_blocked", summary__contains="21211").exists()
    assert dispatch(scene)["failed"] == 0
    assert len(responses.calls) == 1


@responses.activate
def test_a_number_opted_out_at_the_carrier_is_recorded_as_an_opt_out(office_a):
    scene = planned(office_a)
    responses.post(MESSAGES_URL, status=400, json=error_json(
        21610, "Attempt to send to unsubscribed recipient", 400))  # fmt: skip
    assert dispatch(scene)["failed"] == 1
    with tenancy.office_context(office_a.id):
        opt_out = Consent.objects.get(contact_point=scene.phone)
        assert (opt_out.kind, opt_out.channel, opt_out.source) == ("opt_out", "sms", "carrier")
    outcome = scene.decide_one("sms")
    assert "T-REVOKE" in outcome.rule_ids


@responses.activate
def test_no_answer_from_twilio_leaves_the_text_for_reconciliation(office_a):
    scene = planned(office_a)
    responses.post(MESSAGES_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    assert dispatch(scene)["unknown"] == 1
    with tenancy.office_context(office_a.id):
        assert Message.objects.get().status == "sending"
    # Never resent blindly by the next pass.
    assert dispatch(scene)["sent"] == 0
    assert len(responses.calls) == 1


def test_without_any_twilio_configuration_the_text_fails_with_a_clear_reason(office_a, settings):
    settings.TWILIO_ACCOUNT_SID = ""
    scene = planned(office_a)
    assert dispatch(scene)["failed"] == 1
    with tenancy.office_context(office_a.id):
        assert "SMS is not configured" in Event.objects.get(kind="message_blocked").summary
