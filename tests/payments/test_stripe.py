"""Stripe end to end at the HTTP boundary: our checkout call in Stripe's format, and
webhooks signed with Stripe's scheme so the SDK's own verification runs. Replays,
out-of-order delivery, forged signatures, ACH that fails after succeeding, chargebacks."""

import json
import re
from decimal import Decimal
from urllib.parse import parse_qs

import pytest
import responses
from django.core import mail

from accounts.models import Event
from payments.models import GatewayEvent, Payment
from payments.services import checkout_start
from recovery import tenancy
from tests.payments.conftest import (
    charge_object,
    dispute_object,
    metadata,
    post_event,
    session_object,
    stripe_event,
)

STRIPE_SESSIONS = re.compile(r"https://api\.stripe\.com/v1/checkout/sessions")


def form_of(request):
    """The SDK's form-encoded request body as {key: value}."""
    return {k: v[0] for k, v in parse_qs(request.body).items()}


def _session_reply(request):
    form = form_of(request)
    body = {
        "id": "cs_test_a1B2c3",
        "object": "checkout.session",
        "url": "https://checkout.stripe.com/c/pay/cs_test_a1B2c3",
        "payment_status": "unpaid",
        "status": "open",
        "mode": "payment",
        "amount_total": int(form["line_items[0][price_data][unit_amount]"]),
        "metadata": {},
    }
    return 200, {"Request-Id": "req_123"}, json.dumps(body)


@pytest.fixture
def started(stripe_keys, scene):
    """A $200 checkout on the scene's $500 account, created through the SDK."""
    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.POST, STRIPE_SESSIONS, callback=_session_reply)
        with tenancy.office_context(scene.office.id):
            start = checkout_start(
                account=scene.account,
                amount="200.00",
                success_url="https://portal.example/ok",
                cancel_url="https://portal.example/back",
            )
        sent = rsps.calls[0].request
    return scene, start.payment, sent


def balance(scene):
    with tenancy.office_context(scene.office.id):
        scene.account.refresh_from_db()
        return scene.account.balance


def payment(p):
    with tenancy.office_context(p.office_id):
        return Payment.objects.get(pk=p.pk)


@pytest.mark.django_db
def test_checkout_asks_stripe_for_the_amount_in_cents_with_our_metadata_and_key(started):
    scene, p, sent = started
    form = form_of(sent)
    assert form["line_items[0][price_data][unit_amount]"] == "20000"
    assert form["line_items[0][price_data][currency]"] == "usd"
    assert form["metadata[office_id]"] == str(scene.office.id)
    assert form["payment_intent_data[metadata][payment_id]"] == str(p.id)
    assert form["payment_method_types[1]"] == "us_bank_account"
    assert sent.headers["Idempotency-Key"] == f"checkout-{p.idempotency_key}"
    assert sent.headers["Authorization"] == "Bearer sk_test_51Recovery"
    assert p.checkout_url.startswith("https://checkout.stripe.com/")
    assert payment(p).status == "pending"


@pytest.mark.django_db
def test_a_stale_link_never_asks_for_more_than_is_owed(stripe_keys, scene):
    from django.core.exceptions import ValidationError

    with tenancy.office_context(scene.office.id), pytest.raises(ValidationError, match="more"):
        checkout_start(account=scene.account, amount="500.01", success_url="x", cancel_url="y")
    with tenancy.office_context(scene.office.id):
        assert not Payment.objects.exists()


@pytest.mark.django_db
def test_completed_checkout_applies_the_payment_once_even_when_replayed(
    client, started, django_capture_on_commit_callbacks
):
    scene, p, _ = started
    event = stripe_event("checkout.session.completed", session_object(p))
    with django_capture_on_commit_callbacks(execute=True):
        first = post_event(client, event)
    again = post_event(client, event)
    assert first.status_code == 200 and first.outcome == "succeeded"
    # The re-delivery is answered 200 (or Stripe retries for days) and dropped at the door.
    assert again.status_code == 200 and len(again.inbox) == 1
    assert balance(scene) == Decimal("300.00")
    p = payment(p)
    assert p.status == "succeeded" and p.gateway_reference == "pi_3QaTest"
    # The receipt went out at once (F-RESPONSE) with its PDF.
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject.startswith("Receipt: your payment of $200.00")
    assert mail.outbox[0].attachments[0][2] == "application/pdf"
    with tenancy.office_context(scene.office.id):
        kinds = list(Event.objects.filter(account=scene.account).values_list("kind", flat=True))
        assert kinds.count("payment") == 2  # started, received
        assert GatewayEvent.objects.count() == 1


@pytest.mark.django_db
def test_a_forged_signature_is_refused_and_changes_nothing(client, started):
    scene, p, _ = started
    event = stripe_event("checkout.session.completed", session_object(p))
    response = post_event(client, event, secret="whsec_someone_else")
    assert response.status_code == 400
    assert payment(p).status == "pending"
    assert balance(scene) == Decimal("500.00")
    unsigned = client.post(
        "/payments/stripe/webhook/", data=json.dumps(event), content_type="application/json"
    )
    assert unsigned.status_code == 400


@pytest.mark.django_db
def test_a_refund_arriving_before_the_success_is_applied_in_the_right_order(client, started):
    scene, p, _ = started
    refund = stripe_event("charge.refunded", charge_object(p, amount_refunded=5000))
    with responses.RequestsMock() as rsps:
        # Stripe puts no metadata on charges: the handler asks for the PaymentIntent.
        rsps.add(
            responses.GET,
            "https://api.stripe.com/v1/payment_intents/pi_3QaTest",
            json={
                "id": "pi_3QaTest",
                "object": "payment_intent",
                "amount": 20000,
                "currency": "usd",
                "status": "succeeded",
                "metadata": metadata(p),
            },
        )
        assert post_event(client, refund).outcome == "refunded 50.00"
    assert balance(scene) == Decimal("350.00")  # 500 - 200 + 50
    late = stripe_event("checkout.session.completed", session_object(p))
    post_event(client, late)
    assert balance(scene) == Decimal("350.00")
    full = stripe_event("charge.refunded", charge_object(p, amount_refunded=20000))
    post_event(client, full)
    p = payment(p)
    assert p.status == "refunded" and p.refunded_amount == Decimal("200.00")
    assert balance(scene) == Decimal("500.00")


@pytest.mark.django_db
def test_ach_processing_then_success_then_failure_reverses_it(client, started):
    scene, p, _ = started
    post_event(
        client,
        stripe_event("checkout.session.completed", session_object(p, payment_status="unpaid")),
    )
    assert payment(p).status == "processing"
    assert balance(scene) == Decimal("500.00")  # not until it clears
    post_event(client, stripe_event("checkout.session.async_payment_succeeded", session_object(p)))
    assert balance(scene) == Decimal("300.00")
    post_event(
        client,
        stripe_event(
            "checkout.session.async_payment_failed", session_object(p, payment_status="unpaid")
        ),
    )
    p = payment(p)
    assert p.status == "reversed"
    assert balance(scene) == Decimal("500.00")
    with tenancy.office_context(scene.office.id):
        assert Event.objects.filter(account=scene.account, kind="reversal").exists()


@pytest.mark.django_db
def test_a_chargeback_reverses_and_a_won_dispute_puts_the_money_back(client, started):
    scene, p, _ = started
    post_event(client, stripe_event("checkout.session.completed", session_object(p)))
    post_event(client, stripe_event("charge.dispute.created", dispute_object(p)))
    assert payment(p).status == "reversed"
    assert balance(scene) == Decimal("500.00")
    won = stripe_event("charge.dispute.closed", dispute_object(p, status="won"))
    assert post_event(client, won).outcome.startswith("dispute won")
    assert balance(scene) == Decimal("300.00")
    again = post_event(client, won)
    assert again.status_code == 200 and len(again.inbox) == 1


@pytest.mark.django_db
def test_paying_in_full_sends_the_letter_and_a_refund_reopens_the_account(
    client, stripe_keys, scene, django_capture_on_commit_callbacks
):
    with responses.RequestsMock() as rsps, tenancy.office_context(scene.office.id):
        rsps.add_callback(responses.POST, STRIPE_SESSIONS, callback=_session_reply)
        p = checkout_start(
            account=scene.account, amount="500.00", success_url="a", cancel_url="b"
        ).payment
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, stripe_event("checkout.session.completed", session_object(p)))
    with tenancy.office_context(scene.office.id):
        scene.account.refresh_from_db()
        assert scene.account.status == "paid"
    assert [m.subject for m in mail.outbox] == [
        "Receipt: your payment of $500.00 to " + scene.office.name,
        f"Paid in full: your account {scene.account.office_reference}",
    ]
    post_event(client, stripe_event("charge.refunded", charge_object(p, amount_refunded=50000)))
    with tenancy.office_context(scene.office.id):
        scene.account.refresh_from_db()
        assert scene.account.status == "active" and scene.account.balance == Decimal("500.00")


@pytest.mark.django_db
def test_an_event_for_another_offices_key_mode_or_unknown_payment_is_ignored(client, started):
    scene, p, _ = started
    live = stripe_event("checkout.session.completed", session_object(p), livemode=True)
    assert post_event(client, live).outcome.startswith("ignored: live/test")
    stranger = session_object(p)
    stranger["metadata"] = {}
    stranger["payment_intent"] = "pi_not_ours"
    response = post_event(client, stripe_event("checkout.session.completed", stranger))
    assert response.outcome.startswith("ignored")
    assert payment(p).status == "pending"


@pytest.mark.django_db
def test_a_completed_setup_session_saves_the_card_and_turns_on_autopay(client, stripe_keys, scene):
    from payments.services import plan_create

    with tenancy.office_context(scene.office.id):
        plan = plan_create(
            account=scene.account,
            count=5,
            frequency="monthly",
            start_date=scene.account.placed_at.date(),
        )
    session = {
        "id": "cs_test_setup1",
        "object": "checkout.session",
        "mode": "setup",
        "status": "complete",
        "customer": "cus_Q1",
        "setup_intent": "seti_1Q",
        "metadata": {
            "office_id": str(scene.office.id),
            "account_id": str(scene.account.id),
            "plan_id": str(plan.id),
        },
        "payment_status": "no_payment_required",
        "livemode": False,
    }
    with responses.RequestsMock() as rsps:
        rsps.add(
            responses.GET,
            re.compile(r"https://api\.stripe\.com/v1/setup_intents/seti_1Q"),
            json={
                "id": "seti_1Q",
                "object": "setup_intent",
                "status": "succeeded",
                "customer": "cus_Q1",
                "usage": "off_session",
                "payment_method": {
                    "id": "pm_1Q",
                    "object": "payment_method",
                    "type": "card",
                    "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030},
                },
            },
        )
        response = post_event(client, stripe_event("checkout.session.completed", session))
    assert response.outcome == f"autopay set up for plan {plan.id}"
    with tenancy.office_context(scene.office.id):
        plan.refresh_from_db()
        assert plan.autopay and plan.payment_method.label == "Visa ending 4242"
        assert plan.payment_method.customer_reference == "cus_Q1"
        assert "I authorise" in plan.payment_method.authorisation_text


@pytest.mark.django_db
def test_a_stripe_refund_goes_to_stripe_and_the_ledger_waits_for_its_event(client, started):
    from payments.services import payment_refund

    scene, p, _ = started
    post_event(client, stripe_event("checkout.session.completed", session_object(p)))
    with responses.RequestsMock() as rsps, tenancy.office_context(scene.office.id):
        rsps.add(
            responses.POST,
            "https://api.stripe.com/v1/refunds",
            json={
                "id": "re_1Q",
                "object": "refund",
                "amount": 4000,
                "currency": "usd",
                "payment_intent": "pi_3QaTest",
                "status": "succeeded",
            },
        )
        moved_now = payment_refund(
            payment=payment(p), amount=Decimal("40.00"), reason="Charged twice"
        )
        sent = form_of(rsps.calls[0].request)
        assert sent == {
            "payment_intent": "pi_3QaTest",
            "amount": "4000",
            "metadata[office_id]": str(scene.office.id),
            "metadata[account_id]": str(scene.account.id),
            "metadata[payment_id]": str(p.id),
        }
    assert moved_now is False
    assert balance(scene) == Decimal("300.00")  # not until Stripe says so
    post_event(client, stripe_event("charge.refunded", charge_object(p, amount_refunded=4000)))
    assert balance(scene) == Decimal("340.00")


@pytest.mark.django_db
def test_an_office_with_its_own_stripe_account_has_its_own_endpoint_and_secret(client, started):
    import json as jsonlib

    from recovery.models import ProviderCredential

    scene, p, _ = started
    own = "whsec_office_own_0123"
    with tenancy.office_context(scene.office.id):
        ProviderCredential.objects.create(
            provider="stripe",
            secrets=jsonlib.dumps({"secret_key": "sk_test_office", "webhook_secret": own}),
        )
    event = stripe_event("checkout.session.completed", session_object(p))
    path = f"/payments/stripe/webhook/{scene.office.slug}/"
    assert post_event(client, event, path=path).status_code == 400  # the platform's secret
    assert (
        post_event(client, event, secret=own, path="/payments/stripe/webhook/nope/").status_code
        == 400
    )
    assert post_event(client, event, secret=own, path=path).outcome == "succeeded"
    assert balance(scene) == Decimal("300.00")
