"""Writing to the debtor about money, and keeping the letters: one place that picks the
usable address, asks the compliance gate, queues the email after commit, and stores a
PDF with the account's documents."""

import hashlib

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from compliance.facts import Attempt
from compliance.gate import evaluate
from recovery.models import Document

UNUSABLE = ("invalid", "bounced", "returned", "disconnected")


def contact_point(account, kind):
    """The debtor's own primary usable email address or postal address (never a third
    party's, F-3P), or None."""
    return (
        account.debtor.contact_points.filter(kind=kind, relation="")
        .exclude(validity__in=UNUSABLE)
        .order_by("-is_primary", "id")
        .first()
    )


def gate(account, channel, contact, *, content=frozenset(), debtor_initiated=False):
    """Ask compliance whether this one message may go now (and reserve its slot)."""
    [outcome] = evaluate(
        [
            Attempt(
                account_id=account.id,
                channel=channel,
                at=timezone.now(),
                contact_point_id=contact.id,
                content=content,
                debtor_initiated=debtor_initiated,
            )
        ],
        reserve=True,
    )
    return outcome


def email_debtor(
    account, *, subject, body, content=frozenset(), debtor_initiated=False, attachment=None
):
    """Gate and queue one email to the debtor. Returns (sent, why not)."""
    email = contact_point(account, "email")
    if email is None:
        return False, "no usable email address"
    outcome = gate(account, "email", email, content=content, debtor_initiated=debtor_initiated)
    if not outcome.allowed:
        return False, outcome.explanation
    text = body + "".join(f"\n\n{d['text']}" for d in outcome.disclosures)
    message = EmailMessage(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[email.value]
    )
    if attachment is not None:
        message.attach(attachment[0], attachment[1], "application/pdf")
    message.extra_headers["X-Recovery-Office"] = str(account.office_id)
    transaction.on_commit(message.send)
    return True, ""


def render_pdf(template, context):
    from weasyprint import HTML

    html = render_to_string(template, context)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def store_pdf(account, *, kind, title, filename, pdf, actor=None):
    """Keep a PDF with the account's documents."""
    document = Document(
        kind=kind,
        account=account,
        debtor_id=account.debtor_id,
        content_type="application/pdf",
        title=title,
        sha256=hashlib.sha256(pdf).hexdigest(),
        size=len(pdf),
        created_by=actor,
    )
    document.file.save(filename, ContentFile(pdf), save=False)
    document.save()
    return document
