"""Reconciliation of the trust account: a Stripe payout's balance transactions matched
to our payments by PaymentIntent (Stripe answered at the HTTP level in its own JSON
format), and the bank statement CSV matched to deposits, with bad files refused whole
and unmatched lines resolved by a person."""

from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
import responses
import time_machine
from django.core.exceptions import ValidationError

from payments.models import BankLine, BankStatementImport, Payment, PayoutLine, StripePayout
from payments.services import payment_record_offline
from payments.services.reconcile import (
    BankFileError,
    bank_line_resolve,
    bank_statement_import,
    stripe_payout_import,
)
from recovery import tenancy
from tests.factories import AccountFactory, UserFactory

NOON = datetime(2026, 11, 17, 17, 0, tzinfo=UTC)
STRIPE = "https://api.stripe.com/v1"
ARRIVAL = int(datetime(2026, 11, 19, tzinfo=UTC).timestamp())


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOON, tick=False):
        yield


@pytest.fixture
def office(office_a):
    account = AccountFactory(office=office_a, opening_balance="2000.00")
    with tenancy.office_context(office_a.id):
        yield SimpleNamespace(office=office_a, account=account, user=UserFactory())


def stripe_payment(account, amount, intent):
    return Payment.objects.create(
        account=account,
        debtor_id=account.debtor_id,
        amount=Decimal(amount),
        currency="USD",
        method="card",
        gateway="stripe",
        gateway_reference=intent,
        status="succeeded",
        source="portal",
        idempotency_key=f"key-{intent}",
        received_at=NOON,
    )


def charge(intent, cents):
    return {
        "id": f"ch_{intent[3:]}",
        "object": "charge",
        "amount": cents,
        "amount_captured": cents,
        "amount_refunded": 0,
        "balance_transaction": f"txn_{intent[3:]}",
        "captured": True,
        "currency": "usd",
        "livemode": False,
        "metadata": {},
        "paid": True,
        "payment_intent": intent,
        "status": "succeeded",
    }


def balance_transaction(txn_id, kind, cents, fee, source, category):
    return {
        "id": txn_id,
        "object": "balance_transaction",
        "amount": cents,
        "available_on": ARRIVAL,
        "created": ARRIVAL - 2 * 86400,
        "currency": "usd",
        "description": None if kind == "payout" else "Payment on account",
        "exchange_rate": None,
        "fee": fee,
        "fee_details": [
            {
                "amount": fee,
                "application": None,
                "currency": "usd",
                "description": "Stripe processing fees",
                "type": "stripe_fee",
            }
        ]
        if fee
        else [],
        "net": cents - fee,
        "reporting_category": category,
        "source": source,
        "status": "available",
        "type": kind,
    }


@pytest.mark.django_db
def test_a_payout_is_matched_to_our_payments_by_payment_intent(office, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_51Recovery"
    ours = stripe_payment(office.account, "100.00", "pi_3QaOurs")
    payout = {
        "id": "po_1QaPayout",
        "object": "payout",
        "amount": 14436,
        "arrival_date": ARRIVAL,  # Stripe: midnight UTC of the arrival day
        "automatic": True,
        "balance_transaction": "txn_1QaPayoutSelf",
        "currency": "usd",
        "livemode": False,
        "method": "standard",
        "status": "paid",
        "type": "bank_account",
    }
    listing = {
        "object": "list",
        "url": "/v1/balance_transactions",
        "has_more": False,
        "data": [
            balance_transaction(
                "txn_3QaOurs", "charge", 10000, 320, charge("pi_3QaOurs", 10000), "charge"
            ),
            balance_transaction(
                "txn_3QaStray", "charge", 5000, 175, charge("pi_3QaStray", 5000), "charge"
            ),
            balance_transaction("txn_1QaPayoutSelf", "payout", -14505, 0, "po_1QaPayout", "payout"),
        ],
    }
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, f"{STRIPE}/payouts/po_1QaPayout", json=payout)
        rsps.add(responses.GET, f"{STRIPE}/balance_transactions", json=listing)
        record = stripe_payout_import(payout_id="po_1QaPayout", actor=office.user)
        asked = rsps.calls[1].request.url
    assert "payout=po_1QaPayout" in asked
    assert (record.amount, record.currency, record.arrival_date) == (
        Decimal("144.36"),
        "USD",
        date(2026, 11, 19),
    )
    lines = {ln.balance_transaction_id: ln for ln in PayoutLine.objects.filter(payout=record)}
    assert lines["txn_3QaOurs"].payment == ours
    assert lines["txn_3QaOurs"].status == "matched"
    assert (lines["txn_3QaOurs"].fee, lines["txn_3QaOurs"].net) == (
        Decimal("3.20"),
        Decimal("96.80"),
    )
    assert lines["txn_3QaStray"].status == "unmatched"
    assert lines["txn_1QaPayoutSelf"].status == "not_a_payment"
    assert record.unmatched_count == 1

    # Importing again refreshes the lines instead of doubling them.
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, f"{STRIPE}/payouts/po_1QaPayout", json=payout)
        rsps.add(responses.GET, f"{STRIPE}/balance_transactions", json=listing)
        stripe_payout_import(payout_id="po_1QaPayout")
    assert PayoutLine.objects.filter(payout=record).count() == 3


@pytest.mark.django_db
def test_a_payout_import_without_stripe_or_with_a_bad_id_says_so(office, settings):
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(ValidationError, match="payout id"):
        stripe_payout_import(payout_id="1234")
    with pytest.raises(ValidationError, match="not configured"):
        stripe_payout_import(payout_id="po_123")


def csv_bytes(*rows, header="date,description,amount,reference"):
    return ("\n".join([header, *rows]) + "\n").encode()


@pytest.mark.django_db
def test_a_bank_file_with_bad_rows_imports_nothing_and_says_which(office):
    data = csv_bytes(
        "2026-11-16,Deposit,100.00,1001",
        "2026-17-31,Deposit,50.00,X",
        '2026-11-16,Deposit,"12,5x",Y',
        "2026-11-16,Deposit,0.00,Z",
        "2026-11-16,Deposit,1.005,Z",
    )
    with pytest.raises(BankFileError) as caught:
        bank_statement_import(data=data, filename="nov.csv")
    assert [(n, field) for n, field, _ in caught.value.rows] == [
        (3, "date"),
        (4, "amount"),
        (5, "amount"),
        (6, "amount"),
    ]
    assert "Line 3, date" in caught.value.messages[0]
    assert BankStatementImport.objects.count() == 0 and BankLine.objects.count() == 0

    with pytest.raises(BankFileError, match="missing: reference"):
        bank_statement_import(
            data=csv_bytes("2026-11-16,x,1.00", header="date,description,amount"),
            filename="x.csv",
        )


@pytest.mark.django_db
def test_bank_lines_match_checks_and_payouts_and_the_rest_wait_for_a_person(office):
    check = payment_record_offline(
        account=office.account,
        amount="100.00",
        method="check",
        instrument={"check_number": "4410"},
        actor=None,
        received_on=date(2026, 11, 16),
    )
    payout = StripePayout.objects.create(
        payout_id="po_1QaBank", amount="250.00", currency="USD", arrival_date=date(2026, 11, 18)
    )
    data = csv_bytes(
        "2026-11-19,DEPOSIT CHECK 4410,100.00,",
        "2026-11-18,STRIPE PAYOUT,250.00,ST-XYZ",
        "2026-11-18,MOBILE DEPOSIT,75.00,",
        "11/20/2026,SERVICE FEE,(12.00),",
    )
    done = bank_statement_import(data=data, filename="nov.csv", actor=office.user)
    assert (done.line_count, done.matched_count) == (4, 2)
    lines = {ln.line_number: ln for ln in done.lines.all()}
    assert lines[2].payment == check and lines[3].payout == payout
    assert lines[4].status == lines[5].status == "unmatched"
    assert lines[5].amount == Decimal("-12.00")

    with pytest.raises(BankFileError, match="already imported"):
        bank_statement_import(data=data, filename="again.csv")

    with pytest.raises(ValidationError, match="Say what this line is"):
        bank_line_resolve(line=lines[5], action="not_ours", actor=office.user)
    fee = bank_line_resolve(line=lines[5], action="not_ours", note="Bank fee", actor=office.user)
    assert fee.status == "not_ours" and fee.resolved_by == office.user

    other = payment_record_offline(
        account=office.account,
        amount="70.00",
        method="money_order",
        instrument={"serial_number": "MO-88"},
        actor=None,
    )
    with pytest.raises(ValidationError, match="amounts differ"):
        bank_line_resolve(line=lines[4], action="match", payment_id=other.pk, actor=office.user)
    with pytest.raises(ValidationError, match="already matched"):
        bank_line_resolve(
            line=lines[4], action="match", payment_id=check.pk, note="dup", actor=office.user
        )
    matched = bank_line_resolve(
        line=lines[4],
        action="match",
        payment_id=other.pk,
        note="Deposited with a $5 cash top-up",
        actor=office.user,
    )
    assert matched.status == "matched" and matched.matched_by_hand


@pytest.mark.django_db
def test_a_deposit_two_payments_fit_waits_for_a_person(office):
    for _ in range(2):
        payment_record_offline(
            account=office.account,
            amount="40.00",
            method="check",
            instrument={"check_number": "777"},
            actor=None,
        )
    done = bank_statement_import(data=csv_bytes("2026-11-17,CHECK 777,40.00,"), filename="dup.csv")
    line = done.lines.get()
    assert line.status == "unmatched" and "2 deposits fit" in line.note
