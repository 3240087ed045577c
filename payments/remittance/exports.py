"""A remittance statement as CSV (for the creditor's books) and as PDF (WeasyPrint).
Both read the stored lines and totals; neither computes money."""

import csv
import io

from django.conf import settings
from django.template.loader import render_to_string

from payments.remittance import selectors

CSV_COLUMNS = [
    "statement",
    "line",
    "account",
    "creditor_reference",
    "payment",
    "received_on",
    "posted_on",
    "carried_forward",
    "amount",
    "fee_rate",
    "fee",
    "creditor_share",
]


def _text(value):
    """Keep a spreadsheet from running a cell as a formula (CSV injection)."""
    value = str(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def statement_csv(statement):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    reference = statement.reference
    for line in selectors.statement_lines(statement):
        writer.writerow(
            [
                reference,
                line.get_kind_display(),
                _text(line.account.office_reference),
                _text(line.account.creditor_reference),
                line.payment_id,
                line.received_on.isoformat(),
                line.effective_date.isoformat(),
                "yes" if line.carried_forward else "",
                f"{line.amount:.2f}",
                f"{line.rate:.4f}",
                f"{line.fee:.2f}",
                f"{line.creditor_share:.2f}",
            ]
        )
    writer.writerow([])
    for label, value in selectors.summary(statement):
        writer.writerow([reference, label, "", "", "", "", "", "", f"{value:.2f}"])
    return out.getvalue()


def statement_pdf(statement, *, office):
    from weasyprint import HTML

    html = render_to_string(
        "payments/remittance_pdf.html",
        {
            "statement": statement,
            "office": office,
            "lines": selectors.statement_lines(statement),
            "summary": selectors.summary(statement),
        },
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
