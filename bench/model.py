"""The payment model: which accounts pay at all (bench/README.md states it in full).

A scoring model trained on a generated office should recover these coefficients from the
data: every input is visible in the rows (balances, dates, contact points, the debtor's
other accounts, the `placed` event's strategy).
"""

from math import log

from bench import data

INTERCEPT = -1.85
COEF = {
    "log_balance": -0.45,  # × ln(total placed in dollars / 1000)
    "age_years": -0.25,  # × years from charge-off to placement
    "has_email": 0.50,
    "has_mobile": 0.65,
    "has_address": 0.40,
    "prior_accounts": -0.35,  # × the debtor's accounts placed before this one (0–2)
    "intensive": 0.25,  # the challenger cadence (more contacts in the first 90 days)
}


def payment_logit(
    *,
    total_cents,
    age_years,
    has_email,
    has_mobile,
    has_address,
    sector_effect,
    state,
    prior_accounts,
    intensive,
):
    """Log-odds that the account ever pays (see bench/README.md)."""
    return (
        INTERCEPT
        + COEF["log_balance"] * log(max(total_cents, 100) / 100_000)
        + COEF["age_years"] * age_years
        + COEF["has_email"] * has_email
        + COEF["has_mobile"] * has_mobile
        + COEF["has_address"] * has_address
        + sector_effect
        + data.state_effect(state)
        + COEF["prior_accounts"] * prior_accounts
        + COEF["intensive"] * intensive
    )
