"""Two payments of one debtor, on different accounts, applied at the same moment by two
workers: both go through, one after the other, because every payment locks the
payment first and then the debtor's accounts in id order (never its own account
first). Real PostgreSQL row locks, one connection per worker."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction

from accounts.models import Account
from payments.models import Payment
from payments.services.apply import payment_succeeded
from recovery import tenancy
from tests.factories import AccountFactory, DebtorFactory

pytestmark = pytest.mark.django_db(transaction=True)


def pending(account, amount):
    return Payment.objects.create(account=account, debtor_id=account.debtor_id,
                                  amount=Decimal(amount), currency="USD", method="card",
                                  gateway="stripe", source="portal",
                                  idempotency_key=f"lock-order-{account.pk}")  # fmt: skip


def test_two_payments_of_one_debtor_on_different_accounts_never_deadlock(office_a):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    debtor = DebtorFactory(office=office_a)
    first, second = (AccountFactory(office=office_a, debtor=debtor, opening_balance="300.00")
                     for _ in range(2))  # fmt: skip
    with tenancy.office_context(office_a.id):
        on_second, on_first = pending(second, "100.00"), pending(first, "50.00")
    errors = []

    def apply(payment):
        try:
            with tenancy.office_context(office_a.id):
                payment_succeeded(payment=payment)
        except Exception as exc:  # a deadlock: PostgreSQL cancels one of the two
            errors.append(exc)
        finally:
            connections.close_all()

    # Someone holds the second account for a moment (an agent posting to it), so both
    # payments arrive while it is held: the one on the second account first.
    workers = [threading.Thread(target=apply, args=(p,)) for p in (on_second, on_first)]
    with transaction.atomic(), tenancy.office_context(office_a.id):
        Account.objects.select_for_update().get(pk=second.pk)
        for worker in workers:
            worker.start()
            time.sleep(0.5)  # each is waiting on a lock before the next starts
    for worker in workers:
        worker.join(timeout=30)

    assert errors == []
    with tenancy.office_context(office_a.id):
        assert set(Payment.objects.values_list("status", flat=True)) == {"succeeded"}
        balances = dict(Account.objects.values_list("pk", "principal_balance"))
    assert balances == {first.pk: Decimal("250.00"), second.pk: Decimal("200.00")}
