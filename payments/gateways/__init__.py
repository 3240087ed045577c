"""Payment gateways behind one small interface.

`gateway_for(office)` returns Stripe when a Stripe key is configured (the platform's,
acting for the office's connected account, or the office's own), otherwise the demo
gateway, which completes a payment the way a webhook would and says so on every page.
"""

import json
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from recovery.models import ProviderCredential

MINOR_UNITS = {"JPY": 0, "KRW": 0}


class GatewayError(Exception):
    """The gateway refused or could not be reached; the message is safe to show staff."""


@dataclass(frozen=True)
class CheckoutSession:
    url: str
    reference: str
    expires_at: datetime | None


@dataclass(frozen=True)
class ChargeResult:
    """An off-session charge: succeeded, processing (ACH), or failed with a reason."""

    status: str  # succeeded | processing | failed
    reference: str
    message: str = ""


def to_minor(amount, currency):
    """Decimal money to the integer minor units Stripe takes; only at this boundary."""
    digits = MINOR_UNITS.get(currency.upper(), 2)
    return int((amount * (10**digits)).to_integral_value())


def from_minor(value, currency):
    from decimal import Decimal

    digits = MINOR_UNITS.get(currency.upper(), 2)
    return (Decimal(value) / (10**digits)).quantize(Decimal(1) / (10**digits))


@dataclass(frozen=True)
class StripeConfig:
    api_key: str
    account: str | None  # a Connect account to act for
    webhook_secret: str
    platform_fee_bps: int


def stripe_config(office_id):
    """The Stripe settings for an office: its own credential, else the platform's."""
    own = ProviderCredential.objects.filter(provider="stripe").first()
    data = json.loads(own.secrets) if own and own.secrets else {}
    api_key = data.get("secret_key") or settings.STRIPE_SECRET_KEY
    if not api_key:
        return None
    return StripeConfig(
        api_key=api_key,
        account=data.get("connect_account_id") or None,
        webhook_secret=data.get("webhook_secret") or settings.STRIPE_WEBHOOK_SECRET,
        platform_fee_bps=0 if data.get("secret_key") else settings.STRIPE_PLATFORM_FEE_BPS,
    )


def gateway_for(office):
    from payments.gateways.demo import DemoGateway
    from payments.gateways.stripe import StripeGateway

    config = stripe_config(office.id)
    return StripeGateway(config) if config else DemoGateway()
