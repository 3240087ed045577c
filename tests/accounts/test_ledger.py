"""The ledger: append-only, and an account's cached balances always equal its ledger."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import services
from accounts.models import Account, AccountStatus, Event, Transaction
from recovery import tenancy
from tests.factories import AccountFactory

cents = st.integers(min_value=-500_000, max_value=500_000).map(lambda c: Decimal(c) / 100)
posting = st.tuples(
    st.sampled_from(["interest", "fee", "payment", "adjustment", "reverse"]), cents, cents, cents
)


def assert_cache_matches_ledger(account):
    account.refresh_from_db()
    sums = services.ledger_sums(account)
    assert (account.principal_balance, account.interest_balance, account.fees_balance) == (
        sums["principal"],
        sums["interest"],
        sums["fees"],
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(opening=st.integers(min_value=1, max_value=10_000_000), postings=st.lists(posting))
def test_cached_balances_always_equal_the_ledger(office_a, opening, postings):
    account = AccountFactory(office=office_a, opening_balance=Decimal(opening) / 100)
    with tenancy.office_context(office_a.id):
        for kind, p, i, f in postings:
            if kind == "reverse":
                last = account.transactions.exclude(kind="reversal").order_by("-id").first()
                try:
                    services.ledger_reverse(entry=last)
                except ValidationError:
                    pass  # already reversed: refused, and nothing written
            elif p or i or f:
                services.ledger_post(account=account, kind=kind, principal=p, interest=i, fees=f)
            assert_cache_matches_ledger(account)
        assert services.account_ledger_mismatches() == []


def test_mismatch_check_finds_a_tampered_balance(office_a):
    account = AccountFactory(office=office_a)
    with tenancy.office_context(office_a.id):
        Account.objects.filter(pk=account.pk).update(principal_balance=Decimal("1.00"))
        assert services.account_ledger_mismatches() == [account.pk]


def test_payment_moves_collected_and_its_reversal_moves_it_back(office_a):
    account = AccountFactory(office=office_a, opening_balance="300.00")
    with tenancy.office_context(office_a.id):
        entry = services.ledger_post(account=account, kind="payment", principal="-120.00")
        assert account.balance == Decimal("180.00")
        assert account.total_collected == Decimal("120.00")
        services.ledger_reverse(entry=entry, memo="Returned check")
        account.refresh_from_db()
        assert account.balance == Decimal("300.00")
        assert account.total_collected == Decimal("0.00")
        with pytest.raises(ValidationError, match="already been reversed"):
            services.ledger_reverse(entry=entry)


def test_money_is_never_a_float(office_a):
    account = AccountFactory(office=office_a)
    with tenancy.office_context(office_a.id), pytest.raises(TypeError, match="never a float"):
        services.ledger_post(account=account, kind="fee", fees=12.5)


def test_fractions_of_a_cent_are_refused_and_nothing_is_written(office_a):
    account = AccountFactory(office=office_a)
    with tenancy.office_context(office_a.id):
        before = Transaction.objects.count()
        with pytest.raises(ValidationError, match="two decimal places"):
            services.ledger_post(account=account, kind="fee", fees="1.005")
        assert Transaction.objects.count() == before


def test_ledger_rows_cannot_be_edited_or_deleted(office_a):
    account = AccountFactory(office=office_a)
    with tenancy.office_context(office_a.id):
        entry = account.transactions.get()
        entry.principal = Decimal("1.00")
        with pytest.raises(ValueError, match="append-only"):
            entry.save()
        with pytest.raises(ValueError, match="append-only"):
            entry.delete()


def test_opening_records_placed_amount_and_timeline_event(office_a):
    account = AccountFactory(office=office_a, opening_balance="842.17")
    with tenancy.office_context(office_a.id):
        account.refresh_from_db()
        assert account.total_placed == Decimal("842.17")
        placed = Event.objects.get(account=account, kind="placed")
        assert placed.amount == Decimal("842.17")
        # Events hold ids, never names.
        assert account.debtor.last_name not in placed.summary


def test_status_lifecycle_refuses_forbidden_moves_and_records_allowed_ones(office_a):
    account = AccountFactory(office=office_a)
    with tenancy.office_context(office_a.id):
        services.account_transition(account=account, status=AccountStatus.ACTIVE)
        services.account_transition(account=account, status=AccountStatus.RECALLED)
        with pytest.raises(ValidationError, match="cannot become active"):
            services.account_transition(account=account, status=AccountStatus.ACTIVE)
        kinds = list(
            Event.objects.filter(account=account, kind="status_changed").values_list(
                "data__to", flat=True
            )
        )
        assert sorted(kinds) == ["active", "recalled"]


def test_paid_account_gets_resolved_at(office_a):
    account = AccountFactory(office=office_a)
    with tenancy.office_context(office_a.id):
        services.account_transition(account=account, status=AccountStatus.PAID)
        assert account.resolved_at is not None
        services.account_transition(account=account, status=AccountStatus.ACTIVE)
        assert account.resolved_at is None


@pytest.mark.django_db
def test_a_long_timeline_summary_is_cut_to_fit_not_refused(office_a):
    from accounts.services import SUMMARY_MAX, event_record

    account = AccountFactory(office=office_a)
    with tenancy.office_context(office_a.id):
        event = event_record(account=account, kind="note", summary="Refund: " + "x" * 400)
        event.refresh_from_db()
    assert len(event.summary) == SUMMARY_MAX and event.summary.endswith("…")
