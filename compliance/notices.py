"""Validation notices (F-VN, F-VPERIOD, F-ESIGN), in the layout of the CFPB's Model
Form B-1, in English or Spanish, as PDF (WeasyPrint) and as an email carrying it.

Sending one goes through the gate like any contact (content flag `validation_notice`),
is recorded with its computed dispute-period end, and lands on the timeline and in the
document store.
"""

import hashlib
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import ZERO
from compliance import services
from compliance.facts import Attempt
from compliance.gate import evaluate
from recovery.models import Document

TEXT = {
    "en": {
        "title": "Validation notice",
        "is_collector": "{office} is a debt collector. We are trying to collect a debt that you "
        "owe to {creditor}. We will use any information you give us to help collect the debt.",
        "our_info": "Our information",
        "your_info": "Your information",
        "creditor_then": "As of {date}, you owed:",
        "interest": "Between {date} and today: you were charged this amount in interest:",
        "fees": "You were charged this amount in fees:",
        "paid": "You paid or were credited this amount toward the debt:",
        "total": "Total amount of the debt now:",
        "about_debt": "Information about the debt",
        "original": "Creditor on {date}: {creditor}",
        "account_no": "Account number: ending {last4}",
        "reference": "Our reference: {ref}",
        "dispute_h": "How can you dispute the debt?",
        "dispute_call": "Call or write to us by {end} to dispute all or part of the debt. If you "
        "do not, we will assume that our information is correct.",
        "dispute_write": "If you write to us by {end}, we must stop collection on any amount you "
        "dispute until we send you information that shows you owe the debt. You may use the "
        "form below or write to us without the form. You may also include supporting "
        "documents.",
        "else_h": "What else can you do?",
        "else_original": "Write to ask for the name and address of the original creditor, if "
        "different from the current creditor. If you write by {end}, we must stop collection "
        "until we send you that information.",
        "else_rights": "Go to www.cfpb.gov/debt-collection to learn more about your rights "
        "under federal law.",
        "else_options": "Contact us about your payment options.",
        "else_spanish": "Póngase en contacto con nosotros para solicitar una copia de este "
        "formulario en español.",
        "form_h": "How do you want to respond?",
        "form_dispute": "I want to dispute the debt because I think:",
        "form_not_mine": "This is not my debt.",
        "form_wrong": "The amount is wrong.",
        "form_other": "Other (please describe on reverse or attach additional information).",
        "form_original": "I want you to send me the name and address of the original creditor.",
        "form_enclosed": "I enclosed this amount:",
        "mail_to": "Mail this form to:",
        "email_subject": "Important information about your account with {creditor}",
        "email_body": "Hello {name},\n\nThe attached notice explains the debt {office} is "
        "collecting for {creditor}, the amount, and your right to dispute it by {end}. Please "
        "keep it for your records.\n\nIf anything in it looks wrong, reply to this email or "
        "call us at {phone}.\n\n{office}",
    },
    "es": {
        "title": "Aviso de validación",
        "is_collector": "{office} es un cobrador de deudas. Estamos tratando de cobrar una deuda "
        "que usted le debe a {creditor}. Usaremos cualquier información que usted nos dé para "
        "ayudar a cobrar la deuda.",
        "our_info": "Nuestra información",
        "your_info": "Su información",
        "creditor_then": "Al {date}, usted debía:",
        "interest": "Entre el {date} y hoy: se le cobró esta cantidad en intereses:",
        "fees": "Se le cobró esta cantidad en cargos:",
        "paid": "Usted pagó o se le acreditó esta cantidad a la deuda:",
        "total": "Cantidad total de la deuda ahora:",
        "about_debt": "Información sobre la deuda",
        "original": "Acreedor al {date}: {creditor}",
        "account_no": "Número de cuenta: termina en {last4}",
        "reference": "Nuestra referencia: {ref}",
        "dispute_h": "¿Cómo puede disputar la deuda?",
        "dispute_call": "Llámenos o escríbanos antes del {end} para disputar toda o parte de la "
        "deuda. Si no lo hace, asumiremos que nuestra información es correcta.",
        "dispute_write": "Si nos escribe antes del {end}, debemos detener el cobro de cualquier "
        "cantidad que usted dispute hasta que le enviemos información que demuestre que usted "
        "debe la deuda. Puede usar el formulario de abajo o escribirnos sin el formulario. "
        "También puede incluir documentos de respaldo.",
        "else_h": "¿Qué más puede hacer?",
        "else_original": "Escriba para pedir el nombre y la dirección del acreedor original, si "
        "es diferente del acreedor actual. Si escribe antes del {end}, debemos detener el cobro "
        "hasta que le enviemos esa información.",
        "else_rights": "Visite www.cfpb.gov/debt-collection para saber más sobre sus derechos "
        "según la ley federal.",
        "else_options": "Comuníquese con nosotros sobre sus opciones de pago.",
        "else_spanish": "",
        "form_h": "¿Cómo quiere responder?",
        "form_dispute": "Quiero disputar la deuda porque creo que:",
        "form_not_mine": "Esta no es mi deuda.",
        "form_wrong": "La cantidad es incorrecta.",
        "form_other": "Otro (describa al reverso o adjunte información adicional).",
        "form_original": "Quiero que me envíen el nombre y la dirección del acreedor original.",
        "form_enclosed": "Adjunto esta cantidad:",
        "mail_to": "Envíe este formulario a:",
        "email_subject": "Información importante sobre su cuenta con {creditor}",
        "email_body": "Hola {name}:\n\nEl aviso adjunto explica la deuda que {office} está "
        "cobrando para {creditor}, la cantidad y su derecho a disputarla antes del {end}. "
        "Consérvelo para sus archivos.\n\nSi algo le parece incorrecto, responda a este correo "
        "o llámenos al {phone}.\n\n{office}",
    },
}


@dataclass
class NoticeFigures:
    itemization_date: date | None
    owed_then: object
    interest: object
    fees: object
    paid: object
    total_now: object


def figures(account):
    """The itemization (1006.34(c)(2)(vi)–(viii)); the total is the balance now."""
    paid = account.payments_since_itemization + account.credits_since_itemization
    return NoticeFigures(
        itemization_date=account.itemization_date,
        owed_then=account.itemization_amount or ZERO,
        interest=account.interest_since_itemization,
        fees=account.fees_since_itemization,
        paid=paid,
        total_now=account.balance,
    )


def render_html(account, *, office, sent_on=None, language=None):
    sent_on = sent_on or timezone.localdate()
    language = language or ("es" if account.debtor.language == "es" else "en")
    _received, period_end = services.validation_period(sent_on)
    address = account.debtor.contact_points.filter(kind="address").order_by("-is_primary").first()
    strings = TEXT[language]
    fig = figures(account)
    item_date = fig.itemization_date or sent_on
    context = {
        "t": {k: v for k, v in strings.items()},
        "office": office,
        "account": account,
        "debtor": account.debtor,
        "address": address,
        "fig": fig,
        "sent_on": sent_on,
        "period_end": period_end,
        "language": language,
        "lines": {
            "is_collector": strings["is_collector"].format(
                office=office.name, creditor=account.creditor.name
            ),
            "creditor_then": strings["creditor_then"].format(date=_d(item_date, language)),
            "interest": strings["interest"].format(date=_d(item_date, language)),
            "original": strings["original"].format(
                date=_d(item_date, language),
                creditor=account.original_creditor or account.creditor.name,
            ),
            "account_no": strings["account_no"].format(last4=account.original_account_last4 or "—"),
            "reference": strings["reference"].format(ref=account.office_reference),
            "dispute_call": strings["dispute_call"].format(end=_d(period_end, language)),
            "dispute_write": strings["dispute_write"].format(end=_d(period_end, language)),
            "else_original": strings["else_original"].format(end=_d(period_end, language)),
        },
    }
    return render_to_string("compliance/validation_notice.html", context), period_end


MONTHS_ES = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
             "septiembre", "octubre", "noviembre", "diciembre"]  # fmt: skip


def _d(day, language):
    if language == "es":
        return f"{day.day} de {MONTHS_ES[day.month - 1]} de {day.year}"
    return f"{day:%B} {day.day}, {day.year}"


def render_pdf(account, *, office, sent_on=None, language=None):
    from weasyprint import HTML

    html, period_end = render_html(account, office=office, sent_on=sent_on, language=language)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(), period_end


class NoticeRefused(Exception):
    """The gate refused the notice; `.outcome` says why."""

    def __init__(self, outcome):
        super().__init__(outcome.explanation)
        self.outcome = outcome


def validation_notice_send(*, account, office, channel, actor=None, language=None):
    """Generate, gate, store, deliver and record a validation notice. Letters are queued
    for the print-and-mail batch (the PDF is stored); email carries the PDF."""
    now = timezone.now()
    contact = None
    if channel == "email":
        contact = account.debtor.contact_points.filter(kind="email").order_by("-is_primary").first()
    elif channel == "letter":
        contact = (
            account.debtor.contact_points.filter(kind="address").order_by("-is_primary").first()
        )
    if contact is None:
        what = "email address" if channel == "email" else "postal address"
        raise ValueError(f"The debtor has no {what} on file.")
    with transaction.atomic():
        [outcome] = evaluate(
            [
                Attempt(
                    account_id=account.id,
                    channel=channel,
                    at=now,
                    contact_point_id=contact.id,
                    content=frozenset({"validation_notice"}),
                )
            ],
            reserve=True,
        )
        if not outcome.allowed:
            raise NoticeRefused(outcome)
        pdf, period_end = render_pdf(
            account, office=office, sent_on=timezone.localdate(now), language=language
        )
        document = Document(
            kind=Document.Kind.VALIDATION_NOTICE,
            account=account,
            debtor_id=account.debtor_id,
            content_type="application/pdf",
            title=f"Validation notice {account.office_reference}",
            sha256=hashlib.sha256(pdf).hexdigest(),
            size=len(pdf),
            created_by=actor,
        )
        document.file.save(
            f"validation-notice-{account.office_reference}.pdf", ContentFile(pdf), save=False
        )
        document.save()
        notice = services.validation_notice_record(
            account=account, channel=channel, sent_at=now, document=document
        )
        if channel == "email":
            strings = TEXT[language or ("es" if account.debtor.language == "es" else "en")]
            message = EmailMessage(
                subject=strings["email_subject"].format(creditor=account.creditor.name),
                body=strings["email_body"].format(
                    name=account.debtor.first_name or account.debtor.display_name,
                    office=office.name,
                    creditor=account.creditor.name,
                    end=_d(period_end, language or "en"),
                    phone=office.public_phone or "",
                ),
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[contact.value],
            )
            message.attach(
                f"validation-notice-{account.office_reference}.pdf", pdf, "application/pdf"
            )
            message.extra_headers["X-Recovery-Office"] = str(office.id)
            transaction.on_commit(message.send)
    return notice
