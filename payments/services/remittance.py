"""Remittance statements: prepare a draft for a creditor and a period, issue it (then it
never changes), or discard a draft.

A statement takes every money row of the creditor's ledger — payments and their
reversals (`accounts.Transaction` with `payment` set; a reversal of a settlement's
write-off is not money) — dated up to the period's end and not yet on a statement.
Rows dated before the period (a refund after the last statement was issued, a late
row) come along as carried-forward lines, so a correction always lands on the next
statement and nothing is missed; the unique key on the ledger row means nothing is
remitted twice. Commission per line: `payments.remittance.commission`.

What each kind of statement asks of whom (amounts signed; negative remit = the creditor
owes it back):
- gross: the office remits all it collected and invoices its whole fee;
- net: the office keeps its fee on what it collected and remits the rest; the fee on
  payments made to the creditor directly is invoiced;
- combined: as net, and the fee on direct payments is deducted from the remittance too;
  only what the remittance cannot cover is invoiced.
In every kind, remit − invoice = collected − all fees.
"""

import calendar
import hashlib
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from accounts.models import ZERO, Creditor, Transaction
from payments.models import Source
from payments.remittance.commission import rate_for, split
from payments.remittance.commission import received_on as received_day
from payments.remittance.models import (
    CommissionTier,
    RemittanceLine,
    RemittanceStatement,
    StatementKind,
)
from recovery.models import Document, Office

# The ledger rows that are money: payments, and reversals of payments (a partial refund
# has no `reverses`; the reversal of a settlement write-off reverses an adjustment).
MONEY_ROWS = Q(payment__isnull=False) & (
    Q(kind=Transaction.Kind.PAYMENT)
    | Q(kind=Transaction.Kind.REVERSAL)
    & (Q(reverses__isnull=True) | Q(reverses__kind=Transaction.Kind.PAYMENT))
)


def remittance_period(frequency, today):
    """The last complete period before `today`: Monday–Sunday, or a calendar month."""
    if frequency == Creditor.RemittanceFrequency.WEEKLY:
        end = today - timedelta(days=today.weekday() + 1)
        return end - timedelta(days=6), end
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def month_bounds(day):
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


def unstatemented_rows(*, creditor, until):
    """The creditor's money rows up to `until` that are on no statement yet."""
    return (
        Transaction.objects.filter(
            MONEY_ROWS, account__creditor=creditor, effective_date__lte=until
        )
        .filter(remittance_lines__isnull=True)
        .select_related("account", "payment")
        .order_by("effective_date", "id")
    )


def _totals(kind, lines):
    collected = sum((ln.amount for ln in lines if not ln.is_direct), ZERO)
    collected_fee = sum((ln.fee for ln in lines if not ln.is_direct), ZERO)
    direct = sum((ln.amount for ln in lines if ln.is_direct), ZERO)
    direct_fee = sum((ln.fee for ln in lines if ln.is_direct), ZERO)
    if kind == StatementKind.GROSS:
        remit, invoice = collected, collected_fee + direct_fee
    elif kind == StatementKind.NET:
        remit, invoice = collected - collected_fee, direct_fee
    else:
        due = collected - collected_fee - direct_fee
        remit, invoice = max(due, ZERO), max(-due, ZERO)
    return {
        "collected": collected,
        "collected_fee": collected_fee,
        "direct": direct,
        "direct_fee": direct_fee,
        "remit_amount": remit,
        "invoice_amount": invoice,
        "line_count": len(lines),
    }


def _line(statement, row, *, creditor, tiers, tz):
    payment = row.payment
    received_on = received_day(payment, tz) or row.effective_date
    rate = rate_for(creditor, tiers, row.account, received_on, tz)
    amount = -row.amount  # the ledger row lowers the balance by what was collected
    parts = split(amount, rate)
    direct = payment.source == Source.CREDITOR
    if row.kind == Transaction.Kind.PAYMENT:
        kind = RemittanceLine.Kind.DIRECT if direct else RemittanceLine.Kind.PAYMENT
    else:
        kind = RemittanceLine.Kind.DIRECT_REVERSAL if direct else RemittanceLine.Kind.REVERSAL
    return RemittanceLine(
        office_id=statement.office_id,
        statement=statement,
        transaction=row,
        account=row.account,
        payment=payment,
        kind=kind,
        effective_date=row.effective_date,
        received_on=received_on,
        carried_forward=row.effective_date < statement.period_start,
        amount=amount,
        rate=rate,
        fee=parts.fee,
        creditor_share=parts.creditor_share,
    )


@transaction.atomic
def remittance_prepare(*, creditor, period_start, period_end, kind, actor=None):
    """A draft statement for the creditor (replacing its current draft, if any)."""
    if kind not in StatementKind.values:
        raise ValidationError({"kind": "Choose gross, net or combined."})
    if period_end < period_start:
        raise ValidationError({"period_end": "The period ends before it starts."})
    office = Office.objects.get(pk=creditor.office_id)
    tz = ZoneInfo(office.time_zone)
    if period_end > timezone.localdate(timezone=tz):
        raise ValidationError({"period_end": "The period cannot end in the future."})
    # One statement at a time per creditor: preparing and issuing lock the creditor.
    creditor = Creditor.objects.select_for_update().get(pk=creditor.pk)
    RemittanceStatement.objects.filter(creditor=creditor, status="draft").delete()
    rows = list(unstatemented_rows(creditor=creditor, until=period_end))
    currencies = {row.currency for row in rows}
    if len(currencies) > 1:
        raise ValidationError(
            "This creditor has money in several currencies ("
            + ", ".join(sorted(currencies))
            + "); statements are per currency and that is not supported yet."
        )
    statement = RemittanceStatement.objects.create(
        creditor=creditor,
        kind=kind,
        period_start=period_start,
        period_end=period_end,
        currency=currencies.pop() if currencies else "USD",
        created_by=actor,
    )
    tiers = list(CommissionTier.objects.filter(creditor=creditor))
    lines = [_line(statement, row, creditor=creditor, tiers=tiers, tz=tz) for row in rows]
    RemittanceLine.objects.bulk_create(lines, batch_size=1000)
    for field, value in _totals(kind, lines).items():
        setattr(statement, field, value)
    statement.save()
    return statement


@transaction.atomic
def remittance_issue(*, statement, actor=None):
    """Issue a draft: number it, store its PDF, and freeze it."""
    from payments.remittance.exports import statement_pdf

    creditor = Creditor.objects.select_for_update().get(pk=statement.creditor_id)
    statement = RemittanceStatement.objects.select_for_update().get(pk=statement.pk)
    if statement.is_issued:
        raise ValidationError("This statement has already been issued.")
    late = unstatemented_rows(creditor=creditor, until=statement.period_end).count()
    if late:
        raise ValidationError(
            f"{late} payment or reversal row(s) for this period were posted after the draft "
            "was prepared. Prepare the statement again so they are on it."
        )
    last = RemittanceStatement.objects.filter(creditor=creditor).aggregate(n=Max("number"))["n"]
    statement.number = (last or 0) + 1
    statement.status = RemittanceStatement.Status.ISSUED
    statement.issued_by = actor
    statement.issued_at = timezone.now()
    statement.creditor = creditor
    office = Office.objects.get(pk=statement.office_id)
    pdf = statement_pdf(statement, office=office)
    document = Document(
        kind=Document.Kind.REMITTANCE,
        content_type="application/pdf",
        title=f"Remittance statement {statement.reference} ({creditor.name})"[:200],
        sha256=hashlib.sha256(pdf).hexdigest(),
        size=len(pdf),
        created_by=actor,
    )
    document.file.save(f"remittance-{statement.reference}.pdf", ContentFile(pdf), save=False)
    document.save()
    statement.document = document
    statement.save()
    _send_to_creditor(statement, creditor=creditor, office=office, pdf=pdf)
    return statement


def _send_to_creditor(statement, *, creditor, office, pdf):
    """Email the issued statement (PDF and CSV) to the creditor's remittance address,
    after commit; a creditor without one gets it from the office by other means."""
    from django.conf import settings
    from django.core.mail import EmailMessage

    from payments.remittance.exports import statement_csv

    if not creditor.remittance_email:
        return
    message = EmailMessage(
        subject=f"Remittance statement {statement.reference} from {office.name}",
        body=(
            f"Hello,\n\nAttached is remittance statement {statement.reference} for "
            f"{statement.period_start:%b %d} to {statement.period_end:%b %d, %Y} "
            f"({statement.line_count} lines), as PDF and CSV.\n\n{office.name}"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[creditor.remittance_email],
    )
    message.attach(f"remittance-{statement.reference}.pdf", pdf, "application/pdf")
    message.attach(f"remittance-{statement.reference}.csv", statement_csv(statement), "text/csv")
    message.extra_headers["X-Recovery-Office"] = str(office.id)
    transaction.on_commit(message.send)


@transaction.atomic
def remittance_discard(*, statement):
    statement = RemittanceStatement.objects.select_for_update().get(pk=statement.pk)
    if statement.is_issued:
        raise ValidationError("An issued statement cannot be discarded; it is on record.")
    statement.delete()


def last_kind(creditor):
    """The kind of the creditor's last statement, the default for the next one."""
    return (
        RemittanceStatement.objects.filter(creditor=creditor)
        .order_by("-created_at")
        .values_list("kind", flat=True)
        .first()
        or StatementKind.NET
    )


def period_of(day: date, frequency):
    """The period (per the creditor's frequency) that contains `day`."""
    if frequency == Creditor.RemittanceFrequency.WEEKLY:
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    return month_bounds(day)
