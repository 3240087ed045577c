"""The validation notice: Model Form B-1 content, the period end, delivery through the
gate, and the record it leaves."""

import re
from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail

from compliance import notices
from compliance.models import ContactAttempt, ValidationNotice
from compliance.services import validation_period
from recovery import tenancy
from recovery.models import Document
from tests.compliance.conftest import NOON, Scene


def test_period_counts_five_business_days_then_thirty():
    # Sent Wed Nov 25 2026: Thanksgiving (26th) and the weekend are skipped.
    received, ends = validation_period(date(2026, 11, 25))
    assert received == date(2026, 12, 3)
    assert ends == date(2027, 1, 2)


def test_notice_html_carries_the_model_form_content(office_a):
    scene = Scene(office_a)
    with tenancy.office_context(office_a.id):
        html, end = notices.render_html(scene.account, office=office_a, sent_on=date(2026, 11, 25))
    text = re.sub(r"\s+", " ", html)
    assert f"{office_a.name} is a debt collector" in text
    assert "Total amount of the debt now:" in text
    assert "January 2, 2027" in text  # the period end, printed
    assert "How do you want to respond?" in text
    assert "cfpb.gov/debt-collection" in text


def test_spanish_notice(office_a):
    scene = Scene(office_a)
    with tenancy.office_context(office_a.id):
        html, _ = notices.render_html(
            scene.account, office=office_a, sent_on=date(2026, 11, 25), language="es"
        )
    assert "es un cobrador de deudas" in html
    assert "2 de enero de 2027" in html


@pytest.fixture
def fresh(office_a):
    office_a.mailing_address = "PO Box 1, Albany, NY 12201"
    office_a.save()
    scene = Scene(office_a)
    with tenancy.office_context(office_a.id):
        scene.account.validation_notices.all().delete()
    return scene


def test_email_delivery_stores_the_pdf_and_records_the_notice(
    fresh, django_capture_on_commit_callbacks
):
    office = fresh.office
    with (
        time_machine.travel(NOON, tick=False),
        tenancy.office_context(office.id),
        django_capture_on_commit_callbacks(execute=True),
    ):
        notice = notices.validation_notice_send(
            account=fresh.account, office=office, channel="email"
        )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["rosa@example.com"]
    name, pdf, mimetype = message.attachments[0]
    assert mimetype == "application/pdf" and pdf.startswith(b"%PDF")
    with tenancy.office_context(office.id):
        assert ValidationNotice.objects.get() == notice
        doc = Document.objects.get(kind="validation_notice")
        assert doc.size == len(pdf)
        # The notice is itself the first communication: it is in the contact ledger, and
        # collection messages may follow.
        assert ContactAttempt.objects.filter(content_flags__contains=["validation_notice"]).exists()
    assert fresh.decide_one("email", at=notice.sent_at + timedelta(hours=1)).outcome == "allow"


def test_notice_refused_by_the_gate_is_not_recorded(fresh):
    from compliance import services

    with tenancy.office_context(fresh.office.id):
        services.hold_place(debtor=fresh.debtor, kind="cease", scope="debtor", source="letter")
        with pytest.raises(notices.NoticeRefused, match="F-CEASE|stop contacting"):
            notices.validation_notice_send(
                account=fresh.account, office=fresh.office, channel="email"
            )
        assert not ValidationNotice.objects.exists()
        assert not Document.objects.exists()
    assert not mail.outbox
