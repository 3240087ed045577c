"""The WSGI entry point gunicorn serves (`recovery.wsgi.application`): a provider's webhook
takes the short road (request id and security headers only) and is still verified and
stored; every other page keeps the whole middleware stack."""

import io
import json
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from recovery.models import InboundWebhook
from recovery.wsgi import application
from tests.payments import test_stripe
from tests.payments.conftest import session_object, sign, stripe_event

pytestmark = pytest.mark.django_db
started = test_stripe.started  # the fixture: a $200 checkout on a $500 account


@pytest.fixture(autouse=True)
def keeps_the_test_connection():
    """Called directly, the WSGI app would close the connection after each request, and
    the test's transaction with it (Django's test client disconnects the same)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def call(path, *, method="GET", body=b"", headers=None):
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()},
    }
    setup_testing_defaults(environ)
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"] = int(status.split()[0])
        answer["headers"] = response_headers

    chunks = application(environ, start_response)
    answer["body"] = b"".join(chunks)
    chunks.close()
    names = [name.lower() for name, _ in answer["headers"]]
    answer["names"] = names
    return answer


def test_a_signed_stripe_event_is_stored_through_the_short_road(started, lazy_worker):
    _scene, p, _ = started
    event = stripe_event("checkout.session.completed", session_object(p))
    body = json.dumps(event)
    answer = call(
        "/payments/stripe/webhook/",
        method="POST",
        body=body.encode(),
        headers={"Stripe-Signature": sign(body), "X-Request-ID": "req-road-0001"},
    )
    assert answer["status"] == 200 and json.loads(answer["body"]) == {"received": True}
    (row,) = InboundWebhook.objects.filter(key__endswith=f":{event['id']}")
    assert row.payload["event"]["type"] == "checkout.session.completed"
    headers = dict(answer["headers"])
    assert headers["X-Request-ID"] == "req-road-0001"  # the logs can follow it
    assert headers["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware ran
    # none of the page middleware ran: no language negotiated, no frame policy
    assert "content-language" not in answer["names"]
    assert "x-frame-options" not in answer["names"]


def test_a_forged_event_on_the_short_road_is_refused_and_not_stored(started, lazy_worker):
    _scene, p, _ = started
    body = json.dumps(stripe_event("checkout.session.completed", session_object(p)))
    answer = call(
        "/payments/stripe/webhook/",
        method="POST",
        body=body.encode(),
        headers={"Stripe-Signature": sign(body, secret="whsec_someone_else")},
    )
    assert answer["status"] == 400 and b"Invalid signature" in answer["body"]
    assert not InboundWebhook.objects.exists()


def test_an_unknown_path_under_webhooks_is_a_404(lazy_worker):
    answer = call("/webhooks/nothing-here/", method="POST", body=b"{}")
    assert answer["status"] == 404 and answer["body"] == b"No webhook here."


def test_pages_keep_the_whole_middleware_stack():
    answer = call("/login/")
    assert answer["status"] == 200
    headers = dict(answer["headers"])
    assert headers["X-Frame-Options"] == "DENY"  # clickjacking protection
    assert "set-cookie" in answer["names"]  # the CSRF cookie for the login form
    assert headers["Content-Language"] == "en"
    assert b"csrfmiddlewaretoken" in answer["body"]


def test_the_short_road_serves_the_same_webhooks_as_the_product():
    """Every path of the short road resolves to the same view in the product's URLs, and
    lies under one of the prefixes sent down it (they cannot drift apart)."""
    from django.urls import URLPattern, URLResolver, get_resolver

    from recovery.wsgi import WEBHOOK_PREFIXES, WEBHOOK_URLCONF

    def routes(patterns, prefix=""):
        for p in patterns:
            route = prefix + str(p.pattern).replace("<slug:office_slug>", "harbor")
            if isinstance(p, URLResolver):
                yield from routes(p.url_patterns, route)
            elif isinstance(p, URLPattern):
                yield "/" + route.replace("<str:esp_name>", "mailgun").replace("^", "")

    found = list(routes(get_resolver(WEBHOOK_URLCONF).url_patterns))
    assert len(found) >= 5  # Stripe (2), Twilio (2), the email providers'
    product = get_resolver("recovery.urls")
    for path in found:
        if "(" in path or "$" in path:  # a regex route (anymail's): checked by its prefix
            assert path.startswith(WEBHOOK_PREFIXES), path
            continue
        assert path.startswith(WEBHOOK_PREFIXES), path
        mine = get_resolver(WEBHOOK_URLCONF).resolve(path)
        assert product.resolve(path).func is mine.func, path
