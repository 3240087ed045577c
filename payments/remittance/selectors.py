"""Reads for the remittance and reconciliation pages: each a fixed number of queries,
however many lines."""

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth

from accounts.models import ZERO
from payments.remittance.models import (
    BankLine,
    RemittanceLine,
    RemittanceStatement,
    StatementKind,
    StripePayout,
)


def statement_get(statement_id):
    """A statement of the current office (scoped manager), or DoesNotExist."""
    return RemittanceStatement.objects.select_related(
        "creditor", "created_by", "issued_by", "document"
    ).get(pk=statement_id)


def statement_list(*, creditor_id=None):
    qs = RemittanceStatement.objects.select_related("creditor")
    if creditor_id:
        qs = qs.filter(creditor_id=creditor_id)
    return qs.order_by("-period_end", "-id")


def statement_lines(statement):
    return list(
        RemittanceLine.objects.filter(statement=statement)
        .select_related("account")
        .order_by("effective_date", "transaction_id")
    )


def summary(statement):
    """(label, amount) rows in the order a creditor reads them."""
    rows = [
        ("Collected by us (net of reversals)", statement.collected),
        ("Our fee on it", statement.collected_fee),
        ("Paid direct to you (reported)", statement.direct),
        ("Our fee on direct payments", statement.direct_fee),
        ("Your share of all collections", statement.creditor_share),
    ]
    if statement.kind == StatementKind.GROSS:
        remit = "Remitted to you (gross)"
    else:
        remit = "Remitted to you (net of our fee)"
    rows.append(
        (remit if statement.remit_amount >= ZERO else "Owed back by you", statement.remit_amount)
    )
    rows.append(("Invoiced to you (our fee)", statement.invoice_amount))
    return rows


def monthly_chart(*, months=12, creditor_id=None):
    """Collections and fees per month from issued statements' lines (one query)."""
    qs = RemittanceLine.objects.filter(statement__status=RemittanceStatement.Status.ISSUED)
    if creditor_id:
        qs = qs.filter(statement__creditor_id=creditor_id)
    rows = list(
        qs.annotate(month=TruncMonth("effective_date"))
        .values("month")
        .annotate(collected=Sum("amount"), fee=Sum("fee"))
        .order_by("-month")[:months]
    )
    rows.reverse()
    return [
        {"month": r["month"], "collected": r["collected"] or ZERO, "fee": r["fee"] or ZERO}
        for r in rows
    ]


def bank_queue():
    return BankLine.objects.filter(status=BankLine.Status.UNMATCHED).select_related(
        "statement_import"
    )


def bank_recent_resolved(limit=50):
    return (
        BankLine.objects.exclude(status=BankLine.Status.UNMATCHED)
        .select_related("payment", "payout", "resolved_by")
        .order_by("-resolved_at", "-id")[:limit]
    )


def bank_counts():
    return BankLine.objects.aggregate(
        unmatched=Count("id", filter=Q(status=BankLine.Status.UNMATCHED)),
        matched=Count("id", filter=Q(status=BankLine.Status.MATCHED)),
        not_ours=Count("id", filter=Q(status=BankLine.Status.NOT_OURS)),
    )


def payout_list(limit=20):
    return StripePayout.objects.order_by("-arrival_date", "-id")[:limit]
