"""Receipts and paid-in-full / settled-in-full letters: a PDF kept with the account's
documents and an email to the debtor, sent at once because it answers the debtor's own
action (F-RESPONSE) and carries no new demand. The compliance gate still decides, and
records, that it may go."""

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Account, Event, Transaction
from accounts.services import event_record
from payments.models import Payment
from payments.services.notify import email_debtor, render_pdf, store_pdf
from recovery.models import Document, Office

CLOSURE_TITLES = {"paid": "Paid in full", "settled": "Settled in full"}


def receipt_pdf(payment, *, office):
    rows = [
        {"account": t.account, "fees": -t.fees, "interest": -t.interest, "principal": -t.principal}
        for t in Transaction.objects.filter(payment=payment, kind=Transaction.Kind.PAYMENT)
        .select_related("account", "account__creditor")
        .order_by("id")
    ]
    return render_pdf(
        "payments/receipt_pdf.html",
        {"payment": payment, "office": office, "rows": rows, "debtor": payment.account.debtor},
    )


def receipt_send(*, payment_id):
    """Store the receipt PDF and email it, once. Returns the Document."""
    with transaction.atomic():
        payment = (  # only the payment is locked: not its account, debtor or creditor
            Payment.objects.select_for_update(of=("self",))
            .select_related("account__debtor", "account__creditor")
            .get(pk=payment_id)
        )
        if payment.receipt_sent_at or payment.status != Payment.Status.SUCCEEDED:
            return None
        office = Office.objects.get(pk=payment.office_id)
        account = payment.account
        pdf = receipt_pdf(payment, office=office)
        filename = f"receipt-{payment.id}.pdf"
        document = store_pdf(
            account,
            kind=Document.Kind.RECEIPT,
            title=f"Receipt for payment {payment.id}",
            filename=filename,
            pdf=pdf,
        )
        payment.receipt_sent_at = timezone.now()
        payment.save(update_fields=["receipt_sent_at"])
        sent, why = email_debtor(
            account,
            subject=f"Receipt: your payment of ${payment.amount:,.2f} to {office.name}",
            body=render_to_string(
                "payments/receipt_email.txt",
                {"payment": payment, "office": office, "debtor": account.debtor},
            ),
            debtor_initiated=True,
            attachment=(filename, pdf),
        )
        event_record(
            account=account,
            kind=Event.Kind.LETTER,
            summary="Receipt emailed to the debtor" if sent else f"Receipt kept ({why})",
            channel="email" if sent else "",
            data={"payment_id": payment.id, "document_id": document.id},
        )
        return document


def closure_letter_send(*, account_id):
    """The letter that says an account is paid or settled in full: stored with the
    account's documents and emailed (a response to the debtor's own payment)."""
    with transaction.atomic():
        account = Account.objects.select_related("debtor", "creditor").get(pk=account_id)
        if account.status not in CLOSURE_TITLES:
            return None
        title = CLOSURE_TITLES[account.status]
        if Document.objects.filter(
            account=account, kind=Document.Kind.LETTER, title__startswith=title
        ).exists():
            return None
        office = Office.objects.get(pk=account.office_id)
        context = {
            "account": account,
            "office": office,
            "title": title,
            "today": office.today(),
            "debtor": account.debtor,
        }
        pdf = render_pdf("payments/closure_letter.html", context)
        filename = f"{account.status}-{account.office_reference}.pdf"
        document = store_pdf(
            account,
            kind=Document.Kind.LETTER,
            filename=filename,
            pdf=pdf,
            title=f"{title} letter {account.office_reference}",
        )
        sent, _why = email_debtor(
            account,
            subject=f"{title}: your account {account.office_reference}",
            body=render_to_string("payments/closure_letter.txt", context),
            debtor_initiated=True,
            attachment=(filename, pdf),
        )
        event_record(
            account=account,
            kind=Event.Kind.LETTER,
            summary=f"{title} letter {'emailed and ' if sent else ''}kept with the documents",
            channel="email" if sent else "",
            data={"document_id": document.id},
        )
        return document
