"""Reconciliation of the trust account: Stripe payouts against the payments they carry,
and the bank's statement (CSV) against the deposits we expect.

- A Stripe payout's balance transactions are imported from Stripe and matched to our
  payments by PaymentIntent id (`Payment.gateway_reference`); the rest are listed.
- A bank statement line is matched automatically to an offline payment (same amount,
  dated within 3 days of when it was received, and the check / money order / transfer
  reference in the line's reference or description) or to a Stripe payout (same amount,
  arrival within 3 days). Exactly one candidate is needed; anything else waits in a
  queue for a person, who matches it by hand or marks it as not ours with a note.
A file with any bad row imports nothing.
"""

import csv
import hashlib
import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import stripe
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import ZERO
from payments.gateways import from_minor, stripe_config
from payments.models import Payment, Source
from payments.remittance.commission import received_on
from payments.remittance.models import (
    BankLine,
    BankStatementImport,
    PayoutLine,
    StripePayout,
)
from recovery.models import Office

WINDOW = timedelta(days=3)
MAX_BYTES = 5 * 1024 * 1024
COLUMNS = ("date", "description", "amount", "reference")
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y")
# Balance transaction types that carry a debtor's payment (or take one back).
PAYMENT_TYPES = {
    "charge",
    "payment",
    "refund",
    "payment_refund",
    "adjustment",
    "payment_failure_refund",
}


class BankFileError(ValidationError):
    """The file has bad rows; `.rows` is [(line number, field, message)]."""

    def __init__(self, rows):
        self.rows = rows
        super().__init__([f"Line {n}, {field}: {message}" for n, field, message in rows])


def _office_tz():
    from recovery import tenancy

    return ZoneInfo(Office.objects.get(pk=tenancy.current_office_id()).time_zone)


# --- Stripe payouts -------------------------------------------------------------------


def _payment_intent(source):
    if isinstance(source, str):
        return source if source.startswith("pi_") else ""
    if isinstance(source, dict):
        intent = source.get("payment_intent") or ""
        if isinstance(intent, dict):
            intent = intent.get("id", "")
        return intent
    return ""


@transaction.atomic
def stripe_payout_import(*, payout_id, actor=None):
    """Fetch a payout and its balance transactions from Stripe, store them and match
    each to our payment by PaymentIntent. Importing again refreshes the lines."""
    from recovery import tenancy

    payout_id = (payout_id or "").strip()
    if not re.fullmatch(r"po_[A-Za-z0-9]+", payout_id):
        raise ValidationError({"payout_id": "Enter a Stripe payout id, like po_1Q…"})
    config = stripe_config(tenancy.current_office_id())
    if config is None:
        raise ValidationError("Stripe is not configured for this office (demo gateway).")
    client = stripe.StripeClient(config.api_key, max_network_retries=2)
    options = {"stripe_account": config.account} if config.account else {}
    try:
        payout = client.v1.payouts.retrieve(payout_id, options=options).to_dict()
        listing = client.v1.balance_transactions.list(
            params={"payout": payout_id, "expand": ["data.source"], "limit": 100},
            options=options,
        )
        transactions = [bt.to_dict() for bt in listing.auto_paging_iter()]
    except stripe.StripeError as exc:
        raise ValidationError(
            f"Stripe did not answer: {exc.user_message or exc.__class__.__name__}"
        ) from exc
    currency = payout["currency"].upper()
    record, _created = StripePayout.objects.update_or_create(
        payout_id=payout_id,
        defaults={
            "amount": from_minor(payout["amount"], currency),
            "currency": currency,
            # Stripe gives the arrival day as midnight UTC of that day.
            "arrival_date": datetime.fromtimestamp(payout["arrival_date"], tz=UTC).date(),
            "status": payout.get("status") or "",
            "imported_at": timezone.now(),
            "imported_by": actor,
        },
    )
    PayoutLine.objects.filter(payout=record).delete()
    intents = {_payment_intent(bt.get("source")) for bt in transactions} - {""}
    payments = {
        p.gateway_reference: p
        for p in Payment.objects.filter(
            gateway=Payment.Gateway.STRIPE, gateway_reference__in=intents
        )
    }
    lines = []
    for bt in transactions:
        intent = _payment_intent(bt.get("source"))
        source = bt.get("source")
        payment = payments.get(intent) if intent else None
        if bt["type"] not in PAYMENT_TYPES:
            status = PayoutLine.Status.NOT_A_PAYMENT
        elif payment is not None:
            status = PayoutLine.Status.MATCHED
        else:
            status = PayoutLine.Status.UNMATCHED
        ccy = bt["currency"].upper()
        lines.append(
            PayoutLine(
                office_id=record.office_id,
                payout=record,
                balance_transaction_id=bt["id"],
                type=bt["type"],
                reporting_category=bt.get("reporting_category") or "",
                amount=from_minor(bt["amount"], ccy),
                fee=from_minor(bt.get("fee") or 0, ccy),
                net=from_minor(bt.get("net") or 0, ccy),
                source_id=(source.get("id") if isinstance(source, dict) else source) or "",
                payment_intent=intent,
                description=(bt.get("description") or "")[:300],
                payment=payment,
                status=status,
            )
        )
    PayoutLine.objects.bulk_create(lines)
    record.unmatched_count = sum(1 for ln in lines if ln.status == PayoutLine.Status.UNMATCHED)
    record.save(update_fields=["unmatched_count"])
    return record


# --- the bank statement ---------------------------------------------------------------


def _parse_date(text):
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    return None


def _parse_amount(text):
    text = text.strip().replace(",", "").replace("$", "")
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1]
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        return None
    return -amount if negative else amount


def bank_file_parse(data):
    """[(line number, date, description, amount, reference)] or BankFileError."""
    if len(data) > MAX_BYTES:
        raise BankFileError([(1, "file", "The file is larger than 5 MB; split it by month.")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BankFileError(
            [(1, "file", "Save the statement as CSV (UTF-8) and upload it again.")]
        ) from None
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        message = (
            "The first line must name the columns date, description, amount, reference; "
            f"missing: {', '.join(missing)}."
        )
        raise BankFileError([(1, "header", message)])
    index = {c: header.index(c) for c in COLUMNS}
    rows, errors = [], []
    for number, raw in enumerate(reader, start=2):
        if not any(cell.strip() for cell in raw):
            continue
        if len(raw) < len(header):
            errors.append((number, "row", f"Expected {len(header)} columns, found {len(raw)}."))
            continue
        cell = {c: raw[i].strip() for c, i in index.items()}
        day = _parse_date(cell["date"])
        if day is None:
            errors.append((number, "date", f"“{cell['date']}” is not a date (use 2026-11-30)."))
        amount = _parse_amount(cell["amount"])
        if amount is None:
            errors.append(
                (number, "amount", f"“{cell['amount']}” is not an amount (like 125.00 or -40.00).")
            )
        elif amount == ZERO:
            errors.append((number, "amount", "The amount is zero."))
        if len(cell["description"]) > 300:
            errors.append((number, "description", "Longer than 300 characters."))
        if len(cell["reference"]) > 120:
            errors.append((number, "reference", "Longer than 120 characters."))
        if not errors or errors[-1][0] != number:
            rows.append((number, day, cell["description"], amount, cell["reference"]))
    if errors:
        raise BankFileError(errors)
    if not rows:
        raise BankFileError([(2, "file", "The file has no statement lines.")])
    return rows


@transaction.atomic
def bank_statement_import(*, data, filename, actor=None):
    """Import a bank statement CSV (all rows or none) and match what can be matched."""
    sha256 = hashlib.sha256(data).hexdigest()
    earlier = BankStatementImport.objects.filter(sha256=sha256).first()
    if earlier is not None:
        raise BankFileError(
            [(1, "file", f"This file was already imported on {earlier.uploaded_at:%b %d, %Y}.")]
        )
    rows = bank_file_parse(data)
    statement_import = BankStatementImport.objects.create(
        filename=filename[:200], sha256=sha256, uploaded_by=actor, line_count=len(rows)
    )
    lines = BankLine.objects.bulk_create(
        [
            BankLine(
                office_id=statement_import.office_id,
                statement_import=statement_import,
                line_number=number,
                posted_on=day,
                description=description,
                amount=amount,
                reference=reference,
            )
            for number, day, description, amount, reference in rows
        ]
    )
    statement_import.matched_count = bank_lines_match(lines)
    statement_import.save(update_fields=["matched_count"])
    return statement_import


def _tokens(payment):
    values = [v for k, v in (payment.instrument or {}).items() if isinstance(v, str)]
    return [v.lower() for v in values if len(v) >= 3]


def _mentions(line, token):
    text = f"{line.reference} {line.description}".lower()
    return re.search(rf"(?<![0-9a-z]){re.escape(token)}(?![0-9a-z])", text) is not None


def _near(day, other):
    return abs(day - other) <= WINDOW


def bank_lines_match(lines):
    """Match deposits (positive lines) to exactly one expected deposit each; returns
    how many matched. A constant number of queries for any number of lines."""
    deposits = [ln for ln in lines if ln.amount > ZERO and ln.status == BankLine.Status.UNMATCHED]
    if not deposits:
        return 0
    tz = _office_tz()
    first = min(ln.posted_on for ln in deposits) - WINDOW
    last = max(ln.posted_on for ln in deposits) + WINDOW
    taken_payments = set(
        BankLine.objects.filter(payment__isnull=False).values_list("payment_id", flat=True)
    )
    taken_payouts = set(
        BankLine.objects.filter(payout__isnull=False).values_list("payout_id", flat=True)
    )
    start = timezone.make_aware(datetime.combine(first, datetime.min.time()), tz)
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), datetime.min.time()), tz)
    payments = [
        p
        for p in Payment.objects.filter(
            gateway=Payment.Gateway.OFFLINE,
            received_at__gte=start,
            received_at__lt=end,
            status__in=[Payment.Status.SUCCEEDED, Payment.Status.REFUNDED, Payment.Status.REVERSED],
        ).exclude(source=Source.CREDITOR)
        if p.id not in taken_payments
    ]
    payouts = [
        p
        for p in StripePayout.objects.filter(arrival_date__gte=first, arrival_date__lte=last)
        if p.id not in taken_payouts
    ]
    matched = []
    for line in deposits:
        by_payment = [
            p
            for p in payments
            if p.amount == line.amount
            and _near(received_on(p, tz), line.posted_on)
            and any(_mentions(line, t) for t in _tokens(p))
        ]
        by_payout = [
            p for p in payouts if p.amount == line.amount and _near(p.arrival_date, line.posted_on)
        ]
        if len(by_payment) + len(by_payout) != 1:
            if by_payment or by_payout:
                line.note = (
                    f"{len(by_payment) + len(by_payout)} deposits fit this line; choose one."
                )
            continue
        if by_payment:
            line.payment = by_payment[0]
            payments.remove(line.payment)
        else:
            line.payout = by_payout[0]
            payouts.remove(line.payout)
        line.status = BankLine.Status.MATCHED
        line.resolved_at = timezone.now()
        matched.append(line)
    notes = [ln for ln in deposits if ln.note and ln not in matched]
    BankLine.objects.bulk_update(matched, ["payment", "payout", "status", "resolved_at"])
    BankLine.objects.bulk_update(notes, ["note"])
    return len(matched)


@transaction.atomic
def bank_line_resolve(*, line, action, actor, payment_id=None, payout_id=None, note=""):
    """A person settles a queued line: match it to a payment or payout, or mark it as
    not ours (a note is required)."""
    line = BankLine.objects.select_for_update().get(pk=line.pk)
    note = (note or "").strip()
    if line.status != BankLine.Status.UNMATCHED:
        raise ValidationError("This line has already been resolved.")
    if action == "not_ours":
        if not note:
            raise ValidationError({"note": "Say what this line is (e.g. bank fee, transfer)."})
        line.status = BankLine.Status.NOT_OURS
    elif action == "match":
        if bool(payment_id) == bool(payout_id):
            raise ValidationError("Give either a payment number or a Stripe payout, not both.")
        if payment_id:
            deposit = Payment.objects.filter(pk=payment_id).first()
            if deposit is None:
                raise ValidationError({"payment_id": f"There is no payment {payment_id}."})
            line.payment = deposit
        else:
            deposit = StripePayout.objects.filter(payout_id=payout_id).first()
            if deposit is None:
                raise ValidationError(
                    {"payout_id": f"Payout {payout_id} is not imported; import it first."}
                )
            line.payout = deposit
        if deposit.amount != line.amount and not note:
            message = (
                f"The amounts differ ({line.amount} here, {deposit.amount} there): "
                "say why in the note."
            )
            raise ValidationError({"note": message})
        line.status = BankLine.Status.MATCHED
        line.matched_by_hand = True
    else:
        raise ValidationError("Choose to match the line or to mark it as not ours.")
    line.note = note or line.note
    line.resolved_by = actor
    line.resolved_at = timezone.now()
    try:
        with transaction.atomic():
            line.save()
    except IntegrityError:
        raise ValidationError("That deposit is already matched to another bank line.") from None
    return line
