"""The contingency fee on collected money, to the cent.

Which rate applies to a ledger row: the creditor's tiers that apply to the account on
the day the money was received, the most specific first —

1. a tier applies when every condition it sets holds: the account is at least
   `min_age_days` old (counted from placement, or from charge-off for a charge-off tier;
   an account without a charge-off date never meets a charge-off tier), and it was
   placed with at least `min_balance`;
2. among applicable tiers, one with both conditions beats one with a single condition;
   then the higher age threshold wins, then the higher balance threshold (so with an
   age tier and a balance tier both applying, the age tier wins);
3. with no tier applicable, the creditor's flat `contingency_fee_rate`.

A reversal uses the rate of the money it takes back (the date the payment was received),
so taking a whole payment back takes its whole fee back.

Rounding: the fee on each line is rounded to the cent, half away from zero
(ROUND_HALF_UP, symmetric for reversals); the creditor's share is the line's amount less
that fee. So the office gets the half cent, and fee + share always equals the amount.

Never writes anything.
"""

from datetime import UTC, date
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

CENT = Decimal("0.01")


class Split(NamedTuple):
    fee: Decimal
    creditor_share: Decimal


def split(amount, rate):
    """Split a collected amount (signed) into the office's fee and the creditor's share."""
    fee = (Decimal(amount) * Decimal(rate)).quantize(CENT, rounding=ROUND_HALF_UP)
    return Split(fee=fee, creditor_share=Decimal(amount) - fee)


def _specificity(tier):
    return (
        (tier.min_age_days is not None) + (tier.min_balance is not None),
        tier.min_age_days if tier.min_age_days is not None else -1,
        tier.min_balance if tier.min_balance is not None else Decimal(-1),
    )


def tier_applies(tier, account, on: date, tz: ZoneInfo | None = None) -> bool:
    if tier.min_balance is not None and account.total_placed < tier.min_balance:
        return False
    if tier.min_age_days is not None:
        if tier.age_from == "charge_off":
            start = account.charge_off_date
        else:
            placed = account.placed_at.astimezone(tz) if tz else account.placed_at
            start = placed.date()
        if start is None or (on - start).days < tier.min_age_days:
            return False
    return True


def rate_for(creditor, tiers, account, on: date, tz: ZoneInfo | None = None) -> Decimal:
    """The fee rate for money received on `on` for `account` (tiers: the creditor's)."""
    applicable = [t for t in tiers if tier_applies(t, account, on, tz)]
    if not applicable:
        return creditor.contingency_fee_rate
    return max(applicable, key=_specificity).rate


def received_on(payment, tz: ZoneInfo):
    """The day the money came in, in the office's calendar. A payment recorded by hand
    (check, transfer, direct report) keeps its day as midnight UTC of that day, so its
    UTC date is the day; a gateway payment's instant is read in the office's zone."""
    if payment.received_at is None:
        return None
    if payment.gateway == "offline":
        return payment.received_at.astimezone(UTC).date()
    return payment.received_at.astimezone(tz).date()
