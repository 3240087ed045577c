"""Entry segments compile to one Q: each field, and/or, and "days since" relative to a day."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from accounts.models import Account
from campaigns.builder.segments import SegmentError, segment_check, segment_q
from debtors.services import contact_point_add
from recovery import tenancy
from tests.factories import AccountFactory, CreditorFactory, DebtorFactory

TODAY = date(2026, 3, 1)


def matching(office, segment, as_of=TODAY):
    with tenancy.office_context(office.id):
        return set(
            Account.objects.filter(segment_q(segment, as_of=as_of)).values_list(
                "office_reference", flat=True
            )
        )


def one(field, **rule):
    return {"op": "and", "rules": [{"field": field, **rule}]}


@pytest.fixture
def book(office_a):
    creditor = CreditorFactory(office=office_a)
    spanish = DebtorFactory(office=office_a, language="es")
    with tenancy.office_context(office_a.id):
        contact_point_add(
            debtor=spanish,
            kind="address",
            value="1 Main St, Albany, NY 12207",
            source="placement",
            line1="1 Main St",
            city="Albany",
            state="NY",
            postal_code="12207",
        )
    placed = timezone.make_aware(timezone.datetime(2026, 1, 1, 12))
    small = AccountFactory(
        office=office_a, office_reference="SMALL", opening_balance="50.00", placed_at=placed
    )
    big = AccountFactory(
        office=office_a,
        office_reference="BIG",
        opening_balance="5000.00",
        creditor=creditor,
        debtor=spanish,
        placed_at=placed - timedelta(days=200),
    )
    mid = AccountFactory(
        office=office_a, office_reference="MID", opening_balance="800.00", placed_at=placed
    )
    with tenancy.office_context(office_a.id):
        Account.objects.filter(pk=small.pk).update(
            charge_off_date=date(2025, 1, 1),
            last_payment_date=date(2026, 2, 20),
            tags=["medical"],
            governing_law_state="CA",
            debt_type="commercial",
        )
        Account.objects.filter(pk=big.pk).update(status="active", tags=["auto", "vip"])
        Account.objects.filter(pk=mid.pk).update(charge_off_date=date(2025, 12, 1))
    return {"creditor": creditor}


def test_each_field_selects_the_accounts_it_names(office_a, book):
    assert matching(office_a, one("creditor", values=[book["creditor"].pk])) == {"BIG"}
    assert matching(office_a, one("balance", min="100", max="1000")) == {"MID"}
    assert matching(office_a, one("balance", min="1000")) == {"BIG"}
    # Placed Jan 1 2026: 59 days before Mar 1; BIG 200 days earlier.
    assert matching(office_a, one("days_since_placement", min=30, max=90)) == {"SMALL", "MID"}
    assert matching(office_a, one("days_since_placement", min=59)) == {"SMALL", "MID", "BIG"}
    assert matching(office_a, one("days_since_placement", min=60, max=100)) == set()
    assert matching(office_a, one("days_since_charge_off", min=365)) == {"SMALL"}
    assert matching(office_a, one("days_since_charge_off", max=100)) == {"MID"}
    # Never paid counts as "at least N days since the last payment".
    assert matching(office_a, one("days_since_last_payment", min=30)) == {"BIG", "MID"}
    assert matching(office_a, one("days_since_last_payment", max=15)) == {"SMALL"}
    assert matching(office_a, one("state", values=["ny"])) == {"BIG"}  # by address
    assert matching(office_a, one("state", values=["CA"])) == {"SMALL"}  # governing law
    assert matching(office_a, one("language", values=["es"])) == {"BIG"}
    assert matching(office_a, one("debt_type", values=["commercial"])) == {"SMALL"}
    assert matching(office_a, one("status", values=["active"])) == {"BIG"}
    assert matching(office_a, one("tags", values=["vip", "medical"])) == {"BIG", "SMALL"}


def test_and_or_and_nested_groups_combine(office_a, book):
    cheap = {"field": "balance", "max": "900"}
    vip = {"field": "tags", "values": ["vip"]}
    assert matching(office_a, {"op": "and", "rules": [cheap, vip]}) == set()
    assert matching(office_a, {"op": "or", "rules": [cheap, vip]}) == {"SMALL", "MID", "BIG"}
    nested = {
        "op": "and",
        "rules": [
            {"field": "days_since_placement", "min": 30},
            {"op": "or", "rules": [{"field": "tags", "values": ["medical"]}, vip]},
        ],
    }
    assert matching(office_a, nested) == {"SMALL", "BIG"}


def test_days_since_rules_move_with_the_day_they_are_asked_for(office_a, book):
    segment = one("days_since_placement", min=90)
    assert matching(office_a, segment) == {"BIG"}
    assert matching(office_a, segment, as_of=TODAY + timedelta(days=31)) == {"BIG", "SMALL", "MID"}


def test_an_empty_segment_matches_nothing_and_bad_ones_say_why(office_a, book):
    assert matching(office_a, {}) == set()
    assert "minimum is above the maximum" in segment_check(one("balance", min="10", max="5"))
    assert "not a number" in segment_check(one("balance", min="lots"))
    assert "Unknown segment field" in segment_check(one("shoe_size", values=[9]))
    with pytest.raises(SegmentError):
        segment_q({"op": "xor", "rules": [{"field": "balance", "min": 1}]})
