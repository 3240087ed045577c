"""Celery tasks of payments: thin, each looks up and calls a service."""

import logging

from celery import shared_task

from recovery.tasks import TenantTask

logger = logging.getLogger(__name__)


@shared_task(base=TenantTask)
def payment_receipt(office_id, payment_id):
    from payments.services.receipts import receipt_send

    document = receipt_send(payment_id=payment_id)
    return document.id if document else None


@shared_task(base=TenantTask)
def account_closure_letter(office_id, account_id):
    from payments.services.receipts import closure_letter_send

    document = closure_letter_send(account_id=account_id)
    return document.id if document else None


@shared_task(base=TenantTask, atomic=False)
def payment_letters(office_id, payment_ids, account_ids=()):
    """The receipts for many payments applied together, then the paid-in-full or settled
    letters for the accounts they closed: one task instead of one per document, each
    document in its own transaction. One that fails does not hold up the rest; it is
    queued again on its own."""
    for task, ids in ((payment_receipt, payment_ids), (account_closure_letter, account_ids)):
        for one in ids:
            try:
                task(office_id, one)
            except Exception:
                logger.exception(
                    "letter not sent; queued alone", extra={"task": task.name, "id": one}
                )
                task.delay(office_id, one)


@shared_task(base=TenantTask, atomic=False, acks_late=True)
def money_sweep_office(office_id):
    """Autopay notices and charges, missed installments, due promises. Each step opens
    its own office transaction; provider calls run with none open."""
    from payments.services.sweep import money_sweep

    return money_sweep(office_id=office_id)
