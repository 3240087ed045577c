"""Payments staff record by hand: a check or money order in the mail, a bank transfer,
a check taken by phone (with the check's numbers). They are applied at once and get a
receipt like any other; a check that bounces is reversed with `payment_returned`."""

import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from compliance.services.dates import day_start
from payments.models import Payment, Source
from payments.services.apply import payment_reverse, payment_succeeded
from payments.services.checkout import parse_amount

OFFLINE_METHODS = {
    Payment.Method.CHECK: ("check_number",),
    Payment.Method.MONEY_ORDER: ("serial_number",),
    Payment.Method.TRANSFER: ("bank_reference",),
    Payment.Method.CHECK_BY_PHONE: ("routing_number", "account_last4", "check_number"),
}
FIELD_LABEL = {
    "check_number": "the check number",
    "serial_number": "the money order's serial number",
    "bank_reference": "the bank's reference",
    "routing_number": "the routing number",
    "account_last4": "the last 4 digits of the bank account",
}


def _aba_ok(routing):
    """The ABA routing number checksum (3-7-1 weights)."""
    if len(routing) != 9 or not routing.isdigit():
        return False
    d = [int(c) for c in routing]
    return (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5] + d[8])) % 10 == 0


def _instrument(method, data):
    needed = OFFLINE_METHODS.get(method)
    if needed is None:
        raise ValidationError(
            {"method": "Choose check, money order, bank transfer or check by phone."}
        )
    instrument, errors = {}, {}
    for name in needed:
        value = str(data.get(name, "")).strip()
        if not value:
            errors[name] = f"Enter {FIELD_LABEL[name]}."
        instrument[name] = value
    if "routing_number" in instrument and not errors.get("routing_number"):
        if not _aba_ok(instrument["routing_number"]):
            errors["routing_number"] = "That routing number is not valid (9 digits, checksum)."
    if "account_last4" in instrument and not errors.get("account_last4"):
        if not (len(instrument["account_last4"]) == 4 and instrument["account_last4"].isdigit()):
            errors["account_last4"] = "Enter exactly the last 4 digits."
    if errors:
        raise ValidationError(errors)
    return instrument


@transaction.atomic
def payment_record_offline(
    *, account, amount, method, instrument, actor, received_on=None, direction=None
):
    """Record money received outside the gateways and apply it now."""
    errors = {}
    try:
        amount = parse_amount(amount)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        details = _instrument(method, instrument or {})
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:  # every problem at once, so the person fixes them in one go
        raise ValidationError(errors)
    account = Account.objects.select_related("debtor").get(pk=account.pk)
    today = account.office.today()
    received_on = received_on or today
    if received_on > today:
        raise ValidationError({"received_on": "The date received cannot be in the future."})
    payment = Payment.objects.create(
        account=account,
        debtor_id=account.debtor_id,
        amount=amount,
        currency=account.currency,
        method=method,
        gateway=Payment.Gateway.OFFLINE,
        source=Source.AGENT,
        idempotency_key=f"offline-{uuid.uuid4().hex}",
        instrument=details,
        direction={str(k): str(v) for k, v in (direction or {}).items()},
        recorded_by=actor,
    )
    # Today: the moment it is recorded. An earlier day: that day's start in the office's
    # zone (the hour is rarely known), not midnight UTC, which is the evening before in
    # the Americas and would put the payment in the wrong day's figures.
    received_at = (
        timezone.now()
        if received_on == today
        else day_start(office=account.office, day=received_on)
    )
    return payment_succeeded(payment=payment, received_at=received_at, actor=actor)


@transaction.atomic
def payment_returned(*, payment, reason, actor):
    """A check or transfer came back unpaid: reverse it in full."""
    if payment.gateway != Payment.Gateway.OFFLINE:
        raise ValidationError("Card and bank payments are reversed by the processor's events.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why it came back (e.g. insufficient funds)."})
    return payment_reverse(payment=payment, reason=reason, kind="returned", actor=actor)
