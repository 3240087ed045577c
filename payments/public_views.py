"""Public money endpoints, with no login: the demo gateway's page (found by its signed
ticket) and Stripe's webhook (found by its verified event)."""

import json
import logging

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from stripe import SignatureVerificationError, Webhook, WebhookSignature

from payments import services
from payments.gateways.demo import checkout_read
from payments.models import Payment, PaymentPlan
from payments.services.autopay import authorisation_text, autopay_attach
from recovery import inbox, tenancy
from recovery.models import Office

logger = logging.getLogger(__name__)
TOLERANCE = Webhook.DEFAULT_TOLERANCE  # seconds: a signature older than this is refused


def demo_checkout(request, token):
    """The demo gateway's page: pay a payment or save a card for autopay. No money
    moves, and the page says so."""
    try:
        ticket = checkout_read(token, max_age=settings.CHECKOUT_EXPIRY_MINUTES * 60)
    except signing.BadSignature:
        return render(request, "payments/demo_checkout.html", {"expired": True}, status=400)
    with tenancy.office_context(ticket["o"]):
        office = Office.objects.get(pk=ticket["o"])
        if "plan" in ticket:
            return _demo_setup(request, office, ticket)
        payment = Payment.objects.select_related("account").filter(pk=ticket["p"]).first()
        if payment is None:
            raise Http404("No such payment")
        if request.method == "POST":
            if request.POST.get("action") == "pay":
                services.payment_succeeded(payment=payment, reference=f"demo_pi_{payment.id}")
                return _demo_return(request, ticket["s"])
            services.payment_failed(payment=payment, message="Declined on the demo page.")
            return _demo_return(request, ticket["c"])
        return render(
            request,
            "payments/demo_checkout.html",
            {"payment": payment, "office": office, "cancel_url": ticket["c"]},
        )


def _demo_setup(request, office, ticket):
    plan = PaymentPlan.objects.select_related("account").filter(pk=ticket["plan"]).first()
    if plan is None:
        raise Http404("No such plan")
    if request.method == "POST":
        if request.POST.get("action") != "save":
            return _demo_return(request, ticket["c"])
        card = request.POST.get("card", "4242")
        autopay_attach(
            plan=plan,
            gateway="demo",
            method_reference=f"pm_demo_{card}",
            label=f"Demo card ending {card}",
            ip=request.META.get("REMOTE_ADDR"),
        )
        return _demo_return(request, ticket["s"])
    return render(
        request,
        "payments/demo_checkout.html",
        {"plan": plan, "office": office, "authorisation": authorisation_text(plan, office)},
    )


def _demo_return(request, target):
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host(), *settings.ALLOWED_HOSTS}
    ):
        target = "/"
    return redirect(target)


def _stripe_secrets(office):
    """The signing secrets to try: an office's own endpoint has its own; the platform's
    endpoint takes the platform's and the Connect one."""
    if office is None:
        return [
            s for s in (settings.STRIPE_WEBHOOK_SECRET, settings.STRIPE_CONNECT_WEBHOOK_SECRET) if s
        ]
    from payments.gateways import stripe_config

    with tenancy.office_context(office.id):
        config = stripe_config(office.id)
    return [config.webhook_secret] if config and config.webhook_secret else []


@csrf_exempt
@require_POST
@transaction.non_atomic_requests
def stripe_webhook(request, office_slug=None):
    """Verify the signature on the raw body with the SDK, then store the event in the
    inbox; a worker applies it, once (`recovery.inbox`)."""
    signature = request.headers.get("Stripe-Signature", "")
    office = None
    if office_slug is not None:  # an office's own endpoint (offices are not tenant rows)
        office = Office.objects.filter(slug=office_slug, is_active=True).first()
        if office is None:
            return HttpResponseBadRequest("Unknown office.")
    verified = False
    for secret in _stripe_secrets(office):
        try:  # the SDK's check (what construct_event runs), without building the objects
            WebhookSignature.verify_header(request.body, signature, secret, TOLERANCE)
        except SignatureVerificationError:
            continue
        except ValueError:  # not UTF-8
            return HttpResponseBadRequest("The body is not a Stripe event.")
        verified = True
        break
    if not verified:
        logger.warning("stripe webhook refused: bad signature")
        return HttpResponseBadRequest("Invalid signature.")
    try:
        event = json.loads(request.body)
        event_id = event["id"]  # what it says is checked when it is applied
    except (ValueError, TypeError, KeyError):
        return HttpResponseBadRequest("The body is not a Stripe event.")
    office_hint = office.id if office else None
    inbox.receive(
        "stripe", f"{office_hint or ''}:{event_id}", {"event": event, "office_hint": office_hint}
    )
    return HttpResponse(b'{"received": true}', content_type="application/json")
