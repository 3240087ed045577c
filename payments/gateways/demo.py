"""The demo gateway: no money moves. Its checkout page (payments.public_views.demo_checkout)
completes or declines the payment through the same services a Stripe webhook calls."""

from django.core import signing
from django.urls import reverse

from payments.gateways import ChargeResult, CheckoutSession

SALT = "demo-checkout"


def checkout_token(payment=None, *, success_url, cancel_url, plan=None):
    """A signed ticket to the demo page: to pay a payment, or to save a card for a plan."""
    target = {"p": payment.id} if payment is not None else {"plan": plan.id}
    office_id = (payment or plan).office_id
    return signing.dumps({"o": office_id, "s": success_url, "c": cancel_url, **target}, salt=SALT)


def checkout_read(token, max_age):
    """The ticket's fields ("o", "p" or "plan", "s", "c"); raises signing.BadSignature."""
    return signing.loads(token, salt=SALT, max_age=max_age)


class DemoGateway:
    name = "demo"
    is_demo = True
    label = "Demo gateway — no real money moves"

    def checkout(self, *, payment, account, success_url, cancel_url, save_method=False):
        token = checkout_token(payment, success_url=success_url, cancel_url=cancel_url)
        url = reverse("demo_checkout", args=[token])
        return CheckoutSession(url=url, reference=f"demo_cs_{payment.id}", expires_at=None)

    def setup(self, *, plan, success_url, cancel_url):
        token = checkout_token(plan=plan, success_url=success_url, cancel_url=cancel_url)
        return reverse("demo_checkout", args=[token])

    def refund(self, *, payment, amount):
        return f"demo_re_{payment.id}"

    def charge_saved(self, *, payment, method, idempotency_key):
        # Demo cards: a method whose reference ends in "0002" is declined, like
        # Stripe's test card 4000 0000 0000 0002.
        if method.method_reference.endswith("0002"):
            return ChargeResult("failed", f"demo_pi_{payment.id}", "Your card was declined.")
        return ChargeResult("succeeded", f"demo_pi_{payment.id}")
