"""Read queries shared by the staff pages, the portal and the API: what a debtor may
pay, which plans the policy allows, and what must be disclosed before taking money."""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, ROUND_UP, Decimal

from django.db.models import Q
from django.utils import timezone

from accounts.models import ZERO
from compliance.jurisdictions import LIMITATION_PERIODS
from compliance.rules.federal import time_barred
from payments.models import PaymentPlan, PlanPolicy, SettlementOffer

CENT = Decimal("0.01")
FREQUENCY_LABEL = {"weekly": "weekly", "biweekly": "every two weeks", "monthly": "monthly"}
PERIODS_PER_MONTH = {"weekly": Decimal("4.33"), "biweekly": Decimal("2.17"), "monthly": 1}


def policy_for_creditor(creditor_id):
    """The creditor's policy, else the office's, else the defaults (unsaved)."""
    policies = {
        p.creditor_id: p
        for p in PlanPolicy.objects.filter(Q(creditor_id=creditor_id) | Q(creditor__isnull=True))
    }
    policy = policies.get(creditor_id) or policies.get(None)
    return policy or PlanPolicy(creditor=None)  # the defaults, never written from here


def policy_for(account):
    return policy_for_creditor(account.creditor_id)


@dataclass(frozen=True)
class LumpSum:
    amount: Decimal
    discount: Decimal
    expires_on: date
    offer_id: int | None  # None until the debtor or an agent takes it up


@dataclass(frozen=True)
class PayOptions:
    balance: Decimal
    minimum_payment: Decimal
    lump_sum: LumpSum | None
    currency: str


def lump_sum_amount(balance, discount_rate):
    """The discounted amount, rounded up to the cent so the discount never exceeds
    the policy's maximum."""
    return (balance * (1 - discount_rate)).quantize(CENT, rounding=ROUND_UP)


def current_offer(account, today):
    return (
        SettlementOffer.objects.filter(
            account=account, expires_on__gte=today, accepted_by__isnull=True
        )
        .order_by("-created_at")
        .first()
    )


def pay_options(account, today=None):
    today = today or account.office.today()
    policy = policy_for(account)
    balance = account.balance
    lump = None
    offer = current_offer(account, today)
    if offer is not None and offer.balance_at_offer == balance:
        lump = LumpSum(offer.amount, offer.discount, offer.expires_on, offer.id)
    elif policy.max_lump_sum_discount > 0 and balance > ZERO and account.is_open:
        amount = lump_sum_amount(balance, policy.max_lump_sum_discount)
        if amount < balance:
            lump = LumpSum(
                amount,
                balance - amount,
                today + timezone.timedelta(days=policy.lump_sum_offer_days),
                None,
            )
    return PayOptions(
        balance=balance,
        minimum_payment=min(policy.minimum_payment, balance),
        lump_sum=lump,
        currency=account.currency,
    )


@dataclass(frozen=True)
class PlanOption:
    installment_amount: Decimal
    count: int
    frequency: str
    total: Decimal

    @property
    def label(self):
        return (
            f"${self.installment_amount:,.2f} {FREQUENCY_LABEL[self.frequency]} "
            f"for {self.count} payments"
        )


def installments_for(total, count):
    """`count` installments summing exactly to `total`: equal amounts, the cents left
    over by the division added to the last one."""
    base = (total / count).quantize(CENT, rounding=ROUND_DOWN)
    if base <= ZERO:
        raise ValueError(f"{total} cannot be split into {count} payments of at least a cent.")
    return [base] * (count - 1) + [total - base * (count - 1)]


def plan_options(account, today=None):
    """The plans the policy allows for this account, shortest first per frequency:
    the few a person would actually choose among, not every combination."""
    policy = policy_for(account)
    balance = account.balance
    if balance <= ZERO or not account.is_open:
        return []
    options = []
    for frequency in policy.frequencies:
        if frequency not in PERIODS_PER_MONTH:
            continue
        most = int(policy.max_months * PERIODS_PER_MONTH[frequency])
        seen = set()
        for months in (3, 6, policy.max_months):
            count = min(max(int(months * PERIODS_PER_MONTH[frequency]), 2), most)
            if count in seen or count < 2:
                continue
            if balance < count * policy.minimum_installment:
                continue
                continue
            seen.add(count)
            amounts = installments_for(balance, count)
            options.append(PlanOption(amounts[0], count, frequency, balance))
    return options


def time_barred_disclosure(account, today=None):
    """The disclosure a debtor must see before paying a debt that may be time-barred
    where a payment would restart the limitation period; None when none is needed."""
    now = (
        timezone.now()
        if today is None
        else timezone.make_aware(timezone.datetime.combine(today, timezone.datetime.min.time()))
    )
    period = LIMITATION_PERIODS.get(account.governing_law_state)
    barred = time_barred(account, now)
    if barred is False:
        return None
    if period is not None and not period.payment_revives:
        return None
    if barred is None:
        return (
            "This debt may be too old for you to be sued for it. In some states, making "
            "a payment can restart the time period in which you can be sued. You do not "
            "have to pay, and we will not sue you for it."
        )
    return (
        f"The law limits how long you can be sued on a debt. Because of the age of this "
        f"debt, we will not sue you for it. Under {account.governing_law_state} law, if "
        f"you make a payment, the creditor may be able to sue you for the rest."
    )


def open_plan(account):
    return (
        PaymentPlan.objects.filter(account=account, status__in=["proposed", "active"])
        .prefetch_related("installments")
        .first()
    )
