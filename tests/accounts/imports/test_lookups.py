"""A chunk's keys are looked up among the current office's rows only, by exact key (a
last name and a date of birth together, never any last name with any date of birth),
oldest first; outside an office nothing is looked up at all."""

import pytest

from accounts.imports.lookups import rows_by_keys
from debtors.models import Debtor
from recovery import tenancy
from tests.factories import DebtorFactory

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
