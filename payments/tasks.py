"""Celery tasks of payments: thin, each looks up and calls a service."""

from celery import shared_task

from recovery.tasks import TenantTask


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


@shared_task(base=TenantTask, atomic=False, acks_late=True)
def money_sweep_office(office_id):
    """Autopay notices and charges, missed installments, due promises. Each step opens
    its own office transaction; provider calls run with none open."""
    from payments.services.sweep import money_sweep

    return money_sweep(office_id=office_id)
