"""Creditors, placements, accounts (one placed debt each), the ledger and the timeline.

Invariants: the ledger is append-only (reversals, never edits), and an account's cached
balances always equal the sums of its ledger rows by component; only
`accounts.services.ledger_post` writes either. Ledger rows and timeline events hold no
personal data: they refer to people by id.
"""

from decimal import Decimal

from django.db import models
from django.utils import timezone

from recovery.tenancy import TenantModel

ZERO = Decimal("0.00")


def MoneyField(**kwargs):  # noqa: N802 - reads like a field class at the call site
    kwargs.setdefault("max_digits", 14)
    kwargs.setdefault("decimal_places", 2)
    kwargs.setdefault("default", ZERO)
    return models.DecimalField(**kwargs)


class Creditor(TenantModel):
    """The office's client, who places accounts and receives remittances."""

    class RemittanceFrequency(models.TextChoices):
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly"

    name = models.CharField(max_length=200)
    reference = models.CharField(max_length=40, help_text="The office's code for this client")
    contingency_fee_rate = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.2500"),
        help_text="Share of collections the office keeps, 0–1",
    )
    remittance_frequency = models.CharField(
        max_length=10, choices=RemittanceFrequency.choices, default=RemittanceFrequency.MONTHLY
    )
    remittance_email = models.EmailField(blank=True)
    # Order in which a payment is applied to balance components.
    allocation_order = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["office", "reference"], name="creditor_reference"),
            models.CheckConstraint(
                condition=models.Q(contingency_fee_rate__gte=0, contingency_fee_rate__lte=1),
                name="creditor_fee_rate_range",
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.allocation_order:
            self.allocation_order = ["fees", "interest", "principal"]
        super().save(*args, **kwargs)


class Placement(TenantModel):
    """A batch of accounts a creditor placed with the office (a file or an API call)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        IMPORTED = "imported", "Imported"
        FAILED = "failed", "Failed"

    creditor = models.ForeignKey(Creditor, on_delete=models.PROTECT, related_name="placements")
    reference = models.CharField(max_length=80)
    placed_at = models.DateTimeField(default=timezone.now)
    document = models.ForeignKey(
        "recovery.Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    file_sha256 = models.CharField(max_length=64, blank=True)
    account_count = models.PositiveIntegerField(default=0)
    total_placed = MoneyField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    imported_by = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-placed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["office", "creditor", "reference"], name="placement_reference"
            )
        ]

    def __str__(self):
        return self.reference


class AccountStatus(models.TextChoices):
    NEW = "new", "New"
    ACTIVE = "active", "Active"
    IN_PLAN = "in_plan", "In payment plan"
    DISPUTED = "disputed", "Disputed"
    ON_HOLD = "on_hold", "On hold"
    PAID = "paid", "Paid in full"
    SETTLED = "settled", "Settled"
    CLOSED = "closed", "Closed"
    RECALLED = "recalled", "Recalled by creditor"
    LEGAL = "legal", "Legal"


# The lifecycle: which status may follow which. Terminal states only reopen by a
# deliberate reversal (e.g. a returned payment re-opens a paid account).
STATUS_TRANSITIONS = {
    AccountStatus.NEW: {"active", "in_plan", "disputed", "on_hold", "paid", "settled",
                        "closed", "recalled"},
    AccountStatus.ACTIVE: {"in_plan", "disputed", "on_hold", "paid", "settled", "closed",
                           "recalled", "legal"},
    AccountStatus.IN_PLAN: {"active", "disputed", "on_hold", "paid", "settled", "closed",
                            "recalled"},
    AccountStatus.DISPUTED: {"active", "on_hold", "closed", "recalled", "paid", "settled"},
    AccountStatus.ON_HOLD: {"active", "disputed", "closed", "recalled", "paid", "settled"},
    AccountStatus.LEGAL: {"active", "paid", "settled", "closed", "recalled"},
    AccountStatus.PAID: {"active"},
    AccountStatus.SETTLED: {"active"},
    AccountStatus.CLOSED: {"active"},
    AccountStatus.RECALLED: set(),
}  # fmt: skip
OPEN_STATUSES = {"new", "active", "in_plan", "disputed", "on_hold", "legal"}


class Account(TenantModel):
    """One debt placed for collection."""

    class DebtType(models.TextChoices):
        CONSUMER = "consumer", "Consumer"
        COMMERCIAL = "commercial", "Commercial"

    class InterestType(models.TextChoices):
        NONE = "none", "No interest"
        SIMPLE = "simple", "Simple annual interest"

    creditor = models.ForeignKey(Creditor, on_delete=models.PROTECT, related_name="accounts")
    placement = models.ForeignKey(
        Placement, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    debtor = models.ForeignKey("debtors.Debtor", on_delete=models.PROTECT, related_name="accounts")
    creditor_reference = models.CharField(max_length=60)
    office_reference = models.CharField(max_length=30)
    original_creditor = models.CharField(max_length=200, blank=True)
    original_account_last4 = models.CharField(max_length=4, blank=True)
    debt_type = models.CharField(max_length=12, choices=DebtType.choices, default=DebtType.CONSUMER)
    governing_law_state = models.CharField(max_length=2, blank=True)
    currency = models.CharField(max_length=3, default="USD")

    origination_date = models.DateField(null=True, blank=True)
    charge_off_date = models.DateField(null=True, blank=True)
    last_payment_date = models.DateField(null=True, blank=True)
    # Regulation F itemization (1006.34(c)(2)): the amount on the itemization date and
    # what changed since, as printed on the validation notice.
    itemization_date = models.DateField(null=True, blank=True)
    itemization_amount = MoneyField()
    interest_since_itemization = MoneyField()
    fees_since_itemization = MoneyField()
    payments_since_itemization = MoneyField()
    credits_since_itemization = MoneyField()

    # Cached balances: always equal to the ledger sums (see accounts.services).
    principal_balance = MoneyField()
    interest_balance = MoneyField()
    fees_balance = MoneyField()
    total_placed = MoneyField(help_text="Balance when placed: the denominator of recovery")
    total_collected = MoneyField(help_text="Payments net of reversals")

    interest_type = models.CharField(
        max_length=10, choices=InterestType.choices, default=InterestType.NONE
    )
    interest_rate = models.DecimalField(
        max_digits=6, decimal_places=3, default=Decimal("0"), help_text="Annual %, simple"
    )

    status = models.CharField(
        max_length=12, choices=AccountStatus.choices, default=AccountStatus.NEW
    )
    status_changed_at = models.DateTimeField(default=timezone.now)
    assigned_agent = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tags = models.JSONField(default=list, blank=True)
    placed_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Worklist priority (higher first); scoring fills it later.
    priority = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["office", "office_reference"], name="account_office_reference"
            ),
            models.UniqueConstraint(
                fields=["office", "creditor", "creditor_reference"],
                name="account_creditor_reference",
            ),
        ]
        indexes = [
            models.Index(fields=["office", "status", "priority"]),
            models.Index(fields=["office", "debtor"]),
            models.Index(fields=["office", "assigned_agent", "status"]),
            models.Index(fields=["office", "creditor", "status"]),
        ]

    def __str__(self):
        return self.office_reference

    @property
    def balance(self):
        return self.principal_balance + self.interest_balance + self.fees_balance

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES


class CoObligor(TenantModel):
    """Another debtor liable on the account, with their role."""

    class Role(models.TextChoices):
        JOINT = "joint", "Joint account holder"
        COSIGNER = "cosigner", "Co-signer"
        GUARANTOR = "guarantor", "Guarantor"
        ESTATE = "estate", "Estate representative"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="co_obligors")
    debtor = models.ForeignKey("debtors.Debtor", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=12, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["office", "account", "debtor"], name="coobligor_unique")
        ]


class Transaction(TenantModel):
    """One append-only ledger row. Amounts are signed deltas per balance component."""

    class Kind(models.TextChoices):
        CHARGE = "charge", "Placed balance"
        INTEREST = "interest", "Interest"
        FEE = "fee", "Fee"
        PAYMENT = "payment", "Payment"
        REVERSAL = "reversal", "Reversal"
        ADJUSTMENT = "adjustment", "Adjustment"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="transactions")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    principal = MoneyField()
    interest = MoneyField()
    fees = MoneyField()
    currency = models.CharField(max_length=3)
    effective_date = models.DateField()
    posted_at = models.DateTimeField(default=timezone.now)
    reverses = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    payment = models.ForeignKey(
        "payments.Payment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transactions",
    )
    memo = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["posted_at", "id"]
        indexes = [models.Index(fields=["office", "account", "posted_at"])]
        constraints = [
            # An entry is reversed at most once.
            models.UniqueConstraint(fields=["office", "reverses"], name="transaction_reversed_once")
        ]

    @property
    def amount(self):
        return self.principal + self.interest + self.fees

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Ledger rows are append-only: post a reversal instead")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Ledger rows are append-only: post a reversal instead")


class Event(TenantModel):
    """One entry on an account's timeline. Holds ids and facts, never personal data."""

    class Kind(models.TextChoices):
        PLACED = "placed", "Placed"
        STATUS_CHANGED = "status_changed", "Status changed"
        NOTE = "note", "Note"
        CALL = "call", "Call"
        MESSAGE_SENT = "message_sent", "Message sent"
        MESSAGE_DELIVERED = "message_delivered", "Message delivered"
        MESSAGE_BLOCKED = "message_blocked", "Message blocked"
        RESPONSE = "response", "Debtor response"
        PORTAL_VISIT = "portal_visit", "Portal visit"
        PROMISE = "promise", "Promise to pay"
        PAYMENT = "payment", "Payment"
        REVERSAL = "reversal", "Payment reversed"
        PLAN = "plan", "Payment plan"
        DISPUTE = "dispute", "Dispute"
        HOLD = "hold", "Hold"
        CONSENT = "consent", "Consent / opt-out"
        LETTER = "letter", "Letter"
        ASSIGNED = "assigned", "Assigned"
        ESCALATED = "escalated", "Escalated"
        DEBTOR_SPLIT = "debtor_split", "Moved to its own debtor"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="events")
    debtor_id = models.BigIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A short, PII-free description and structured facts (ids, amounts, codes).
    summary = models.CharField(max_length=300)
    data = models.JSONField(default=dict, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    channel = models.CharField(max_length=10, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["office", "account", "occurred_at"]),
            models.Index(fields=["office", "kind", "occurred_at"]),
        ]


class Note(TenantModel):
    """Free text an agent wrote. Kept out of `Event` because free text may hold personal
    data, and erasure must be able to reach it."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="notes")
    body = models.TextField()
    author = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)


# Placement-import and creditor-file records live in their own modules; importing them
# here makes them models of this app.
from accounts.creditor_files.models import CreditorFile  # noqa: E402, F401
from accounts.imports.models import ImportMapping, PlacementImport, PlacementMatch  # noqa: E402, F401
