"""Payments, payment plans and their installments. Behaviour lives in services; the
ledger effect of a payment is posted by `accounts.services.ledger_post` only."""

from django.db import models
from django.utils import timezone

from accounts.models import MoneyField
from recovery.tenancy import TenantModel


class PaymentPlan(TenantModel):
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
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    total_amount = MoneyField()
    installment_amount = MoneyField()
    installment_count = models.PositiveIntegerField()
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    start_date = models.DateField()
    autopay = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

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
    idempotency_key = models.CharField(max_length=80)
    created_at = models.DateTimeField(default=timezone.now)
    received_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        "recovery.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

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
        ]
