"""Payments, payment plans and their installments, plan policy, promises to pay, saved
payment methods and the provider events we applied. Behaviour lives in services; the
ledger effect of a payment is posted by `accounts.services.ledger_post` only.

A payment is one movement of money from the debtor (one Stripe Checkout Session, one
check). It belongs to one account but may be applied to several of the debtor's accounts:
its ledger rows (`accounts.Transaction.payment`) say where each cent went, and whatever
could not be applied is kept on the payment as `unapplied_amount`, a credit to refund.
"""

from decimal import Decimal

from django.db import models
from django.utils import timezone

from accounts.models import MoneyField
from recovery.tenancy import TenantModel


class Source(models.TextChoices):
    PORTAL = "portal", "Debtor portal"
    AGENT = "agent", "Agent"
    AUTOPAY = "autopay", "Autopay"
    API = "api", "API"
    CREDITOR = "creditor", "Reported by creditor"


def default_frequencies():
    return ["weekly", "biweekly", "monthly"]


def default_retry_days():
    return [3, 7]


class PlanPolicy(TenantModel):
    """What plans and discounts an office allows, for all creditors (creditor empty) or
    one creditor. Agents and the portal offer only what fits; outside it, a manager
    approves."""

    creditor = models.ForeignKey(
        "accounts.Creditor", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    minimum_installment = MoneyField(default=Decimal("25.00"))
    minimum_payment = MoneyField(default=Decimal("10.00"))
    max_months = models.PositiveIntegerField(default=12)
    frequencies = models.JSONField(default=default_frequencies, blank=True)
    max_lump_sum_discount = models.DecimalField(
        max_digits=4, decimal_places=3, default=Decimal("0.100"), help_text="0–1 of the balance"
    )
    lump_sum_offer_days = models.PositiveIntegerField(default=30)
    max_settlement_discount = models.DecimalField(
        max_digits=4, decimal_places=3, default=Decimal("0.300"), help_text="0–1 of the balance"
    )
    waive_interest_on_plan = models.BooleanField(default=True)
    grace_days = models.PositiveIntegerField(default=5)
    autopay_retry_days = models.JSONField(default=default_retry_days, blank=True)
    autopay_notice_days = models.PositiveIntegerField(
        default=3, help_text="Business days before each debit that the debtor is told (F-EFT)"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["office", "creditor"],
                name="plan_policy_per_creditor",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=models.Q(max_lump_sum_discount__gte=0, max_lump_sum_discount__lte=1)
                & models.Q(max_settlement_discount__gte=0, max_settlement_discount__lte=1),
                name="plan_policy_discounts_range",
            ),
        ]


class PaymentMethod(TenantModel):
    """A payment method the debtor saved for autopay, with their authorisation kept as
    evidence (F-EFT). Only the gateway's reference is stored, never card numbers."""

    debtor = models.ForeignKey("debtors.Debtor", on_delete=models.PROTECT, related_name="+")
    gateway = models.CharField(max_length=10)
    customer_reference = models.CharField(max_length=120, blank=True)
    method_reference = models.CharField(max_length=120)
    label = models.CharField(max_length=60, help_text="e.g. Visa ending 4242")
    authorised_at = models.DateTimeField(default=timezone.now)
    authorisation_text = models.TextField()
    authorisation_ip = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)


class PaymentPlan(TenantModel):
    class Kind(models.TextChoices):
        PLAN = "plan", "Payment plan (full balance)"
        SETTLEMENT = "settlement", "Settlement (reduced total)"

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed (awaiting approval)"
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        BROKEN = "broken", "Broken"
        CANCELLED = "cancelled", "Cancelled"

    class Frequency(models.TextChoices):
        WEEKLY = "weekly", "Weekly"
        BIWEEKLY = "biweekly", "Every two weeks"
        MONTHLY = "monthly", "Monthly"

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="payment_plans"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PLAN)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.AGENT)
    total_amount = MoneyField()
    # For a settlement: the balance forgiven once every installment is kept.
    balance_at_start = MoneyField()
    installment_amount = MoneyField()
    installment_count = models.PositiveIntegerField()
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    start_date = models.DateField()
    autopay = models.BooleanField(default=False)
    payment_method = models.ForeignKey(
        PaymentMethod, null=True, blank=True, on_delete=models.PROTECT, related_name="plans"
    )
    within_policy = models.BooleanField(default=True)
    note = models.TextField(blank=True, help_text="The debtor's proposal or the agent's reason")
    created_by = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=200, blank=True)

    @property
    def is_open(self):
        return self.status in (self.Status.PROPOSED, self.Status.ACTIVE)

    class Meta:
        indexes = [models.Index(fields=["office", "status", "start_date"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(installment_amount__gt=0), name="plan_installment_positive"
            )
        ]


class Installment(TenantModel):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        PAID = "paid", "Paid"
        MISSED = "missed", "Missed"
        CANCELLED = "cancelled", "Cancelled"

    plan = models.ForeignKey(PaymentPlan, on_delete=models.CASCADE, related_name="installments")
    sequence = models.PositiveIntegerField()
    due_date = models.DateField()
    amount = MoneyField()
    paid_amount = MoneyField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    notice_sent_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    autopay_attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["office", "plan", "sequence"], name="installment_sequence"
            )
        ]
        indexes = [models.Index(fields=["office", "status", "due_date"])]


class Payment(TenantModel):
    class Method(models.TextChoices):
        CARD = "card", "Card"
        ACH = "ach", "Bank account (ACH)"
        CHECK = "check", "Check"
        MONEY_ORDER = "money_order", "Money order"
        TRANSFER = "transfer", "Bank transfer"
        CHECK_BY_PHONE = "check_by_phone", "Check by phone"
        DEMO = "demo", "Demo gateway"

    class Gateway(models.TextChoices):
        STRIPE = "stripe", "Stripe"
        DEMO = "demo", "Demo gateway"
        OFFLINE = "offline", "Recorded by staff"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        REFUNDED = "refunded", "Refunded"
        REVERSED = "reversed", "Reversed"

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="payments"
    )
    debtor_id = models.BigIntegerField(null=True, blank=True)
    installment = models.ForeignKey(
        Installment, null=True, blank=True, on_delete=models.SET_NULL, related_name="payments"
    )
    amount = MoneyField()
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=20, choices=Method.choices)
    gateway = models.CharField(max_length=10, choices=Gateway.choices)
    gateway_reference = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.PORTAL)
    idempotency_key = models.CharField(max_length=80)
    # How the debtor asked the money to be split: {account_id: "amount"}; empty = ours.
    direction = models.JSONField(default=dict, blank=True)
    # A lump-sum settlement: once this payment succeeds, the rest is forgiven.
    settles_account = models.BooleanField(default=False)
    checkout_reference = models.CharField(max_length=120, blank=True)
    checkout_url = models.URLField(max_length=1000, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    unapplied_amount = MoneyField(help_text="Overpayment held as a credit to refund")
    refunded_amount = MoneyField()
    failure_message = models.CharField(max_length=300, blank=True)
    # Offline instruments: check / money order number, bank routing, payer name.
    instrument = models.JSONField(default=dict, blank=True)
    receipt_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    received_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    FINAL = ("succeeded", "failed", "refunded", "reversed")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["office", "idempotency_key"], name="payment_idempotency_key"
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_positive"),
        ]
        indexes = [
            models.Index(fields=["office", "status", "received_at"]),
            models.Index(fields=["office", "gateway", "gateway_reference"]),
            # Webhooks find a payment's office by its PaymentIntent before any office is
            # known (through the escape hatch): this one does not start with the office.
            models.Index(fields=["gateway_reference"], name="payment_gateway_ref_any_office"),
        ]


class PromiseToPay(TenantModel):
    """An amount and a date without a plan; kept or broken when the date passes."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        KEPT = "kept", "Kept"
        BROKEN = "broken", "Broken"
        CANCELLED = "cancelled", "Cancelled"

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="promises"
    )
    amount = MoneyField()
    due_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.AGENT)
    created_by = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["office", "status", "due_date"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="promise_positive")
        ]


class GatewayEvent(TenantModel):
    """A provider event we applied. The unique key makes a replayed webhook a no-op."""

    gateway = models.CharField(max_length=10)
    event_id = models.CharField(max_length=120)
    event_type = models.CharField(max_length=80)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    received_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["office", "gateway", "event_id"], name="gateway_event_once"
            )
        ]


class SettlementOffer(TenantModel):
    """A lump-sum discount offered on an account, fixed once made: the same amount and
    deadline every time the debtor looks, never a countdown that resets."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="settlement_offers"
    )
    balance_at_offer = MoneyField()
    amount = MoneyField()
    expires_on = models.DateField()
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.PORTAL)
    created_by = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    accepted_by = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["office", "account", "expires_on"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="offer_positive")
        ]

    @property
    def discount(self):
        return self.balance_at_offer - self.amount


# Trust accounting and reconciliation live in their own module; importing them here
# makes them models of this app.
from payments.remittance.models import (  # noqa: E402, F401
    BankLine,
    BankStatementImport,
    CommissionTier,
    PayoutLine,
    RemittanceLine,
    RemittanceStatement,
    StripePayout,
)
