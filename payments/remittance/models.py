"""Commission tiers, remittance statements and their lines, Stripe payouts and the trust
bank account's statement lines. Imported by `payments.models`, so they belong to the
payments app.

Invariants: an issued statement and its lines never change (save() and delete() refuse;
corrections go on the next statement); a ledger row is on at most one statement (a
unique constraint), so nothing is remitted twice; a payment or payout is matched to at
most one bank line.
"""

from django.db import models
from django.db.models.functions import Round
from django.utils import timezone

from accounts.models import MoneyField
from recovery.tenancy import TenantModel


class Immutable(ValueError):
    """An issued statement (or one of its lines) was about to change."""


class CommissionTier(TenantModel):
    """A contingency fee rate for a creditor's older or larger accounts. With no tier
    applicable the creditor's flat `contingency_fee_rate` applies; see
    `payments.remittance.commission` for which tier wins."""

    class AgeFrom(models.TextChoices):
        PLACEMENT = "placement", "Days since placement"
        CHARGE_OFF = "charge_off", "Days since charge-off"

    creditor = models.ForeignKey(
        "accounts.Creditor", on_delete=models.CASCADE, related_name="commission_tiers"
    )
    min_age_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Applies to accounts at least this many days old"
    )
    age_from = models.CharField(max_length=10, choices=AgeFrom.choices, default=AgeFrom.PLACEMENT)
    min_balance = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Applies to accounts placed with at least this balance",
    )
    rate = models.DecimalField(
        max_digits=5, decimal_places=4, help_text="Share of collections the office keeps, 0–1"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["creditor", "min_age_days", "min_balance"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_age_days__isnull=False)
                | models.Q(min_balance__isnull=False),
                name="commission_tier_has_condition",
            ),
            models.CheckConstraint(
                condition=models.Q(rate__gte=0, rate__lte=1), name="commission_tier_rate_range"
            ),
            models.UniqueConstraint(
                fields=["office", "creditor", "age_from", "min_age_days", "min_balance"],
                name="commission_tier_unique",
                nulls_distinct=False,
            ),
        ]

    def __str__(self):
        parts = []
        if self.min_age_days is not None:
            since = "charge-off" if self.age_from == self.AgeFrom.CHARGE_OFF else "placement"
            parts.append(f"{self.min_age_days}+ days since {since}")
        if self.min_balance is not None:
            parts.append(f"placed balance {self.min_balance}+")
        return " and ".join(parts)


class StatementKind(models.TextChoices):
    GROSS = "gross", "Gross remit (we remit everything and invoice our fee)"
    NET = "net", "Net remit (we keep our fee and remit the rest)"
    COMBINED = "combined", "Combined (net remit, direct-payment fees deducted too)"


class RemittanceStatement(TenantModel):
    """What the office owes a creditor for a period, and what it invoices them.

    Amounts are signed: `collected` is money the office received for the creditor net
    of reversals, `direct` what the debtor paid the creditor directly (reported by the
    creditor); `remit_amount` is what the office pays the creditor (negative: the
    creditor owes it back), `invoice_amount` the fee the office bills the creditor."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ISSUED = "issued", "Issued"

    creditor = models.ForeignKey(
        "accounts.Creditor", on_delete=models.PROTECT, related_name="remittance_statements"
    )
    number = models.PositiveIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=10, choices=StatementKind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    period_start = models.DateField()
    period_end = models.DateField()
    currency = models.CharField(max_length=3, default="USD")
    collected = MoneyField()
    collected_fee = MoneyField()
    direct = MoneyField()
    direct_fee = MoneyField()
    remit_amount = MoneyField()
    invoice_amount = MoneyField()
    line_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    issued_by = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    issued_at = models.DateTimeField(null=True, blank=True)
    document = models.ForeignKey(
        "recovery.Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-period_end", "-id"]
        indexes = [models.Index(fields=["office", "creditor", "period_end"])]
        constraints = [
            models.UniqueConstraint(
                fields=["office", "creditor"],
                condition=models.Q(status="draft"),
                name="remittance_one_draft_per_creditor",
            ),
            models.UniqueConstraint(
                fields=["office", "creditor", "number"],
                condition=models.Q(number__isnull=False),
                name="remittance_statement_number",
            ),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="remittance_period_order",
            ),
        ]

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._stored_status = instance.__dict__.get("status")
        return instance

    @property
    def is_issued(self):
        return self.status == self.Status.ISSUED

    @property
    def reference(self):
        if self.number is None:
            return f"Draft {self.pk}"
        return f"{self.creditor.reference}-{self.number:04d}"

    @property
    def fee_total(self):
        return self.collected_fee + self.direct_fee

    @property
    def creditor_share(self):
        """What the creditor keeps of everything collected, direct or through us."""
        return self.collected + self.direct - self.fee_total

    def save(self, *args, **kwargs):
        if getattr(self, "_stored_status", None) == self.Status.ISSUED:
            raise Immutable(
                "An issued remittance statement cannot be changed; corrections go on the "
                "next statement."
            )
        super().save(*args, **kwargs)
        self._stored_status = self.status

    def delete(self, *args, **kwargs):
        if self.Status.ISSUED in (self.status, getattr(self, "_stored_status", None)):
            raise Immutable("An issued remittance statement cannot be deleted.")
        return super().delete(*args, **kwargs)


class RemittanceLine(TenantModel):
    """One ledger row (a payment or a reversal with its payment) on a statement, with
    the fee on it. The unique key on the ledger row is what stops double remittance."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", "Payment"
        REVERSAL = "reversal", "Reversal"
        DIRECT = "direct", "Paid direct"
        DIRECT_REVERSAL = "direct_reversal", "Paid direct, reversed"

    statement = models.ForeignKey(
        RemittanceStatement, on_delete=models.CASCADE, related_name="lines"
    )
    transaction = models.ForeignKey(
        "accounts.Transaction", on_delete=models.PROTECT, related_name="remittance_lines"
    )
    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey("payments.Payment", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    effective_date = models.DateField()
    received_on = models.DateField()
    # Dated before the period: a late row or a correction of an issued statement.
    carried_forward = models.BooleanField(default=False)
    amount = MoneyField(help_text="Collected (positive) or taken back (negative)")
    rate = models.DecimalField(max_digits=5, decimal_places=4)
    fee = MoneyField()
    creditor_share = MoneyField()

    class Meta:
        ordering = ["effective_date", "transaction_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["office", "transaction"], name="remittance_line_once_per_ledger_row"
            ),
            models.CheckConstraint(
                # Rounded to the cent: exact on PostgreSQL already, and SQLite computes
                # the difference of two decimals in floating point (0.3 - 0.1 != 0.2).
                condition=models.Q(creditor_share=Round(models.F("amount") - models.F("fee"), 2)),
                name="remittance_line_split_adds_up",
            ),
        ]
        indexes = [models.Index(fields=["office", "statement", "effective_date"])]

    @property
    def rate_percent(self):
        return self.rate * 100

    @property
    def is_direct(self):
        return self.kind in (self.Kind.DIRECT, self.Kind.DIRECT_REVERSAL)

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise Immutable("Statement lines are never edited; prepare the statement again.")
        if self.statement.is_issued:
            raise Immutable("An issued remittance statement cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise Immutable("Statement lines go only with their draft statement.")


class StripePayout(TenantModel):
    """A Stripe payout to the trust account, with the balance transactions it settled."""

    payout_id = models.CharField(max_length=80)
    amount = MoneyField()
    currency = models.CharField(max_length=3)
    arrival_date = models.DateField()
    status = models.CharField(max_length=20, blank=True)
    imported_at = models.DateTimeField(default=timezone.now)
    imported_by = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    unmatched_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-arrival_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["office", "payout_id"], name="stripe_payout_once")
        ]

    def __str__(self):
        return self.payout_id


class PayoutLine(TenantModel):
    """One balance transaction in a payout: a charge, a refund, a dispute, a fee."""

    class Status(models.TextChoices):
        MATCHED = "matched", "Matched"
        UNMATCHED = "unmatched", "Not matched"
        NOT_A_PAYMENT = "not_a_payment", "Fee or transfer"

    payout = models.ForeignKey(StripePayout, on_delete=models.CASCADE, related_name="lines")
    balance_transaction_id = models.CharField(max_length=80)
    type = models.CharField(max_length=40)
    reporting_category = models.CharField(max_length=40, blank=True)
    amount = MoneyField()
    fee = MoneyField()
    net = MoneyField()
    source_id = models.CharField(max_length=80, blank=True)
    payment_intent = models.CharField(max_length=120, blank=True)
    description = models.CharField(max_length=300, blank=True)
    payment = models.ForeignKey(
        "payments.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["office", "balance_transaction_id"], name="payout_line_once"
            )
        ]


class BankStatementImport(TenantModel):
    """One upload of the trust bank account's statement (CSV)."""

    filename = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    line_count = models.PositiveIntegerField(default=0)
    matched_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["office", "sha256"], name="bank_statement_once")
        ]


class BankLine(TenantModel):
    """A line of the trust account's statement and what it was matched to; unmatched
    lines wait in a queue for a person (match by hand, or mark as not ours)."""

    class Status(models.TextChoices):
        UNMATCHED = "unmatched", "Waiting for a person"
        MATCHED = "matched", "Matched"
        NOT_OURS = "not_ours", "Not ours"

    statement_import = models.ForeignKey(
        BankStatementImport, on_delete=models.CASCADE, related_name="lines"
    )
    line_number = models.PositiveIntegerField()
    posted_on = models.DateField()
    description = models.CharField(max_length=300, blank=True)
    amount = MoneyField()
    reference = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UNMATCHED)
    payment = models.ForeignKey(
        "payments.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payout = models.ForeignKey(
        StripePayout, null=True, blank=True, on_delete=models.PROTECT, related_name="bank_lines"
    )
    matched_by_hand = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["posted_on", "line_number"]
        indexes = [models.Index(fields=["office", "status", "posted_on"])]
        constraints = [
            models.UniqueConstraint(
                fields=["office", "payment"],
                condition=models.Q(payment__isnull=False),
                name="bank_line_payment_once",
            ),
            models.UniqueConstraint(
                fields=["office", "payout"],
                condition=models.Q(payout__isnull=False),
                name="bank_line_payout_once",
            ),
            models.CheckConstraint(
                condition=models.Q(payment__isnull=True) | models.Q(payout__isnull=True),
                name="bank_line_one_match",
            ),
        ]

    @property
    def deposit(self):
        return self.payment or self.payout
