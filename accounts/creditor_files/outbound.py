"""Files the office sends back to a creditor, as CSV: the acknowledgement of one placement
file (every row: accepted with our reference, or rejected with the reason) and the
close/return file (accounts that left collection in a date range, with reason codes).

Reads only. The close/return file is one query however many accounts it lists.
"""

import csv
import io
import zoneinfo
from datetime import datetime, time, timedelta

from django.db.models import Case, Exists, OuterRef, Q, Value, When
from django.utils import timezone

from accounts.imports.reader import cell_text, document_sheet
from accounts.models import Account, AccountStatus
from compliance.models import Dispute
from debtors.models import Circumstance

ACK_HEADER = ["creditor_reference", "office_reference", "status", "reason", "line"]
NOT_IMPORTED = "Not imported: the file was imported all or nothing and other rows had problems."

# Why an account left collection, as the creditor's systems expect it.
PIF, SIF, RCL, BKY, DEC, DSP, CLS = "PIF", "SIF", "RCL", "BKY", "DEC", "DSP", "CLS"
RETURN_CODES = {
    PIF: "Paid in full",
    SIF: "Settled in full",
    RCL: "Recalled by the creditor",
    BKY: "Closed: bankruptcy",
    DEC: "Closed: debtor deceased",
    DSP: "Closed: disputed",
    CLS: "Closed",
}
RETURN_STATUSES = (
    AccountStatus.PAID,
    AccountStatus.SETTLED,
    AccountStatus.RECALLED,
    AccountStatus.CLOSED,
)
RETURN_HEADER = [
    "creditor_reference",
    "office_reference",
    "status",
    "reason_code",
    "reason",
    "closed_on",
    "placed_amount",
    "collected",
    "balance",
]


def csv_text(header, rows):
    """UTF-8 with a BOM, so Excel shows names as they are."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


# ---------- placement acknowledgement ---------------------------------------------------


def placement_acknowledgement(placement_import):
    """[creditor ref, office ref, accepted/rejected, reason, line] for every row of the
    file, in the file's order. Rejected rows carry the import's reasons (from its
    rejected-rows file, which lists them in the same order)."""
    pi = placement_import
    column = pi.mapping_snapshot.get("creditor_reference")
    placed = {}
    if pi.placement_id:
        placed = dict(
            Account.objects.filter(placement_id=pi.placement_id).values_list(
                "creditor_reference", "office_reference"
            )
        )
    reasons = _rejected_reasons(pi)
    next_rejected = next(reasons, None)
    rows = []
    with document_sheet(pi.document) as sheet:
        index = sheet.headers.index(column) if column in sheet.headers else None
        width = len(sheet.headers)
        for line, cells in sheet.rows():
            texts = [cell_text(c) for c in cells]
            if not any(t.strip() for t in texts):
                continue
            raw = texts[index] if index is not None and index < len(texts) else ""
            ref = " ".join(raw.split())
            if ref in placed:
                rows.append([ref, placed.pop(ref), "accepted", "", line])
                continue
            reason = NOT_IMPORTED
            padded = (texts + [""] * width)[:width]
            if next_rejected is not None and next_rejected[0] == padded:
                reason, next_rejected = next_rejected[1], next(reasons, None)
            rows.append([ref, "", "rejected", reason, line])
    return rows


def _rejected_reasons(pi):
    """(cells, error) for each rejected row of the import, in order."""
    if pi.rejected_document is None:
        return iter(())

    def read():
        with pi.rejected_document.file.open("rb") as fileobj:
            text = io.TextIOWrapper(fileobj, encoding="utf-8-sig", newline="")
            reader = csv.reader(text)
            next(reader, None)
            for cells in reader:
                yield cells[:-1], cells[-1]

    return read()


# ---------- close/return file -----------------------------------------------------------


def close_return_accounts(*, creditor, start, end):
    """Accounts of `creditor` that left collection between `start` and `end` (dates in
    the office's zone, both included), with their reason code (the amounts are the
    account's cached ledger sums); one query."""
    zone = zoneinfo.ZoneInfo(creditor.office.time_zone)
    since = timezone.make_aware(datetime.combine(start, time()), zone)
    until = timezone.make_aware(datetime.combine(end + timedelta(days=1), time()), zone)
    circumstance = Circumstance.objects.filter(debtor=OuterRef("debtor_id"))
    closed = Q(status=AccountStatus.CLOSED)
    return (
        Account.objects.filter(
            creditor=creditor,
            status__in=RETURN_STATUSES,
            status_changed_at__gte=since,
            status_changed_at__lt=until,
        )
        .annotate(
            reason_code=Case(
                When(status=AccountStatus.PAID, then=Value(PIF)),
                When(status=AccountStatus.SETTLED, then=Value(SIF)),
                When(status=AccountStatus.RECALLED, then=Value(RCL)),
                When(
                    closed & Exists(circumstance.filter(kind=Circumstance.Kind.BANKRUPTCY)),
                    then=Value(BKY),
                ),
                When(
                    closed & Exists(circumstance.filter(kind=Circumstance.Kind.DECEASED)),
                    then=Value(DEC),
                ),
                When(
                    closed & Exists(Dispute.objects.filter(account=OuterRef("pk"))), then=Value(DSP)
                ),
                default=Value(CLS),
            ),
        )
        .order_by("status_changed_at", "id")
    )


def close_return_rows(*, creditor, start, end):
    zone = zoneinfo.ZoneInfo(creditor.office.time_zone)
    return [
        [
            a.creditor_reference,
            a.office_reference,
            AccountStatus(a.status).label,
            a.reason_code,
            RETURN_CODES[a.reason_code],
            timezone.localtime(a.status_changed_at, zone).date().isoformat(),
            a.total_placed,
            a.total_collected,
            a.balance,
        ]
        for a in close_return_accounts(creditor=creditor, start=start, end=end)
    ]
