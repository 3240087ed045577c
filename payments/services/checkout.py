"""Starting a payment: the debtor (portal) or an agent asks to pay an amount now.

The amount is checked against the current balance at the moment of asking (a stale
link never asks for more than is owed, F-AMOUNT), compliance is asked once more, the
payment row is written, and only then is the gateway called, outside the transaction;
if the gateway fails the payment is marked failed with the reason.

No convenience or processing fee is ever added to what the debtor pays (F-FEES): the
amount charged is the amount chosen."""

import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import ZERO, Account, Event
from accounts.services import event_record
from compliance.facts import Attempt
from compliance.gate import evaluate
from payments.gateways import GatewayError, gateway_for
from payments.models import Payment, SettlementOffer, Source
from payments.selectors import pay_options

CENT = Decimal("0.01")


@dataclass(frozen=True)
class CheckoutStart:
    payment: Payment
    redirect_url: str


def parse_amount(value):
    """A person's typed amount ("1,250.5", "$40") as Decimal cents, or a clear error."""
    text = str(value or "").strip().replace(",", "").replace("$", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValidationError({"amount": "Enter an amount like 125.00."}) from None
    if not amount.is_finite() or amount != amount.quantize(CENT):
        raise ValidationError({"amount": "Use at most two decimal places, like 125.50."})
    if amount <= ZERO:
        raise ValidationError({"amount": "The amount must be more than zero."})
    return amount


def _check_amount(account, amount, *, settle, today):
    options = pay_options(account, today)
    if not account.is_open or options.balance <= ZERO:
        raise ValidationError("There is nothing to pay on this account.")
    if settle:
        lump = options.lump_sum
        if lump is None:
            raise ValidationError("There is no lump-sum offer on this account right now.")
        if amount != lump.amount:
            raise ValidationError({"amount": f"The lump-sum offer is exactly {lump.amount}."})
        return lump
    if amount > options.balance:
        raise ValidationError(
            {
                "amount": f"That is more than the balance of {options.balance}; "
                "enter at most the balance."
            }
        )
    if amount < options.minimum_payment and amount != options.balance:
        raise ValidationError(
            {"amount": f"The smallest payment we can take is {options.minimum_payment}."}
        )
    return None


def _check_direction(account, amount, direction, *, today):
    """The debtor's split of one payment across their accounts (F-ALLOC: followed as
    directed): each part on an open account of the same debtor, at most its balance,
    adding up to the payment. Returns {account id: Decimal}."""
    parts = {int(k): parse_amount(v) for k, v in direction.items()}
    accounts = {
        a.id: a
        for a in Account.objects.select_for_update().filter(
            pk__in=parts, debtor_id=account.debtor_id
        )
    }
    if set(parts) - set(accounts):
        raise ValidationError("The split names an account that is not this debtor's.")
    for account_id, part in parts.items():
        target = accounts[account_id]
        if not target.is_open or part > target.balance:
            raise ValidationError(
                {"amount": f"{target.office_reference}: at most {target.balance} can be paid."}
            )
    if sum(parts.values()) != amount:
        raise ValidationError({"amount": "The parts must add up to the payment."})
    minimum = pay_options(account, today).minimum_payment
    if amount < minimum:
        raise ValidationError({"amount": f"The smallest payment we can take is {minimum}."})
    return parts


def _offer_taken(account, lump, *, today, actor, source):
    """Fix the offer the debtor accepted, so it cannot change under them."""
    if lump.offer_id:
        return SettlementOffer.objects.get(pk=lump.offer_id)
    return SettlementOffer.objects.create(
        account=account,
        balance_at_offer=account.balance,
        amount=lump.amount,
        expires_on=lump.expires_on,
        source=source,
        created_by=actor,
    )


def checkout_start(
    *,
    account,
    amount,
    success_url,
    cancel_url,
    debtor_id=None,
    source=Source.PORTAL,
    settle=False,
    direction=None,
    save_method=False,
    actor=None,
):
    """Create a payment for `amount` on `account` and the gateway page to pay it."""
    amount = parse_amount(amount)
    today = account.office.today()
    with transaction.atomic():
        account = Account.objects.select_for_update().select_related("creditor").get(pk=account.pk)
        if debtor_id is not None and account.debtor_id != debtor_id:
            raise ValidationError("This account is not yours to pay.")
        if direction:
            if settle:
                raise ValidationError("A settlement is for one account at a time.")
            direction = _check_direction(account, amount, direction, today=today)
            lump = None
        else:
            lump = _check_amount(account, amount, settle=settle, today=today)
        [outcome] = evaluate(
            [
                Attempt(
                    account_id=account.id,
                    channel="payment_link",
                    at=timezone.now(),
                    debtor_initiated=source == Source.PORTAL,
                )
            ]
        )
        if not outcome.allowed:
            raise ValidationError(
                f"We can't take a payment on this account now: {outcome.explanation}"
            )
        gateway = gateway_for(account.office)
        payment = Payment.objects.create(
            account=account,
            debtor_id=account.debtor_id,
            amount=amount,
            currency=account.currency,
            method=Payment.Method.DEMO if gateway.is_demo else Payment.Method.CARD,
            gateway=gateway.name,
            source=source,
            idempotency_key=f"pay-{uuid.uuid4().hex}",
            direction={str(k): str(v) for k, v in (direction or {}).items()},
            settles_account=bool(settle),
            recorded_by=actor,
        )
        if lump is not None:
            offer = _offer_taken(account, lump, today=today, actor=actor, source=source)
            offer.accepted_by = payment
            offer.save(update_fields=["accepted_by"])
        event_record(
            account=account,
            kind=Event.Kind.PAYMENT,
            actor=actor,
            summary=f"Payment of {amount} started"
            + (" (lump-sum settlement)" if settle else "")
            + f" via {gateway.label}",
            amount=amount,
            channel=source,
            data={"payment_id": payment.id, "status": "started"},
        )
    try:
        session = gateway.checkout(
            payment=payment,
            account=account,
            success_url=success_url,
            cancel_url=cancel_url,
            save_method=save_method,
        )
    except GatewayError as exc:
        from payments.services.apply import payment_failed

        payment_failed(payment=payment, message=str(exc))
        raise ValidationError(f"The payment page could not be opened: {exc}") from exc
    payment.checkout_reference = session.reference
    payment.checkout_url = session.url
    payment.expires_at = session.expires_at
    payment.save(update_fields=["checkout_reference", "checkout_url", "expires_at"])
    return CheckoutStart(payment=payment, redirect_url=session.url)
