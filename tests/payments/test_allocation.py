"""Where each cent goes: the creditor's component order, the debtor's direction, never
onto a disputed account without one (F-ALLOC), and nothing below zero."""

from decimal import Decimal

import pytest

from payments.allocation import AccountBalances, AllocationError, allocate

D = Decimal


def acct(account_id, principal="0", interest="0", fees="0", *, disputed=False, order=()):
    return AccountBalances(
        account_id=account_id,
        balances={"principal": D(principal), "interest": D(interest), "fees": D(fees)},
        order=tuple(order),
        disputed=disputed,
        opened_on=account_id,
    )


def test_one_account_fees_then_interest_then_principal_by_default():
    result = allocate(D("60"), [acct(1, "100", "30", "20")], primary_id=1)
    assert result.applied == {1: {"fees": D("20"), "interest": D("30"), "principal": D("10")}}
    assert result.unapplied == 0


def test_the_creditors_order_is_followed():
    result = allocate(
        D("60"), [acct(1, "100", "30", "20", order=["principal", "fees"])], primary_id=1
    )
    assert result.applied == {1: {"principal": D("60")}}


def test_more_than_owed_is_a_credit_not_a_negative_balance():
    result = allocate(D("150"), [acct(1, "100")], primary_id=1)
    assert result.applied == {1: {"principal": D("100")}}
    assert result.unapplied == D("50")


def test_without_direction_a_debtor_payment_skips_the_disputed_account():
    accounts = [acct(1, "100", disputed=True), acct(2, "40"), acct(3, "70")]
    result = allocate(D("90"), accounts)
    assert set(result.applied) == {2, 3}
    assert result.applied[2] == {"principal": D("40")}
    assert result.applied[3] == {"principal": D("50")}


def test_the_debtors_direction_is_followed_even_onto_a_disputed_account():
    accounts = [acct(1, "100", disputed=True), acct(2, "40")]
    result = allocate(D("70"), accounts, direction={"1": "30", "2": "40"})
    assert result.applied == {1: {"principal": D("30")}, 2: {"principal": D("40")}}


@pytest.mark.parametrize(
    ("direction", "message"),
    [
        ({"9": "70"}, "not this debtor's"),
        ({"1": "30", "2": "30"}, "add up to 60"),
        ({"1": "-5", "2": "75"}, "more than zero"),
    ],
)
def test_a_direction_that_cannot_be_followed_says_why(direction, message):
    with pytest.raises(AllocationError, match=message):
        allocate(D("70"), [acct(1, "100"), acct(2, "40")], direction=direction)
