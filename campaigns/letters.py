"""Letters, the print-and-mail channel: a letter the gate allowed becomes a PDF kept with
the account's documents and queued for the mailing vendor; a manager hands the queued
letters over as one batch (a combined PDF plus a manifest CSV); returned mail marks the
address and opens skip-tracing work.

No provider is called, so a letter is never in doubt: it is queued or it is not. What
shows through the envelope windows is the office's return address and the debtor's name
and address — never the office's name or a word about a debt (F-MEDIA, FDCPA 808(8)).
A batch is never changed and a letter is never handed over twice.
"""

import csv
import hashlib
import io
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from accounts.models import Event
from accounts.services import event_record
from campaigns import rendering
from campaigns.models import LetterBatch, Message
from debtors.models import ContactPoint
from payments.services.notify import store_pdf
from recovery import tenancy
from recovery.models import Document, WorkItem

PROVIDER = "print_batch"
RETURNED = "returned"
MANIFEST_COLUMNS = [
    "batch_id",
    "sequence",
    "office_reference",
    "debtor_name",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "country",
    "pages",
    "document_id",
]


def address_lines(contact_point):
    """The postal address as the envelope shows it."""
    cp = contact_point
    if not cp.line1:
        return [cp.value]
    last = " ".join(
        part for part in (f"{cp.city}," if cp.city else "", cp.state, cp.postal_code) if part
    ).rstrip(",")
    return [line for line in (cp.line1, cp.line2, last) if line]


def _pdf(fragments):
    """One PDF of the letters, each starting on a new page, and its page count."""
    from weasyprint import HTML

    # Our own template's output, escaped when it was rendered and stored.
    letters = [mark_safe(f) for f in fragments]  # noqa: S308
    html = render_to_string("campaigns/letters/print.html", {"letters": letters})
    document = HTML(string=html, base_url=str(settings.BASE_DIR)).render()
    return document.write_pdf(), len(document.pages)


def letter_queue(*, message, text, disclosures, office, now):
    """Render the gated letter, keep its PDF on the account and queue it for the next
    print batch: one transaction, so a crash leaves the row `sending` and untouched."""
    account = message.account
    debtor = account.debtor
    values = rendering.merge_values(
        account=account, debtor=debtor, office=office, creditor=account.creditor
    )
    heading = rendering.render(text[0], values)
    body = rendering.render(text[1], values, disclosures=disclosures)
    dated = timezone.localdate(now, ZoneInfo(office.time_zone))
    fragment = render_to_string(
        "campaigns/letters/_letter.html",
        {
            "office": office,
            "name": debtor.display_name,
            "address": address_lines(message.contact_point),
            "date": dated,
            "reference": account.office_reference,
            "heading": heading,
            "paragraphs": [p for p in body.split("\n\n") if p.strip()],
        },
    )
    pdf, pages = _pdf([fragment])
    with tenancy.office_context(message.office_id), transaction.atomic():
        document = store_pdf(
            account,
            kind=Document.Kind.LETTER,
            title=f"Letter of {dated:%Y-%m-%d}",
            filename=f"letter-{message.pk}.pdf",
            pdf=pdf,
        )
        moved = Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
            status=Message.Status.SENT,
            sent_at=now,
            provider=PROVIDER,
            letter_html=fragment,
            letter_pages=pages,
            letter_document=document,
        )
        if not moved:
            raise RuntimeError(f"letter {message.pk} is no longer being sent")
        event_record(
            account=account,
            kind=Event.Kind.LETTER,
            channel="letter",
            occurred_at=now,
            summary="Letter queued for mailing",
            data={"message_id": message.pk, "document_id": document.pk},
        )
    return document


def letters_queued():
    """Letters rendered and waiting for a print batch, oldest first."""
    return (
        Message.objects.filter(
            channel="letter", letter_batch__isnull=True, letter_document__isnull=False
        )
        .select_related("account__debtor", "contact_point")
        .order_by("sent_at", "id")
    )


def batch_letters(batch):
    return (
        Message.objects.filter(letter_batch=batch)
        .select_related("account__debtor", "contact_point")
        .order_by("letter_sequence")
    )


def letter_batch_create(*, actor=None):
    """Hand every queued letter to the vendor: one PDF in sequence and a manifest, kept as
    documents. The rows are locked, so two managers clicking at once batch each letter
    once; the second gets what the first left (or nothing)."""
    with transaction.atomic():
        letters = list(letters_queued().select_for_update(of=("self",)))
        if not letters:
            raise ValidationError("No letters are waiting for a batch.")
        pdf, pages = _pdf([m.letter_html for m in letters])
        batch = LetterBatch.objects.create(
            created_by=actor, letter_count=len(letters), page_count=pages
        )
        for sequence, message in enumerate(letters, start=1):
            message.letter_batch, message.letter_sequence = batch, sequence
        Message.objects.bulk_update(letters, ["letter_batch", "letter_sequence"])
        stamp = f"{batch.created_at:%Y%m%d}-{batch.pk}"
        pdf_doc = _document(
            title=f"Print batch {batch.pk}",
            filename=f"letters-{stamp}.pdf",
            content=pdf,
            content_type="application/pdf",
            actor=actor,
        )
        manifest = _manifest(batch, letters).encode()
        manifest_doc = _document(
            title=f"Print batch {batch.pk} manifest",
            filename=f"letters-{stamp}.csv",
            content=manifest,
            content_type="text/csv",
            actor=actor,
        )
        # Filled in the transaction that creates the batch; never written again.
        LetterBatch.objects.filter(pk=batch.pk).update(pdf=pdf_doc, manifest=manifest_doc)
        batch.pdf, batch.manifest = pdf_doc, manifest_doc
    return batch


def _cell(value):
    # A vendor opens the manifest in a spreadsheet: no cell may start a formula.
    value = str(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _manifest(batch, letters):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(MANIFEST_COLUMNS)
    for m in letters:
        cp = m.contact_point
        line1, line2 = (cp.line1, cp.line2) if cp.line1 else (cp.value, "")
        row = [
            batch.pk,
            m.letter_sequence,
            m.account.office_reference,
            m.account.debtor.display_name,
            line1,
            line2,
            cp.city,
            cp.state,
            cp.postal_code,
            cp.country,
            m.letter_pages,
            m.letter_document_id,
        ]
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def _document(*, title, filename, content, content_type, actor):
    """A batch file: the office's, on no single account (so never in a debtor's portal)."""
    document = Document(
        kind=Document.Kind.LETTER,
        title=title,
        content_type=content_type,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        created_by=actor,
    )
    document.file.save(filename, ContentFile(content), save=False)
    document.save()
    return document


def letter_returned_mark(*, message, actor=None, now=None):
    """The vendor or the post office sent a letter back: its address is marked returned
    (nothing more is mailed there) and a person is asked to find a better one."""
    if message.letter_batch_id is None:
        raise ValidationError("Only a letter that went out in a batch can come back.")
    if message.provider_status == RETURNED:
        raise ValidationError("This letter is already marked returned.")
    now = now or timezone.now()
    with transaction.atomic():
        Message.objects.filter(pk=message.pk).update(provider_status=RETURNED)
        cp = message.contact_point
        if cp is not None:
            ContactPoint.objects.filter(pk=cp.pk).update(validity=ContactPoint.Validity.RETURNED)
        item = WorkItem.objects.create(
            kind=WorkItem.Kind.RETURNED_MAIL,
            account=message.account,
            due_at=now,
            title="Returned mail: find a current address",
            detail=f"Letter {message.letter_sequence} of print batch {message.letter_batch_id} "
            "came back undeliverable; the address is marked returned.",
        )
        event_record(
            account=message.account,
            kind=Event.Kind.LETTER,
            channel="letter",
            actor=actor,
            occurred_at=now,
            summary="Letter returned undeliverable: address marked returned",
            data={
                "message_id": message.pk,
                "work_item_id": item.pk,
                "contact_point_id": message.contact_point_id,
            },
        )
    message.provider_status = RETURNED
    return item
