"""Email replies through anymail's own inbound view for Mailgun: Mailgun's "fully
parsed" route-forward POST, signed with its HMAC key and sent with anymail's basic-auth
WEBHOOK_SECRET. A reply lands once in the agent inbox on the account; what may be a
dispute, cease, attorney notice or complaint is flagged for a person, never applied."""

import base64
import hashlib
import hmac
import json
import secrets

import pytest
from django.core import mail

from accounts.models import Event
from campaigns.channels import email as email_channel
from campaigns.models import Message
from compliance.models import Complaint, Dispute, Hold
from debtors.models import Circumstance, Consent
from recovery import tenancy
from recovery.models import WorkItem
from tests.campaigns.test_email_tracking import BASIC_AUTH, SIGNING_KEY, sent_email
from tests.compliance.conftest import Scene

URL = "/webhooks/anymail/mailgun/inbound/"
DOMAIN = "replies.recovery.example"


@pytest.fixture(autouse=True)
def mailgun_inbound(settings):
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY, "WEBHOOK_SECRET": BASIC_AUTH}
    settings.INBOUND_EMAIL_DOMAIN = DOMAIN


def mailgun_inbound_post(
    *,
    to,
    text,
    subject="Re: About your account",
    sender="rosa@example.com",
    stripped=None,
    key=SIGNING_KEY,
    message_id=None,
):
    """The form Mailgun's route forward() posts for a received message (fully parsed)."""
    timestamp, token = "1795014000", secrets.token_hex(25)
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    message_id = message_id or f"<{secrets.token_hex(8)}@mail.example.com>"
    headers = [
        ["Received", "by mail.example.com with SMTP id x; Tue, 17 Nov 2026 12:00:00 -0500"],
        ["Mime-Version", "1.0"],
        ["Date", "Tue, 17 Nov 2026 12:00:00 -0500"],
        ["Message-Id", message_id],
        ["Subject", subject],
        ["From", f"Rosa Delgado <{sender}>"],
        ["To", to],
        ["Content-Type", 'text/plain; charset="UTF-8"'],
    ]
    return {
        "recipient": to,
        "sender": sender,
        "from": f"Rosa Delgado <{sender}>",
        "subject": subject,
        "body-plain": text,
        "stripped-text": text if stripped is None else stripped,
        "stripped-signature": "",
        "message-headers": json.dumps(headers),
        "Message-Id": message_id,
        "timestamp": timestamp,
        "token": token,
        "signature": signature,
    }


def post(client, form, auth=BASIC_AUTH):
    headers = {}
    if auth:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(auth.encode()).decode()
    return client.post(URL, form, **headers)


def reply_to(message):
    """The Reply-To our channel put on the sent email."""
    sent = [m for m in mail.outbox if m.metadata.get("message_id") == str(message.id)]
    return sent[-1].reply_to[0]


def test_sent_email_carries_a_signed_reply_address(office_a):
    scene, message = sent_email(office_a)
    address = reply_to(message)
    assert address.startswith(f"reply+{office_a.id}-{message.id}-")
    assert address.endswith("@" + DOMAIN)
    assert email_channel.reply_token_read([address]) == (office_a.id, message.id)
    forged = address.replace(f"+{office_a.id}-", f"+{office_a.id + 1}-")
    assert email_channel.reply_token_read([forged]) is None


def test_a_reply_lands_in_the_inbox_with_ids_only_on_the_timeline(client, office_a):
    scene, message = sent_email(office_a)
    text = "Hi, I get paid on Friday. Can I pay half then?"
    assert post(client, mailgun_inbound_post(to=reply_to(message), text=text)).status_code == 200
    with tenancy.office_context(office_a.id):
        item = WorkItem.objects.get(kind="inbox", account=scene.account)
        assert item.title == "Email reply from the debtor"
        assert text in item.detail
        event = Event.objects.get(kind="response", channel="email")
        assert event.account_id == scene.account.id
        assert event.summary == "Email reply received: in the agent inbox"
        assert event.data["work_item_id"] == item.pk
        assert event.data["message_id"] == message.pk
        assert "Friday" not in json.dumps(event.data) + event.summary
        assert not Consent.objects.filter(kind="opt_out").exists()


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("This is not my debt and I dispute it.", "a dispute"),
        ("Stop contacting me. Do not contact me again.", "a cease request"),
        ("I am represented by counsel; talk to my attorney, Ruiz & Co.", "an attorney notice"),
        ("This is harassment and I am filing a complaint with the CFPB.", "a complaint"),
    ],
)
def test_a_reply_that_may_have_legal_effect_is_flagged_not_applied(client, office_a, text, flag):
    scene, message = sent_email(office_a)
    assert post(client, mailgun_inbound_post(to=reply_to(message), text=text)).status_code == 200
    with tenancy.office_context(office_a.id):
        item = WorkItem.objects.get(kind="inbox", account=scene.account)
        assert flag in item.title and "classify" in item.title
        assert item.detail.startswith("Flagged:") and text in item.detail
        assert Event.objects.get(kind="response").summary.endswith(
            "flagged for a person to classify"
        )
        # A person classifies it through the correspondence action: nothing applied here.
        assert not Hold.objects.exists()
        assert not Dispute.objects.exists()
        assert not Circumstance.objects.exists()
        assert not Complaint.objects.exists()


def test_our_own_quoted_email_does_not_flag_the_reply(client, office_a):
    scene, message = sent_email(office_a)
    full = (
        "Thanks, I'll call you tomorrow.\n\nOn Tue, Nov 17, 2026 Recovery wrote:\n"
        "> If you dispute this debt, tell us. To unsubscribe, reply STOP."
    )
    form = mailgun_inbound_post(to=reply_to(message), text=full, stripped="")
    assert post(client, form).status_code == 200
    with tenancy.office_context(office_a.id):
        item = WorkItem.objects.get(kind="inbox")
        assert item.title == "Email reply from the debtor"
        assert "dispute" not in item.detail
        assert not Consent.objects.filter(kind="opt_out").exists()


@pytest.mark.parametrize("text", ["Please unsubscribe me from these emails.", "STOP"])
def test_an_unsubscribe_reply_opts_the_address_out_of_email(client, office_a, text):
    scene, message = sent_email(office_a)
    assert post(client, mailgun_inbound_post(to=reply_to(message), text=text)).status_code == 200
    with tenancy.office_context(office_a.id):
        opt_out = Consent.objects.get(kind="opt_out")
        assert (opt_out.channel, opt_out.source) == ("email", "email_reply")
        assert opt_out.get_source_display() == "Email reply"
        assert opt_out.contact_point_id == scene.email.id
        assert "opted out of email" in Event.objects.get(kind="response").summary
        assert WorkItem.objects.filter(kind="inbox").count() == 1


def test_a_reply_without_a_token_is_matched_by_the_senders_address(client, office_a):
    scene = Scene(office_a)
    form = mailgun_inbound_post(to=f"help@{DOMAIN}", text="Who is this?", sender="ROSA@example.com")
    assert post(client, form).status_code == 200
    with tenancy.office_context(office_a.id):
        item = WorkItem.objects.get(kind="inbox")
        assert item.account_id == scene.account.id
        assert Event.objects.get(kind="response").data["contact_point_id"] == scene.email.id


def test_a_reply_from_nobody_we_know_is_acknowledged_and_ignored(client, office_a):
    Scene(office_a)
    form = mailgun_inbound_post(to=f"help@{DOMAIN}", text="Hello", sender="someone@else.example")
    assert post(client, form).status_code == 200
    with tenancy.office_context(office_a.id):
        assert not WorkItem.objects.exists()


def test_a_reply_goes_to_the_office_its_token_names(client, office_a, office_b):
    scene_a, message_a = sent_email(office_a)
    scene_b, message_b = sent_email(office_b)  # the same address in both offices
    assert post(client, mailgun_inbound_post(to=reply_to(message_a), text="Hi")).status_code == 200
    with tenancy.office_context(office_a.id):
        assert WorkItem.objects.get(kind="inbox").account_id == scene_a.account.id
    with tenancy.office_context(office_b.id):
        assert not WorkItem.objects.exists()


def test_a_duplicate_reply_is_recorded_once(client, office_a):
    scene, message = sent_email(office_a)
    form = mailgun_inbound_post(to=reply_to(message), text="Cease all contact.")
    for _ in range(2):
        retried = {**form, "token": form["token"]}
        assert post(client, retried).status_code == 200
    again = mailgun_inbound_post(
        to=reply_to(message), text="Cease all contact.", message_id=form["Message-Id"]
    )
    assert post(client, again).status_code == 200  # a new delivery of the same email
    with tenancy.office_context(office_a.id):
        assert WorkItem.objects.filter(kind="inbox").count() == 1
        assert Event.objects.filter(kind="response").count() == 1


@pytest.mark.parametrize("forgery", ["bad signature", "no basic auth"])
def test_a_forged_reply_is_refused_and_changes_nothing(client, office_a, forgery):
    scene, message = sent_email(office_a)
    form = mailgun_inbound_post(
        to=reply_to(message),
        text="unsubscribe; stop contacting me",
        key="key-guessed" if forgery == "bad signature" else SIGNING_KEY,
    )
    response = post(client, form, auth=None if forgery == "no basic auth" else BASIC_AUTH)
    assert 400 <= response.status_code < 500
    with tenancy.office_context(office_a.id):
        assert not WorkItem.objects.exists()
        assert not Consent.objects.filter(kind="opt_out").exists()
        assert not Event.objects.filter(kind="response").exists()
        assert Message.objects.get(pk=message.pk).status == "sent"
