"""The webhooks benchmark's events at a tiny scale, on the test database, as the
application role: every signed request is accepted by the real endpoints, and the
benchmark's check finds each event applied exactly once — or says what is missing."""

import json

import pytest
from django.conf import settings

from bench.loadgen import render
from bench.webhook_events import PROVIDER_SETTINGS, build_requests, seed_targets, verify
from recovery import inbox

pytestmark = pytest.mark.skipif(not settings.IS_POSTGRES, reason="the generator uses COPY")


@pytest.fixture
def provider_settings(settings):
    for name, value in PROVIDER_SETTINGS.items():
        setattr(settings, name, json.loads(value) if name == "ANYMAIL" else value)
    return settings


@pytest.fixture
def events(db, provider_settings):
    from bench.generate import generate

    counts = generate(accounts=60, seed=11, office_slug="tiny-webhooks")
    targets = seed_targets(office_id=counts["office_id"], events=60, seed=11)
    return targets, build_requests(targets, seed=11)


def post(client, request):
    headers = {k: v for k, v in request.headers.items() if k != "Content-Type"}
    return client.generic(
        "POST",
        request.path,
        request.body,
        content_type=request.headers["Content-Type"],
        headers=headers,
    )


def test_every_signed_event_is_accepted_and_applied_exactly_once(client, events):
    targets, requests = events
    assert len(requests) == 60
    assert len({r.body for r in requests}) == 60 - targets.duplicates
    assert targets.completions and targets.refunds and targets.texts and targets.emails
    for request in requests:
        response = post(client, request)
        assert response.status_code == 200, (request.path, response.content[:300])
    assert verify(targets) != []  # answered, not yet applied: that is the worker's part
    while inbox.drain_once():
        pass
    assert verify(targets) == []


def test_verification_names_the_events_that_were_not_applied(client, events):
    targets, requests = events
    texts = [r for r in requests if r.path.startswith("/webhooks/twilio/")]
    for request in requests:
        if request is not texts[0]:
            post(client, request)
    inbox.drain_once()
    problems = verify(targets)
    wanted = targets.delivery_events
    assert f"delivery events recorded: {wanted - 1}, expected {wanted}" in problems


def test_the_baseline_gets_the_same_request_on_its_own_path():
    from bench.webhook_events import Request

    request = Request("/webhooks/twilio/status/?m=7", {"X-Twilio-Signature": "abc"}, b"A=1")
    ours = render(request, host="127.0.0.1:9")
    base = render(request, host="127.0.0.1:9", path="/bench/ok/")
    assert ours.startswith(b"POST /webhooks/twilio/status/?m=7 HTTP/1.1\r\n")
    assert base.startswith(b"POST /bench/ok/?m=7 HTTP/1.1\r\n")
    assert ours.split(b"\r\n", 1)[1] == base.split(b"\r\n", 1)[1]
