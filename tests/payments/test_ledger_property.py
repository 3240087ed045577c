"""Any sequence of payments, partial payments, refunds, chargebacks, returned checks and
adjustments leaves each account's cached balances equal to its ledger, never below zero
(an overpayment is held as a credit on the payment instead)."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import ZERO, Account, Transaction
from accounts.services import ledger_post, ledger_sums
from payments.models import Payment
from payments.services import payment_record_offline, payment_reverse
from recovery import tenancy
from tests.factories import AccountFactory, DebtorFactory, UserFactory

cents = st.integers(min_value=1, max_value=90_000).map(lambda c: Decimal(c) / 100)
operation = st.one_of(
    st.tuples(st.just("pay"), st.integers(0, 1), cents),
    st.tuples(st.just("refund_part"), st.integers(0, 20), cents),
    st.tuples(st.just("refund_all"), st.integers(0, 20), st.just(None)),
    st.tuples(st.just("chargeback"), st.integers(0, 20), st.just(None)),
    st.tuples(st.just("returned"), st.integers(0, 20), st.just(None)),
    st.tuples(st.just("fee"), st.integers(0, 1), cents),
)


@pytest.mark.django_db
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ops=st.lists(operation, min_size=1, max_size=12))
def test_balances_follow_the_ledger_through_any_sequence(office_a, ops):
    user = UserFactory()
    debtor = DebtorFactory(office=office_a)
    accounts = [
        AccountFactory(office=office_a, debtor=debtor, opening_balance="300.00"),
        AccountFactory(office=office_a, debtor=debtor, opening_balance="125.50"),
    ]
    payments = []
    with tenancy.office_context(office_a.id):
        for kind, index, amount in ops:
            if kind == "pay":
                payments.append(
                    payment_record_offline(
                        account=accounts[index],
                        amount=amount,
                        method="check",
                        instrument={"check_number": "1001"},
                        actor=user,
                    )
                )
            elif kind == "fee":
                ledger_post(account=accounts[index], kind=Transaction.Kind.FEE, fees=amount)
            elif payments:
                payment = Payment.objects.get(pk=payments[index % len(payments)].pk)
                left = payment.amount - payment.refunded_amount
                if kind == "refund_part" and left > 0:
                    payment_reverse(payment=payment, amount=min(amount, left), reason="part")
                elif kind == "refund_all":
                    payment_reverse(payment=payment, reason="all")
                elif kind in ("chargeback", "returned"):
                    payment_reverse(payment=payment, reason=kind, kind=kind)
            for account in Account.objects.filter(pk__in=[a.pk for a in accounts]):
                sums = ledger_sums(account)
                assert (
                    account.principal_balance,
                    account.interest_balance,
                    account.fees_balance,
                ) == (sums["principal"], sums["interest"], sums["fees"])
                assert (
                    min(account.principal_balance, account.interest_balance, account.fees_balance)
                    >= ZERO
                )
            for payment in Payment.objects.filter(account__debtor=debtor):
                assert ZERO <= payment.unapplied_amount <= payment.amount
                assert ZERO <= payment.refunded_amount <= payment.amount
        # Money in equals money applied plus credit minus money given back.
        net = sum(
            (p.amount - p.refunded_amount for p in Payment.objects.filter(account__debtor=debtor)),
            ZERO,
        )
        collected = sum((a.total_collected for a in Account.objects.filter(debtor=debtor)), ZERO)
        credit = sum(
            (p.unapplied_amount for p in Payment.objects.filter(account__debtor=debtor)), ZERO
        )
        assert collected + credit == net
