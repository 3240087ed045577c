"""Where each cent of a payment goes: pure functions, no database.

Within one account the money is applied to the balance components in the order the
creditor set (default fees, then interest, then principal). Across a debtor's accounts
it goes as the debtor directed; without a direction, to the account the payment was
made on, or (for a payment on the debtor as a whole) across their open accounts oldest
first, never onto a disputed one (Regulation F 1006.30(c), rule F-ALLOC). Whatever
cannot be applied is returned as `unapplied`, a credit to refund: a balance never goes
below zero.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from accounts.models import ZERO

COMPONENTS = ("fees", "interest", "principal")


class AllocationError(ValueError):
    """The direction cannot be followed (unknown account, amounts that don't add up)."""


@dataclass
class Allocation:
    # {account_id: {"fees": Decimal, "interest": Decimal, "principal": Decimal}}
    applied: dict = field(default_factory=dict)
    unapplied: Decimal = ZERO

    @property
    def applied_total(self):
        return sum((sum(parts.values(), ZERO) for parts in self.applied.values()), ZERO)


def component_order(order):
    """The creditor's order, completed with any component it leaves out."""
    order = [c for c in (order or []) if c in COMPONENTS]
    return order + [c for c in COMPONENTS if c not in order]


def apply_to_account(amount, balances, order):
    """Split `amount` over one account's component balances. Returns (parts, leftover)."""
    parts = {}
    left = amount
    for component in component_order(order):
        owed = max(balances.get(component, ZERO), ZERO)
        take = min(owed, left)
        if take > ZERO:
            parts[component] = take
            left -= take
    return parts, left


@dataclass(frozen=True)
class AccountBalances:
    account_id: int
    balances: dict  # component -> Decimal
    order: tuple
    disputed: bool = False
    opened_on: object = None  # for the oldest-first default

    @property
    def total(self):
        return sum(self.balances.values(), ZERO)


def allocate(amount, accounts, *, direction=None, primary_id=None):
    """Allocate `amount` over `accounts` (AccountBalances of one debtor).

    `direction` is {account_id: amount} as the debtor asked; `primary_id` is the account
    the payment was made on. With neither, open non-disputed accounts oldest first.
    """
    if amount <= ZERO:
        raise AllocationError("A payment must be more than zero.")
    by_id = {a.account_id: a for a in accounts}
    result = Allocation()
    if direction:
        directed = {int(k): Decimal(str(v)) for k, v in direction.items()}
        unknown = set(directed) - set(by_id)
        if unknown:
            raise AllocationError(
                "The direction names accounts that are not this debtor's: "
                + ", ".join(str(u) for u in sorted(unknown))
            )
        if any(v <= ZERO for v in directed.values()):
            raise AllocationError("Each directed amount must be more than zero.")
        if sum(directed.values(), ZERO) != amount:
            raise AllocationError(
                f"The directed amounts add up to {sum(directed.values(), ZERO)}, "
                f"not to the payment of {amount}."
            )
        targets = [(by_id[k], v) for k, v in directed.items()]
    elif primary_id is not None:
        if primary_id not in by_id:
            raise AllocationError("The payment's account is not among the debtor's accounts.")
        targets = [(by_id[primary_id], amount)]
    else:
        eligible = sorted(
            (a for a in accounts if not a.disputed and a.total > ZERO),
            key=lambda a: (a.opened_on is None, a.opened_on, a.account_id),
        )
        targets = []
        left = amount
        for account in eligible:
            take = min(account.total, left)
            if take > ZERO:
                targets.append((account, take))
                left -= take
        result.unapplied += left
    for account, share in targets:
        parts, leftover = apply_to_account(share, account.balances, account.order)
        if parts:
            merged = result.applied.setdefault(account.account_id, {})
            for component, value in parts.items():
                merged[component] = merged.get(component, ZERO) + value
        result.unapplied += leftover
    return result
