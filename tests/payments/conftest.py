"""Payments test helpers: a debtor scene, eager Celery, and Stripe's own formats —
events signed with Stripe's scheme (so the SDK's verification runs) and API answers
shaped like Stripe's objects."""

import hashlib
import hmac
import json
import time
import uuid

import pytest
import time_machine

from recovery import tenancy
from tests.compliance.conftest import NOON, Scene

WHSEC = "whsec_test_0123456789abcdef"


@pytest.fixture(autouse=True)
def eager_celery(settings):
    from recovery.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def daytime():
    """A weekday morning in every US zone, for tests whose actions the gate would defer at
    night (a payment link or an offer sent by an agent is a contact attempt)."""
    with time_machine.travel(NOON, tick=True):
        yield NOON


@pytest.fixture
def stripe_keys(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_51Recovery"
    settings.STRIPE_WEBHOOK_SECRET = WHSEC
    return settings


@pytest.fixture
def scene(office_a):
    return Scene(office_a)


@pytest.fixture
def in_office(office_a):
    with tenancy.office_context(office_a.id):
        yield office_a


def stripe_event(kind, obj, *, event_id=None, livemode=False):
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
    }


def sign(body, secret=WHSEC, timestamp=None):
    """Stripe's scheme: t=<unix>,v1=HMAC-SHA256(secret, "<t>.<body>")."""
    timestamp = timestamp or int(time.time())
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def post_event(client, event, *, secret=WHSEC, path="/payments/stripe/webhook/"):
    """POST a signed event. The answer carries `inbox`: the inbox rows holding this event
    (the worker, eager in tests, has applied them; each row's `outcome` says how)."""
    from recovery.models import InboundWebhook

    body = json.dumps(event)
    response = client.post(
        path, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body, secret)
    )
    response.inbox = list(
        InboundWebhook.objects.filter(provider="stripe", key__endswith=f":{event['id']}")
    )
    response.outcome = response.inbox[-1].outcome if response.inbox else None
    return response


def metadata(payment):
    return {
        "office_id": str(payment.office_id),
        "account_id": str(payment.account_id),
        "payment_id": str(payment.id),
    }


def session_object(payment, *, payment_status="paid", intent="pi_3QaTest", status="complete"):
    cents = int(payment.amount * 100)
    return {
        "id": payment.checkout_reference or f"cs_test_{payment.id}",
        "object": "checkout.session",
        "amount_subtotal": cents,
        "amount_total": cents,
        "client_reference_id": str(payment.id),
        "currency": payment.currency.lower(),
        "customer": None,
        "livemode": False,
        "metadata": metadata(payment),
        "mode": "payment",
        "payment_intent": intent,
        "payment_method_types": ["card", "us_bank_account"],
        "payment_status": payment_status,
        "status": status,
        "success_url": "https://example.test/ok",
        "url": None,
    }


def charge_object(payment, *, intent="pi_3QaTest", amount_refunded=0):
    cents = int(payment.amount * 100)
    return {
        "id": "ch_3QaTest",
        "object": "charge",
        "amount": cents,
        "amount_captured": cents,
        "amount_refunded": amount_refunded,
        "captured": True,
        "currency": payment.currency.lower(),
        "livemode": False,
        "metadata": {},
        "paid": True,
        "payment_intent": intent,
        "refunded": amount_refunded == cents,
        "status": "succeeded",
    }


def dispute_object(payment, *, intent="pi_3QaTest", status="needs_response", dispute_id=None):
    return {
        "id": dispute_id or "dp_1QaTest",
        "object": "dispute",
        "amount": int(payment.amount * 100),
        "charge": "ch_3QaTest",
        "currency": payment.currency.lower(),
        "livemode": False,
        "metadata": {},
        "payment_intent": intent,
        "reason": "fraudulent",
        "status": status,
    }
