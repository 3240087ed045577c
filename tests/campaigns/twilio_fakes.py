"""Twilio at the HTTP boundary: its real JSON payloads (Message resource, list page,
error body) answered through `responses`, and webhooks signed with the SDK's own
`RequestValidator.compute_signature`, so the SDK's and our parsing/validation run."""

import re
import secrets
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import parse_qs

import pytest
import time_machine
from twilio.request_validator import RequestValidator

from campaigns import planner
from campaigns.dispatch import dispatch_due
from recovery import inbox, tenancy
from tests.campaigns.test_planner import campaign_with_steps
from tests.compliance.conftest import NOON, Scene

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "platform-auth-token-0123456789ab"
SERVICE_SID = "MG" + "2" * 32
PUBLIC = "https://recovery.example"
MESSAGES_URL = re.compile(r"https://api\.twilio\.com/2010-04-01/Accounts/(AC\w+)/Messages\.json")
# 18:00 in New York: three hours left in the 08:00–21:00 window.
EVENING = datetime(2026, 11, 17, 23, 0, tzinfo=UTC)


def new_sid():
    return "SM" + secrets.token_hex(16)


def message_json(*, sid, to, status="accepted", account_sid=ACCOUNT_SID, created=None,
                 sent=None, service_sid=SERVICE_SID, error_code=None, body="Hi"):  # fmt: skip
    created = format_datetime(created or NOON, usegmt=True)
    return {
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "body": body,
        "date_created": created,
        "date_sent": format_datetime(sent, usegmt=True) if sent else None,
        "date_updated": created,
        "direction": "outbound-api",
        "error_code": error_code,
        "error_message": None,
        "from": None if status == "accepted" else "+15017122661",
        "messaging_service_sid": service_sid,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": status,
        "subresource_uris": {
            "media": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}/Media.json"
        },
        "to": to,
        "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
    }


def list_json(messages, to):
    uri = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json?To={to}&PageSize=20&Page=0"
    return {
        "end": max(len(messages) - 1, 0),
        "first_page_uri": uri,
        "messages": messages,
        "next_page_uri": None,
        "page": 0,
        "page_size": 20,
        "previous_page_uri": None,
        "start": 0,
        "uri": uri,
    }


def error_json(code, message, status):
    more_info = f"https://www.twilio.com/docs/errors/{code}"
    return {"code": code, "message": message, "more_info": more_info, "status": status}


def form(request):
    """The form parameters the SDK posted."""
    return {k: v[0] for k, v in parse_qs(request.body).items()}


def signed_post(client, path, params, *, token=AUTH_TOKEN, signature=None, drain=True):
    """POST `params` to `path` the way Twilio does: signed over our public URL."""
    url = PUBLIC + path
    sig = (
        signature
        if signature is not None
        else RequestValidator(token).compute_signature(url, params)
    )
    headers = {"HTTP_X_TWILIO_SIGNATURE": sig} if sig else {}
    # The app sits behind a TLS proxy: the request reaches it as plain http.
    response = client.post(path, params, HTTP_X_FORWARDED_PROTO="https", **headers)
    if drain:
        inbox.drain_once()  # the worker applies what the request stored (none if refused)
    return response


@pytest.fixture
def twilio_settings(settings):
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_MESSAGING_SERVICE_SID = SERVICE_SID
    settings.PUBLIC_BASE_URL = PUBLIC
    return settings


def planned(office, channels=("sms",), steps=1):
    office.collector_type = "first_party"  # texts through Twilio are allowed (T-CARRIER)
    office.save()
    scene = Scene(office)
    campaign = campaign_with_steps(office, *[(0, list(channels))] * steps)
    with tenancy.office_context(office.id):
        planner.enroll(campaign=campaign, accounts=[scene.account], now=NOON)
        planner.plan_due(office_id=office.id, now=NOON)
    return scene


def dispatch(scene, at=NOON):
    with time_machine.travel(at, tick=False), tenancy.office_context(scene.office.id):
        return dispatch_due(office=scene.office, now=at)
