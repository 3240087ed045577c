"""A chunk's keys are looked up among the current office's rows only, by exact key (a
last name and a date of birth together, never any last name with any date of birth),
oldest first; outside an office nothing is looked up at all."""

import pytest
from django.db import DatabaseError, connection, transaction

from accounts.imports.lookups import rows_by_keys, statistics_refresh
from accounts.models import Account
from debtors.models import Debtor
from recovery import tenancy
from tests.accounts.imports.helpers import descends_the_key, many_like, probe_plan
from tests.factories import AccountFactory, CreditorFactory, DebtorFactory

pytestmark = pytest.mark.django_db


def _debtor(office, last, dob):
    return DebtorFactory(office=office, last_name=last, date_of_birth=dob)


def test_pairs_match_exactly_within_the_office_oldest_first(office_a, office_b):
    lee_80 = _debtor(office_a, "Lee", "1980-01-01")
    _debtor(office_a, "Lee", "1990-02-02")
    kim_90 = _debtor(office_a, "Kim", "1990-02-02")
    lee_80_again = _debtor(office_a, "Lee", "1980-01-01")
    _debtor(office_b, "Lee", "1980-01-01")  # another office's: never seen
    keys = [(lee_80.last_name_bidx, lee_80.dob_bidx), (kim_90.last_name_bidx, kim_90.dob_bidx)]
    with tenancy.office_context(office_a.id):
        found = rows_by_keys(Debtor, ("id",), ("last_name_bidx", "dob_bidx"), keys * 2)
    # Two IN lists would bring Lee 1990 back too (a last name and a date both asked for).
    assert [pk for (pk,) in found] == [lee_80.pk, kim_90.pk, lee_80_again.pk]


def test_other_columns_narrow_the_rows_and_integers_are_keys_too(office_a):
    lee, kim = _debtor(office_a, "Lee", "1980-01-01"), _debtor(office_a, "Kim", "1980-01-01")
    with tenancy.office_context(office_a.id):
        found = rows_by_keys(
            Debtor, ("id", "last_name_bidx"), ("id",), [(lee.pk,), (kim.pk,)], last_name="Kim"
        )
        assert found == [(kim.pk, kim.last_name_bidx)]
        assert rows_by_keys(Debtor, ("id",), ("id",), []) == []


def test_nothing_is_looked_up_outside_an_office(office_a):
    lee = _debtor(office_a, "Lee", "1980-01-01")
    with pytest.raises(tenancy.NoOfficeSelected):
        rows_by_keys(Debtor, ("id",), ("match_bidx",), [(lee.match_bidx,)])


def test_once_counted_account_numbers_are_probed_by_their_key(office_a):
    """A creditor's first big placement: its accounts are the import's own, uncommitted,
    and the planner knows nothing of them until it is told how many there are
    (statistics_refresh, from inside the same transaction)."""
    if connection.vendor != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    creditor = CreditorFactory(office=office_a)
    first = AccountFactory(office=office_a, creditor=creditor)
    refs = [first.creditor_reference, "M-7", "M-300"]
    with tenancy.office_context(office_a.id):
        Account.objects.bulk_create(many_like(first, 400))
        statistics_refresh()
        found, plan = probe_plan(creditor, [*refs, "NOT-PLACED"])
    assert sorted(found) == sorted((r,) for r in refs)
    assert descends_the_key(plan), plan


def test_statistics_are_refreshed_only_for_the_probed_tables(office_a):
    if connection.vendor != "postgresql":
        pytest.skip("the function is PostgreSQL's")
    with pytest.raises(DatabaseError, match="not a table an import probes"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT recovery_analyze(%s)", ["recovery_office"])


@pytest.mark.django_db(transaction=True)
def test_an_import_beside_another_skips_the_count_rather_than_wait(office_a):
    """ANALYZE keeps its lock until its transaction ends: an import counting while another
    office's import (which counted already) is still running goes on without waiting."""
    if connection.vendor != "postgresql":
        pytest.skip("the function is PostgreSQL's")
    import psycopg2

    other = psycopg2.connect(**connection.get_connection_params())
    try:
        with other.cursor() as cursor:  # the other import: counted, not yet committed
            cursor.execute("SELECT recovery_analyze('accounts_account')")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")  # waiting would fail here
            statistics_refresh()
    finally:
        other.rollback()
        other.close()
