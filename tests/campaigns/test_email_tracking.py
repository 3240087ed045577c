"""Email tracking through anymail's own webhook view for Mailgun: Mailgun's real JSON
payloads, its HMAC signature and anymail's basic-auth WEBHOOK_SECRET. Events are
applied once, never move a message back, and a bounce or complaint stops further email."""

import base64
import hashlib
import hmac
import json
import secrets

import pytest

from accounts.models import Event
from campaigns import planner
from campaigns.models import DeliveryEvent, Message
from debtors.models import Consent, ContactPoint
from recovery import inbox, tenancy
from tests.campaigns.twilio_fakes import dispatch, planned
from tests.compliance.conftest import NOON

SIGNING_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
BASIC_AUTH = "mailgun-hook:s3cret-webhook-pass"
URL = "/webhooks/anymail/mailgun/tracking/"


@pytest.fixture(autouse=True)
def mailgun_webhooks(settings):
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY, "WEBHOOK_SECRET": BASIC_AUTH}


def sent_email(office, steps=1):
    scene = planned(office, channels=("email",), steps=steps)
    assert dispatch(scene)["sent"] == 1
    with tenancy.office_context(office.id):
        message = Message.objects.get(status="sent")
    return scene, message


def mailgun_event(message, event, *, token=None, key=SIGNING_KEY, **data):
    """A Mailgun webhook body (its 2018+ JSON format) about our message, signed."""
    timestamp, token = "1795014000", token or secrets.token_hex(25)
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    event_data = {
        "event": event,
        "timestamp": 1795014000.270741,
        "id": secrets.token_urlsafe(16),
        "log-level": "info",
        "envelope": {"transport": "smtp", "sender": "postmaster@mg.recovery.example",
                     "sending-ip": "209.61.154.250", "targets": "rosa@example.com"},
        "flags": {"is-routed": False, "is-authenticated": True, "is-system-test": False,
                  "is-test-mode": False},
        "delivery-status": {"tls": True, "mx-host": "mx.example.com", "code": 250,
                            "description": "", "session-seconds": 0.43, "utf8": True,
                            "attempt-no": 1, "message": "OK", "certificate-verified": True},
        "message": {"headers": {"to": "rosa@example.com",
                                "message-id": "20261117150000.1.ABCDEF@mg.recovery.example",
                                "from": "Recovery <no-reply@recovery.example>",
                                "subject": "About your account"},
                    "attachments": [], "size": 2113},
        "recipient": "rosa@example.com",
        "recipient-domain": "example.com",
        "campaigns": [],
        "tags": ["collection"],
        # What our email channel put in anymail's `metadata`.
        "user-variables": {"office_id": str(message.office_id), "message_id": str(message.id)},
        **data,
    }  # fmt: skip
    return {"signature": {"timestamp": timestamp, "token": token, "signature": signature},
            "event-data": event_data}  # fmt: skip


def post(client, payload, auth=BASIC_AUTH, drain=True):
    headers = {}
    if auth:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(auth.encode()).decode()
    response = client.post(URL, json.dumps(payload), content_type="application/json", **headers)
    if drain:
        inbox.drain_once()  # the worker applies what the request stored (none if refused)
    return response


BOUNCE = {
    "severity": "permanent",
    "reason": "bounce",
    "delivery-status": {"code": 550, "attempt-no": 1, "description": "", "session-seconds": 0.1,
                        "message": "5.1.1 The email account that you tried to reach does not "
                                   "exist."},
}  # fmt: skip


def test_delivered_marks_the_email_delivered_on_the_timeline(client, office_a):
    scene, message = sent_email(office_a)
    assert post(client, mailgun_event(message, "delivered")).status_code == 200
    with tenancy.office_context(office_a.id):
        message.refresh_from_db()
        assert message.status == "delivered"
        assert Event.objects.get(kind="message_delivered").summary == "Email delivered"


def test_a_bounce_stops_further_email_to_that_address(client, office_a):
    scene, first = sent_email(office_a, steps=2)
    with tenancy.office_context(office_a.id):
        planner.plan_due(office_id=office_a.id, now=NOON)  # step 2, planned before the bounce
        second = Message.objects.get(status="planned")
    assert second.contact_point_id == scene.email.id
    assert post(client, mailgun_event(first, "failed", **BOUNCE)).status_code == 200
    with tenancy.office_context(office_a.id):
        first.refresh_from_db()
        assert first.status == "failed"
        assert ContactPoint.objects.get(pk=scene.email.pk).validity == "bounced"
        assert Event.objects.filter(summary="Email bounced", account=scene.account).exists()
    from django.core import mail

    sent_before = len(mail.outbox)
    assert dispatch(scene)["blocked"] == 1
    assert len(mail.outbox) == sent_before
    with tenancy.office_context(office_a.id):
        second.refresh_from_db()
        assert second.status == "blocked"
        assert Event.objects.filter(kind="message_blocked", summary__contains="bounced").exists()


def test_a_complaint_opts_the_address_out_of_email(client, office_a):
    scene, message = sent_email(office_a)
    assert post(client, mailgun_event(message, "complained")).status_code == 200
    with tenancy.office_context(office_a.id):
        opt_out = Consent.objects.get(contact_point=scene.email)
        assert (opt_out.kind, opt_out.channel) == ("opt_out", "email")
        assert opt_out.source == "email_event"
        assert Event.objects.filter(summary__contains="reported as spam").exists()


def test_a_soft_bounce_changes_nothing_but_the_timeline(client, office_a):
    scene, message = sent_email(office_a)
    payload = mailgun_event(message, "failed", **{**BOUNCE, "severity": "temporary"})
    assert post(client, payload).status_code == 200
    with tenancy.office_context(office_a.id):
        message.refresh_from_db()
        assert message.status == "sent"
        assert ContactPoint.objects.get(pk=scene.email.pk).validity != "bounced"
        assert Event.objects.filter(summary__contains="delayed").exists()


def test_a_repeated_event_is_applied_once_and_order_never_moves_back(client, office_a):
    scene, message = sent_email(office_a)
    delivered = mailgun_event(message, "delivered")
    for _ in range(2):
        assert post(client, delivered).status_code == 200
    assert post(client, mailgun_event(message, "accepted")).status_code == 200  # late, older
    clicked = mailgun_event(message, "clicked", url="https://x.example/p/")
    assert post(client, clicked).status_code == 200
    with tenancy.office_context(office_a.id):
        message.refresh_from_db()
        assert message.status == "delivered"
        assert Event.objects.filter(kind="message_delivered").count() == 1
        assert DeliveryEvent.objects.filter(message=message).count() == 3
        assert Event.objects.filter(kind="response", summary="Email link clicked").exists()


@pytest.mark.parametrize("forgery", ["bad signature", "no basic auth"])
def test_a_forged_event_is_refused_and_changes_nothing(client, office_a, forgery):
    scene, message = sent_email(office_a)
    if forgery == "bad signature":
        response = post(client, mailgun_event(message, "failed", key="key-guessed", **BOUNCE))
    else:
        response = post(client, mailgun_event(message, "failed", **BOUNCE), auth=None)
    assert response.status_code == 400  # anymail refuses it (SuspiciousOperation)
    with tenancy.office_context(office_a.id):
        message.refresh_from_db()
        assert message.status == "sent"
        assert ContactPoint.objects.get(pk=scene.email.pk).validity != "bounced"
        assert not DeliveryEvent.objects.exists()


def test_events_for_mail_that_is_not_ours_are_acknowledged(client, office_a, office_b):
    scene, message = sent_email(office_a)
    payload = mailgun_event(message, "failed", **BOUNCE)
    payload["event-data"]["user-variables"] = {"office_id": str(office_b.id),
                                               "message_id": str(message.id)}  # fmt: skip
    assert post(client, payload).status_code == 200
    with tenancy.office_context(office_a.id):
        assert ContactPoint.objects.get(pk=scene.email.pk).validity != "bounced"
