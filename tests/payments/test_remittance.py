"""Remittance statements: their totals equal the ledger to the cent for every kind of
statement, issued statements never change, corrections land on the next statement, no
ledger row is remitted twice, and commission tiers pick the right rate."""

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Account, Transaction
from payments.models import (
    CommissionTier,
    Payment,
    RemittanceLine,
    RemittanceStatement,
)
from payments.remittance.commission import rate_for, split
from payments.remittance.models import Immutable
from payments.services import payment_record_offline, payment_reverse
from payments.services.direct import payment_direct_report
from payments.services.remittance import (
    remittance_discard,
    remittance_issue,
    remittance_period,
    remittance_prepare,
)
from recovery import tenancy
from tests.factories import AccountFactory, CreditorFactory, DebtorFactory, UserFactory

NOON = datetime(2026, 11, 17, 17, 0, tzinfo=UTC)  # noon in New York, the office's zone
TODAY = date(2026, 11, 17)
CENT = Decimal("0.01")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOON, tick=False):
        yield


def pay(account, amount, check="1001"):
    return payment_record_offline(
        account=account,
        amount=amount,
        method="check",
        instrument={"check_number": check},
        actor=None,
    )


def money_ledger(creditor, **filters):
    """The creditor's collected money, summed straight from the ledger: payment rows and
    reversals of payments, not the reversal of a settlement's write-off."""
    rows = (
        Transaction.objects.filter(
            account__creditor=creditor,
            payment__isnull=False,
            kind__in=["payment", "reversal"],
            **filters,
        )
        .exclude(reverses__kind="adjustment")
        .aggregate(p=Sum("principal"), i=Sum("interest"), f=Sum("fees"))
    )
    # To the cent: SQLite sums decimals in floating point (7.71 comes back 7.71000000000002).
    return -sum((v or Decimal(0) for v in rows.values()), Decimal(0)).quantize(Decimal("0.01"))


cents = st.integers(min_value=1, max_value=40_000).map(lambda c: Decimal(c) / 100)
operation = st.one_of(
    st.tuples(st.just("pay"), st.integers(0, 1), cents),
    st.tuples(st.just("direct"), st.integers(0, 1), cents),
    st.tuples(st.just("refund_part"), st.integers(0, 20), cents),
    st.tuples(st.just("refund_all"), st.integers(0, 20), st.just(None)),
    st.tuples(st.just("chargeback"), st.integers(0, 20), st.just(None)),
)
rates = st.integers(min_value=0, max_value=10_000).map(lambda r: Decimal(r) / 10_000)


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    ops=st.lists(operation, min_size=1, max_size=10),
    rate=rates,
    kind=st.sampled_from(["gross", "net", "combined"]),
    issue_midway=st.booleans(),
)
def test_statement_totals_equal_the_ledger_to_the_cent(office_a, ops, rate, kind, issue_midway):
    creditor = CreditorFactory(office=office_a, contingency_fee_rate=rate)
    debtor = DebtorFactory(office=office_a)
    accounts = [
        AccountFactory(office=office_a, creditor=creditor, debtor=debtor, opening_balance="900"),
        AccountFactory(office=office_a, creditor=creditor, debtor=debtor, opening_balance="350"),
    ]
    statements = []
    with tenancy.office_context(office_a.id):
        payments = []
        for step, (op, index, amount) in enumerate(ops):
            if issue_midway and step == len(ops) // 2:
                statements.append(
                    remittance_issue(
                        statement=remittance_prepare(
                            creditor=creditor, period_start=TODAY, period_end=TODAY, kind=kind
                        )
                    )
                )
            if op in ("pay", "direct"):
                account = Account.objects.get(pk=accounts[index].pk)
                amount = min(amount, account.balance)
                if amount <= 0:
                    continue
                if op == "pay":
                    payments.append(pay(account, amount))
                else:
                    payments.append(
                        payment_direct_report(
                            account=account,
                            amount=amount,
                            received_on=TODAY,
                            reference=f"CR-{step}",
                            actor=None,
                        )
                    )
            elif payments:
                payment = Payment.objects.get(pk=payments[index % len(payments)].pk)
                left = payment.amount - payment.refunded_amount
                if op == "refund_part" and left > 0:
                    payment_reverse(payment=payment, amount=min(amount, left), reason="part")
                elif op == "refund_all":
                    payment_reverse(payment=payment, reason="all")
                elif op == "chargeback":
                    payment_reverse(payment=payment, reason="cb", kind="chargeback")
        statements.append(
            remittance_prepare(creditor=creditor, period_start=TODAY, period_end=TODAY, kind=kind)
        )

        collected = sum((s.collected for s in statements), Decimal(0))
        direct = sum((s.direct for s in statements), Decimal(0))
        # The statements together hold exactly the ledger's money rows, to the cent ...
        assert collected + direct == money_ledger(creditor)
        assert direct == money_ledger(creditor, payment__source="creditor")
        assert collected + direct == sum(
            Account.objects.filter(creditor=creditor).values_list("total_collected", flat=True),
            Decimal(0),
        )
        assert RemittanceLine.objects.filter(statement__creditor=creditor).count() == (
            Transaction.objects.filter(account__creditor=creditor, payment__isnull=False)
            .exclude(kind="adjustment")
            .exclude(reverses__kind="adjustment")
            .count()
        )
        for statement in statements:
            lines = list(statement.lines.all())
            # ... each line's fee is the rate's share rounded half up, the rest the creditor's ...
            for line in lines:
                assert line.rate == rate
                assert line.fee == (line.amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)
                assert line.fee + line.creditor_share == line.amount
            agg = statement.lines.aggregate(amount=Sum("amount"), fee=Sum("fee"))
            assert (agg["amount"] or 0) == statement.collected + statement.direct
            assert (agg["fee"] or 0) == statement.collected_fee + statement.direct_fee
            # ... and what is remitted less what is invoiced is the creditor's position.
            fees = statement.collected_fee + statement.direct_fee
            assert statement.remit_amount - statement.invoice_amount == (statement.collected - fees)
            if kind == "gross":
                assert statement.remit_amount == statement.collected
                assert statement.invoice_amount == fees
            elif kind == "net":
                assert statement.remit_amount == statement.collected - statement.collected_fee
                assert statement.invoice_amount == statement.direct_fee
            else:
                assert min(statement.remit_amount, statement.invoice_amount) == 0


@pytest.fixture
def book(office_a):
    """A creditor at 25% with one account of 1,000.00."""
    creditor = CreditorFactory(office=office_a, contingency_fee_rate=Decimal("0.2500"))
    account = AccountFactory(office=office_a, creditor=creditor, opening_balance="1000.00")
    with tenancy.office_context(office_a.id):
        yield SimpleNamespace(creditor=creditor, account=account, office=office_a)


def prepare(book, kind="net", start=TODAY, end=TODAY):
    return remittance_prepare(creditor=book.creditor, period_start=start, period_end=end, kind=kind)


@pytest.mark.django_db
def test_an_issued_statement_cannot_change(book):
    pay(book.account, "100.00")
    statement = remittance_issue(statement=prepare(book), actor=UserFactory())
    assert statement.number == 1 and statement.reference.endswith("-0001")
    assert statement.document.kind == "remittance"
    assert statement.document.file.read().startswith(b"%PDF")

    stored = RemittanceStatement.objects.get(pk=statement.pk)
    stored.remit_amount = Decimal("1.00")
    with pytest.raises(Immutable):
        stored.save()
    with pytest.raises(Immutable):
        stored.delete()
    line = stored.lines.get()
    line.fee = Decimal("0")
    with pytest.raises(Immutable):
        line.save()
    with pytest.raises(ValidationError):
        remittance_discard(statement=stored)
    with pytest.raises(ValidationError, match="already been issued"):
        remittance_issue(statement=stored)
    stored.refresh_from_db()
    assert (stored.remit_amount, stored.collected_fee) == (Decimal("75.00"), Decimal("25.00"))


@pytest.mark.django_db
def test_a_refund_after_issue_shows_on_the_next_statement_as_a_negative_line(book):
    payment = pay(book.account, "100.00")
    first = remittance_issue(statement=prepare(book))
    with time_machine.travel(NOON + timedelta(days=20), tick=False):
        payment_reverse(payment=payment, amount=Decimal("40.00"), reason="refund")
        second = prepare(book, start=date(2026, 12, 1), end=date(2026, 12, 7))
    [line] = second.lines.all()
    assert (line.kind, line.amount, line.fee, line.creditor_share) == (
        "reversal",
        Decimal("-40.00"),
        Decimal("-10.00"),
        Decimal("-30.00"),
    )
    assert second.remit_amount == Decimal("-30.00")  # the creditor owes it back
    first.refresh_from_db()
    assert first.collected == Decimal("100.00") and first.lines.count() == 1


@pytest.mark.django_db
def test_a_late_row_from_an_earlier_period_is_carried_forward(book):
    pay(book.account, "60.00")
    with time_machine.travel(NOON + timedelta(days=20), tick=False):
        statement = prepare(book, start=date(2026, 12, 1), end=date(2026, 12, 7))
    [line] = statement.lines.all()
    assert line.carried_forward and line.amount == Decimal("60.00")


@pytest.mark.django_db
def test_no_ledger_row_is_on_two_statements(book):
    pay(book.account, "100.00")
    first = remittance_issue(statement=prepare(book))
    again = prepare(book)
    assert again.line_count == 0 and again.collected == 0
    row = first.lines.get().transaction
    with pytest.raises(IntegrityError), transaction.atomic():
        RemittanceLine.objects.bulk_create(
            [
                RemittanceLine(
                    office_id=book.office.id,
                    statement=again,
                    transaction=row,
                    account=book.account,
                    payment_id=row.payment_id,
                    kind="payment",
                    effective_date=TODAY,
                    received_on=TODAY,
                    amount=Decimal("100.00"),
                    rate=Decimal("0.25"),
                    fee=Decimal("25.00"),
                    creditor_share=Decimal("75.00"),
                )
            ]
        )


@pytest.mark.django_db
def test_preparing_again_replaces_the_draft(book):
    pay(book.account, "10.00")
    first = prepare(book)
    pay(book.account, "20.00", check="1002")
    second = prepare(book, kind="gross")
    assert not RemittanceStatement.objects.filter(pk=first.pk).exists()
    assert second.collected == Decimal("30.00") and second.invoice_amount == Decimal("7.50")


@pytest.mark.django_db
def test_a_stale_draft_must_be_prepared_again_before_it_is_issued(book):
    pay(book.account, "10.00")
    draft = prepare(book)
    pay(book.account, "20.00", check="1002")
    with pytest.raises(ValidationError, match="Prepare the statement again"):
        remittance_issue(statement=draft)


@pytest.mark.django_db
def test_direct_payments_earn_the_fee_and_it_is_invoiced(
    book, mailoutbox, django_capture_on_commit_callbacks
):
    pay(book.account, "200.00")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        direct = payment_direct_report(
            account=book.account,
            amount="100.00",
            received_on=TODAY - timedelta(days=2),
            reference="CRD-77",
            actor=None,
        )
    # The creditor reporting it twice records it once; no receipt goes to the debtor.
    assert (
        payment_direct_report(
            account=book.account, amount="100.00", received_on=TODAY, reference="CRD-77", actor=None
        ).pk
        == direct.pk
    )
    book.account.refresh_from_db()
    assert book.account.balance == Decimal("700.00")
    assert mailoutbox == []

    net = prepare(book, kind="net")
    kinds = sorted(net.lines.values_list("kind", flat=True))
    assert kinds == ["direct", "payment"]
    assert (net.collected, net.direct, net.remit_amount, net.invoice_amount) == (
        Decimal("200.00"),
        Decimal("100.00"),
        Decimal("150.00"),
        Decimal("25.00"),
    )
    gross = prepare(book, kind="gross")
    assert (gross.remit_amount, gross.invoice_amount) == (Decimal("200.00"), Decimal("75.00"))
    combined = prepare(book, kind="combined")
    assert (combined.remit_amount, combined.invoice_amount) == (Decimal("125.00"), Decimal("0"))


@pytest.mark.django_db
def test_a_direct_report_above_the_balance_is_refused(book):
    with pytest.raises(ValidationError, match="balance is 1000.00"):
        payment_direct_report(
            account=book.account, amount="1000.01", received_on=TODAY, reference="X", actor=None
        )


def _account(*, placed_days_ago=0, charge_off_days_ago=None, placed="1000.00"):
    return SimpleNamespace(
        placed_at=NOON - timedelta(days=placed_days_ago),
        charge_off_date=TODAY - timedelta(days=charge_off_days_ago)
        if charge_off_days_ago is not None
        else None,
        total_placed=Decimal(placed),
    )


def _tier(rate, *, age=None, age_from="placement", balance=None):
    return SimpleNamespace(
        rate=Decimal(rate),
        min_age_days=age,
        age_from=age_from,
        min_balance=Decimal(balance) if balance is not None else None,
    )


def test_tiered_commission_picks_the_most_specific_applicable_tier():
    creditor = SimpleNamespace(contingency_fee_rate=Decimal("0.2500"))
    tiers = [
        _tier("0.3000", age=180),
        _tier("0.3500", age=365),
        _tier("0.2000", balance="5000"),
        _tier("0.4000", age=365, balance="5000"),
        _tier("0.4500", age=730, age_from="charge_off"),
    ]

    def rate(**kw):
        return rate_for(creditor, tiers, _account(**kw), TODAY)

    assert rate() == Decimal("0.2500")  # nothing applies: the flat rate
    assert rate(placed_days_ago=179) == Decimal("0.2500")
    assert rate(placed_days_ago=180) == Decimal("0.3000")
    assert rate(placed_days_ago=400) == Decimal("0.3500")  # the higher age threshold
    assert rate(placed="5000") == Decimal("0.2000")
    assert rate(placed_days_ago=200, placed="5000") == Decimal("0.3000")  # age beats balance
    assert rate(placed_days_ago=400, placed="9000") == Decimal("0.4000")  # both conditions
    assert rate(placed_days_ago=400, charge_off_days_ago=800) == Decimal("0.4500")
    assert rate(placed_days_ago=800) == Decimal("0.3500")  # no charge-off date: no such tier


def test_fee_rounding_goes_half_up_to_the_office_and_reverses_symmetrically():
    assert split(Decimal("0.10"), Decimal("0.25")) == (Decimal("0.03"), Decimal("0.07"))
    assert split(Decimal("-0.10"), Decimal("0.25")) == (Decimal("-0.03"), Decimal("-0.07"))
    assert split(Decimal("33.33"), Decimal("0.3333")).fee == Decimal("11.11")


@pytest.mark.django_db
def test_statement_lines_use_the_tier_of_the_day_the_money_came_in(book):
    CommissionTier.objects.create(creditor=book.creditor, min_age_days=30, rate="0.4000")
    Account.objects.filter(pk=book.account.pk).update(placed_at=NOON - timedelta(days=31))
    payment = pay(book.account, "100.00")
    statement = prepare(book)
    assert statement.lines.get().rate == Decimal("0.4000")
    assert statement.collected_fee == Decimal("40.00")
    assert payment.pk == statement.lines.get().payment_id


def test_the_last_complete_period_follows_the_creditors_frequency():
    assert remittance_period("monthly", date(2026, 11, 17)) == (
        date(2026, 10, 1),
        date(2026, 10, 31),
    )
    assert remittance_period("weekly", date(2026, 11, 17)) == (  # a Tuesday
        date(2026, 11, 9),
        date(2026, 11, 15),
    )


@pytest.mark.django_db
def test_an_issued_statement_is_emailed_to_the_creditor_with_its_pdf_and_csv(
    book, django_capture_on_commit_callbacks
):
    from django.core import mail

    from accounts.models import Creditor

    pay(book.account, "100.00")
    Creditor.objects.filter(pk=book.creditor.pk).update(remittance_email="ap@client.example")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        statement = remittance_issue(statement=prepare(book), actor=UserFactory())
    [message] = [m for m in mail.outbox if m.to == ["ap@client.example"]]
    assert message.subject.startswith(f"Remittance statement {statement.reference}")
    names = [a[0] for a in message.attachments]
    assert names == [
        f"remittance-{statement.reference}.pdf",
        f"remittance-{statement.reference}.csv",
    ]
    assert "100.00" in message.attachments[1][1]
