"""Stripe: Checkout Sessions for debtor payments, off-session PaymentIntents for
autopay, refunds. Amounts leave here in minor units; metadata carries office, account
and our payment id so a webhook can find its office. Every call passes our own
idempotency key so a retried task never charges twice."""

from datetime import timedelta

import stripe
from django.conf import settings
from django.utils import timezone

from payments.gateways import ChargeResult, CheckoutSession, GatewayError, to_minor


class StripeGateway:
    name = "stripe"
    is_demo = False
    label = "Stripe"

    def __init__(self, config):
        self.config = config
        self.client = stripe.StripeClient(config.api_key, max_network_retries=2)

    def _options(self, idempotency_key):
        options = {"idempotency_key": idempotency_key}
        if self.config.account:
            options["stripe_account"] = self.config.account
        return options

    def _metadata(self, payment):
        return {
            "office_id": str(payment.office_id),
            "account_id": str(payment.account_id),
            "payment_id": str(payment.id),
        }

    def checkout(self, *, payment, account, success_url, cancel_url, save_method=False):
        expires_at = timezone.now() + timedelta(
            minutes=max(30, min(settings.CHECKOUT_EXPIRY_MINUTES, 24 * 60))
        )
        intent = {"metadata": self._metadata(payment), "description": f"Account {account}"}
        if save_method:
            intent["setup_future_usage"] = "off_session"
        fee = to_minor(payment.amount, payment.currency) * self.config.platform_fee_bps // 10000
        if self.config.account and fee:
            intent["application_fee_amount"] = fee
        params = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": payment.currency.lower(),
                        "unit_amount": to_minor(payment.amount, payment.currency),
                        "product_data": {"name": f"Payment on account {account}"},
                    },
                }
            ],
            "payment_method_types": ["card", "us_bank_account"],
            "client_reference_id": str(payment.id),
            "metadata": self._metadata(payment),
            "payment_intent_data": intent,
            "success_url": success_url,
            "cancel_url": cancel_url,
            "expires_at": int(expires_at.timestamp()),
        }
        if save_method:
            params["customer_creation"] = "always"
        try:
            session = self.client.v1.checkout.sessions.create(
                params=params, options=self._options(f"checkout-{payment.idempotency_key}")
            )
        except stripe.StripeError as exc:
            raise GatewayError(exc.user_message or "The card processor is not available.") from exc
        return CheckoutSession(url=session.url, reference=session.id, expires_at=expires_at)

    def setup(self, *, plan, success_url, cancel_url):
        """A Checkout Session in setup mode: the debtor saves a card or bank account."""
        metadata = {
            "office_id": str(plan.office_id),
            "account_id": str(plan.account_id),
            "plan_id": str(plan.id),
        }
        try:
            session = self.client.v1.checkout.sessions.create(
                params={
                    "mode": "setup",
                    "currency": plan.account.currency.lower(),
                    "payment_method_types": ["card", "us_bank_account"],
                    "customer_creation": "always",
                    "client_reference_id": f"plan-{plan.id}",
                    "metadata": metadata,
                    "setup_intent_data": {"metadata": metadata},
                    "success_url": success_url,
                    "cancel_url": cancel_url,
                },
                options=self._options(f"setup-plan-{plan.id}-{plan.installment_count}"),
            )
        except stripe.StripeError as exc:
            raise GatewayError(exc.user_message or "The card processor is not available.") from exc
        return session.url

    def saved_method(self, setup_intent_id):
        """(customer id, payment method id, label) of a completed SetupIntent."""
        intent = self.client.v1.setup_intents.retrieve(
            setup_intent_id,
            params={"expand": ["payment_method"]},
            options={"stripe_account": self.config.account} if self.config.account else {},
        )
        method = intent.payment_method
        card = getattr(method, "card", None)
        bank = getattr(method, "us_bank_account", None)
        if card is not None:
            label = f"{card.brand.title()} ending {card.last4}"
        elif bank is not None:
            label = f"{bank.bank_name or 'Bank account'} ending {bank.last4}"
        else:
            label = "Saved payment method"
        return intent.customer or "", method.id, label

    def refund(self, *, payment, amount):
        try:
            refund = self.client.v1.refunds.create(
                params={
                    "payment_intent": payment.gateway_reference,
                    "amount": to_minor(amount, payment.currency),
                    "metadata": self._metadata(payment),
                },
                options=self._options(f"refund-{payment.idempotency_key}-{amount}"),
            )
        except stripe.StripeError as exc:
            raise GatewayError(exc.user_message or "The refund was refused.") from exc
        return refund.id

    def charge_saved(self, *, payment, method, idempotency_key):
        try:
            intent = self.client.v1.payment_intents.create(
                params={
                    "amount": to_minor(payment.amount, payment.currency),
                    "currency": payment.currency.lower(),
                    "customer": method.customer_reference,
                    "payment_method": method.method_reference,
                    "off_session": True,
                    "confirm": True,
                    "metadata": self._metadata(payment),
                },
                options=self._options(idempotency_key),
            )
        except stripe.CardError as exc:
            intent_id = getattr(exc.error, "payment_intent", None)
            reference = intent_id.get("id", "") if isinstance(intent_id, dict) else ""
            return ChargeResult("failed", reference, exc.user_message or "The card was declined.")
        except stripe.StripeError as exc:
            raise GatewayError(exc.user_message or "The card processor is not available.") from exc
        if intent.status == "succeeded":
            return ChargeResult("succeeded", intent.id)
        if intent.status == "processing":
            return ChargeResult("processing", intent.id)
        return ChargeResult("failed", intent.id, f"Stripe left the payment {intent.status}.")
