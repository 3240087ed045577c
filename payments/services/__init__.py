"""The verbs of money. One function per business action, each in its own transaction;
views, tasks, webhooks and the API call these and nothing else."""

from payments.services.apply import (
    payment_failed,
    payment_processing,
    payment_refund,
    payment_reverse,
    payment_succeeded,
)
from payments.services.autopay import autopay_attach, autopay_cancel, autopay_setup_start
from payments.services.checkout import CheckoutStart, checkout_start, parse_amount
from payments.services.offline import payment_record_offline, payment_returned
from payments.services.plan_changes import installment_reschedule, installment_skip, plan_reduce
from payments.services.plans import (
    plan_approve,
    plan_cancel,
    plan_create,
    plan_decline,
    plan_propose,
    promise_create,
)
from payments.services.receipts import receipt_send

__all__ = [
    "autopay_attach",
    "autopay_cancel",
    "autopay_setup_start",
    "CheckoutStart",
    "checkout_start",
    "installment_reschedule",
    "installment_skip",
    "plan_reduce",
    "parse_amount",
    "payment_failed",
    "payment_processing",
    "payment_record_offline",
    "payment_refund",
    "payment_returned",
    "payment_reverse",
    "payment_succeeded",
    "plan_approve",
    "plan_cancel",
    "plan_create",
    "plan_decline",
    "plan_propose",
    "promise_create",
    "receipt_send",
]
