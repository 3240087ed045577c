"""Lump-sum settlement offers: made within policy, fixed once made (same amount, same
deadline every time the debtor looks), and sent as a letter or email through the gate.

An offer whose deadline falls inside the validation period would push the debtor to pay
before they could dispute, so it is marked as overshadowing and the gate refuses it
until the period ends (F-OVERSHADOW)."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Max
from django.template.loader import render_to_string

from accounts.models import ZERO, Event
from accounts.services import event_record
from compliance.models import ValidationNotice
from payments.models import SettlementOffer, Source
from payments.selectors import current_offer, lump_sum_amount, policy_for
from payments.services.notify import contact_point, gate, render_pdf, store_pdf
from recovery.models import Document, Office


@transaction.atomic
def settlement_offer_make(*, account, discount, days, actor=None, source=Source.AGENT):
    """Offer the balance less `discount` (a fraction, e.g. 0.15) until `days` from now."""
    discount = Decimal(str(discount))
    policy = policy_for(account)
    today = account.office.today()
    if not account.is_open or account.balance <= ZERO:
        raise ValidationError("There is no open balance to offer a settlement on.")
    if not ZERO < discount <= policy.max_lump_sum_discount:
        raise ValidationError(
            {
                "discount": f"Offer a discount above 0% and at most "
                f"{policy.max_lump_sum_discount:.0%} (the office's policy)."
            }
        )
    if not 7 <= days <= 90:
        raise ValidationError({"days": "Give the debtor between 7 and 90 days."})
    existing = current_offer(account, today)
    if existing is not None:
        raise ValidationError(
            f"An offer of {existing.amount} is already open until {existing.expires_on:%b %d}."
        )
    offer = SettlementOffer.objects.create(
        account=account,
        balance_at_offer=account.balance,
        amount=lump_sum_amount(account.balance, discount),
        expires_on=today + timedelta(days=days),
        source=source,
        created_by=actor,
    )
    event_record(
        account=account,
        kind=Event.Kind.PAYMENT,
        actor=actor,
        summary=f"Lump-sum offer made: {offer.amount} instead of {offer.balance_at_offer}, "
        f"until {offer.expires_on:%b %d, %Y}",
        amount=offer.amount,
        data={"offer_id": offer.id},
    )
    return offer


def _content(offer):
    flags = {"settlement_offer"}
    period_end = ValidationNotice.objects.filter(account=offer.account).aggregate(
        end=Max("period_ends_on")
    )["end"]
    if period_end is not None and offer.expires_on <= period_end:
        flags.add("overshadows")
    return frozenset(flags)


class OfferRefused(ValidationError):
    pass


@transaction.atomic
def settlement_offer_send(*, offer, channel, actor=None):
    """The offer as a PDF letter (queued for mail) or an email with the PDF."""
    account = offer.account
    kind = {"email": "email", "letter": "address"}.get(channel)
    if kind is None:
        raise ValidationError({"channel": "Send it by email or by letter."})
    contact = contact_point(account, kind)
    if contact is None:
        what = "email address" if kind == "email" else "postal address"
        raise ValidationError(f"The debtor has no usable {what} on file.")
    outcome = gate(account, channel, contact, content=_content(offer))
    if not outcome.allowed:
        raise OfferRefused(f"Not sent: {outcome.explanation}")
    office = Office.objects.get(pk=account.office_id)
    context = {
        "offer": offer,
        "account": account,
        "office": office,
        "debtor": account.debtor,
        "address": contact if kind == "address" else None,
        "disclosures": outcome.disclosures,
        "today": account.office.today(),
    }
    pdf = render_pdf("payments/settlement_offer.html", context)
    filename = f"settlement-offer-{offer.id}.pdf"
    document = store_pdf(
        account,
        kind=Document.Kind.LETTER,
        title=f"Settlement offer {account.office_reference}",
        filename=filename,
        pdf=pdf,
        actor=actor,
    )
    if channel == "email":
        message = EmailMessage(
            subject=f"An offer to settle your account {account.office_reference}",
            body=render_to_string("payments/settlement_offer.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[contact.value],
        )
        message.attach(filename, pdf, "application/pdf")
        message.extra_headers["X-Recovery-Office"] = str(office.id)
        transaction.on_commit(message.send)
    event_record(
        account=account,
        kind=Event.Kind.LETTER,
        actor=actor,
        channel=channel,
        summary=f"Settlement offer of {offer.amount} "
        + ("emailed" if channel == "email" else "queued for mailing"),
        data={"offer_id": offer.id, "document_id": document.id},
    )
    return document
