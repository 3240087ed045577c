"""Payments the debtor made to the creditor directly, as the creditor reports them.

The account's balance goes down like for any payment, and the agency still earns its
commission on it: the remittance statement shows it as a "paid direct" line and invoices
the fee. No receipt goes to the debtor — the office did not receive this money.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from payments.models import Payment, Source
from payments.services.apply import payment_succeeded
from payments.services.checkout import parse_amount


def is_direct(payment):
    return payment.source == Source.CREDITOR


@transaction.atomic
def payment_direct_report(*, account, amount, received_on, reference, actor):
    """Record and apply a payment the creditor received. Reporting the same creditor
    reference for the same account again returns the payment already recorded."""
    amount = parse_amount(amount)
    reference = (reference or "").strip()
    if not reference:
        raise ValidationError({"reference": "Enter the creditor's reference for this payment."})
    if received_on > timezone.localdate():
        raise ValidationError({"received_on": "The date received cannot be in the future."})
    account = Account.objects.select_for_update().get(pk=account.pk)
    key = f"direct-{account.pk}-{reference}"[:80]
    existing = Payment.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    if amount > account.balance:
        raise ValidationError(
            {"amount": f"The account's balance is {account.balance}; the creditor reports more."}
        )
    payment = Payment.objects.create(
        account=account,
        debtor_id=account.debtor_id,
        amount=amount,
        currency=account.currency,
        method=Payment.Method.TRANSFER,
        gateway=Payment.Gateway.OFFLINE,
        source=Source.CREDITOR,
        idempotency_key=key,
        # Only to this account: the creditor's money never pays another creditor's debt.
        direction={str(account.pk): str(amount)},
        instrument={"paid_direct": True, "creditor_reference": reference},
        recorded_by=actor,
        # The receipt task skips a payment that has one: the office received nothing.
        receipt_sent_at=timezone.now(),
    )
    received_at = timezone.make_aware(
        timezone.datetime.combine(received_on, timezone.datetime.min.time())
    )
    return payment_succeeded(payment=payment, received_at=received_at, actor=actor)
