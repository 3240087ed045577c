"""The trust-accounting pages as a manager uses them, and who else may not: prepare,
review, issue and download a statement; upload a bank statement; the other office's
statement is not found; a statement page costs the same queries for 2 lines or 20."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payments.models import BankStatementImport, RemittanceStatement
from payments.services import payment_record_offline
from payments.services.remittance import remittance_prepare
from recovery import tenancy
from recovery.models import Role
from tests.factories import AccountFactory, CreditorFactory, MembershipFactory

NOON = datetime(2026, 11, 17, 17, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOON, tick=False):
        yield


def login(client, office, role=Role.MANAGER):
    membership = MembershipFactory(office=office, role=role)
    client.force_login(membership.user)
    return membership.user


def collect(office, creditor, amounts):
    with tenancy.office_context(office.id):
        for n, amount in enumerate(amounts):
            account = AccountFactory(office=office, creditor=creditor, opening_balance="500.00")
            payment_record_offline(
                account=account,
                amount=amount,
                method="check",
                instrument={"check_number": f"{1000 + n}"},
                actor=None,
            )


def base(office):
    return f"/o/{office.slug}/payments"


@pytest.mark.django_db
def test_a_manager_prepares_reviews_issues_and_downloads_a_statement(client, office_a):
    creditor = CreditorFactory(office=office_a, name="Acme Lending", reference="ACME")
    collect(office_a, creditor, ["100.00", "33.33"])
    login(client, office_a)
    page = client.post(
        f"{base(office_a)}/remittance/",
        {
            "creditor": creditor.pk,
            "period": "custom",
            "period_start": "2026-11-01",
            "period_end": "2026-11-17",
            "kind": "gross",
        },
    )
    assert page.status_code == 302
    detail = client.get(page.url)
    text = detail.content.decode()
    assert "Draft" in text and "133.33" in text and "Issue statement" in text
    statement = detail.context["statement"]

    csv_text = client.get(f"{page.url}csv/").content.decode()
    assert csv_text.splitlines()[0].startswith("statement,line,account")
    assert "Invoiced to you (our fee)" in csv_text and "33.33" in csv_text
    draft_pdf = client.get(f"{page.url}pdf/")
    assert draft_pdf["Content-Type"] == "application/pdf"

    issued = client.post(f"{page.url}issue/", follow=True)
    assert "issued. It can no longer change" in issued.content.decode()
    with tenancy.office_context(office_a.id):
        statement = RemittanceStatement.objects.get(pk=statement.pk)
        assert statement.is_issued and statement.document_id
        assert statement.invoice_amount == Decimal("33.33")  # 25.00 + 8.33
    pdf = client.get(f"{page.url}pdf/")
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    listing = client.get(f"{base(office_a)}/remittance/").content.decode()
    assert "ACME-0001" in listing and "<svg" in listing


@pytest.mark.django_db
def test_a_custom_period_needs_its_dates(client, office_a):
    creditor = CreditorFactory(office=office_a)
    login(client, office_a)
    page = client.post(
        f"{base(office_a)}/remittance/",
        {"creditor": creditor.pk, "period": "custom", "kind": "net"},
    )
    assert page.status_code == 200
    assert "Enter a date, or choose the last complete period." in page.content.decode()


@pytest.mark.django_db
def test_agents_may_not_see_remittance_and_other_offices_get_404(client, office_a, office_b):
    creditor = CreditorFactory(office=office_a)
    collect(office_a, creditor, ["10.00"])
    with tenancy.office_context(office_a.id):
        statement = remittance_prepare(
            creditor=creditor,
            period_start=NOON.date(),
            period_end=NOON.date(),
            kind="net",
        )
    login(client, office_a, Role.AGENT)
    assert client.get(f"{base(office_a)}/remittance/").status_code == 403
    login(client, office_b)
    for suffix in ("", "csv/", "pdf/"):
        url = f"{base(office_b)}/remittance/{statement.pk}/{suffix}"
        assert client.get(url).status_code == 404
    assert client.post(f"{base(office_b)}/remittance/{statement.pk}/issue/").status_code == 404
    with tenancy.office_context(office_a.id):
        assert not RemittanceStatement.objects.get(pk=statement.pk).is_issued


@pytest.mark.django_db
def test_a_statement_page_costs_the_same_queries_however_many_lines(client, office_a):
    small, big = CreditorFactory(office=office_a), CreditorFactory(office=office_a)
    collect(office_a, small, ["5.00"] * 2)
    collect(office_a, big, ["5.00"] * 20)
    with tenancy.office_context(office_a.id):
        ids = [
            remittance_prepare(
                creditor=c, period_start=NOON.date(), period_end=NOON.date(), kind="net"
            ).pk
            for c in (small, big)
        ]
    login(client, office_a)
    counts = []
    for statement_id in ids:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"{base(office_a)}/remittance/{statement_id}/").status_code == 200
        counts.append(len(queries))
    assert counts[1] == counts[0], counts


@pytest.mark.django_db
def test_statement_page_query_budget(client, office_a, django_assert_max_num_queries):
    creditor = CreditorFactory(office=office_a)
    collect(office_a, creditor, ["7.00"] * 15)
    with tenancy.office_context(office_a.id):
        statement = remittance_prepare(
            creditor=creditor, period_start=NOON.date(), period_end=NOON.date(), kind="net"
        )
    login(client, office_a)
    with django_assert_max_num_queries(15):
        client.get(f"{base(office_a)}/remittance/{statement.pk}/")


@pytest.mark.django_db
def test_a_bank_upload_with_a_bad_row_shows_the_line_and_imports_nothing(client, office_a):
    login(client, office_a)
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile(
        "nov.csv",
        b"date,description,amount,reference\n2026-11-16,Deposit,10.00,1\n2026-11-16,X,ten,2\n",
        content_type="text/csv",
    )
    page = client.post(f"{base(office_a)}/reconciliation/", {"form": "bank", "file": bad})
    text = page.content.decode()
    assert page.status_code == 200
    assert "Nothing was imported" in text and "Line 3, <strong>amount</strong>" in text
    with tenancy.office_context(office_a.id):
        assert BankStatementImport.objects.count() == 0

    good = SimpleUploadedFile(
        "nov.csv", b"date,description,amount,reference\n2026-11-16,Deposit,10.00,1\n"
    )
    done = client.post(
        f"{base(office_a)}/reconciliation/", {"form": "bank", "file": good}, follow=True
    )
    text = done.content.decode()
    assert "1 line(s) imported; 0 matched" in text and "Waiting for a person" in text


@pytest.mark.django_db
def test_a_manager_records_a_payment_the_creditor_received(client, office_a):
    account = AccountFactory(office=office_a, opening_balance="300.00")
    login(client, office_a)
    url = f"{base(office_a)}/accounts/{account.pk}/direct/"
    page = client.post(url, {"amount": "50", "received_on": "2026-11-10", "reference": ""})
    assert "Enter the creditor&#x27;s reference" in page.content.decode()
    done = client.post(url, {"amount": "50", "received_on": "2026-11-10", "reference": "CR-9"})
    assert done.status_code == 302
    with tenancy.office_context(office_a.id):
        account.refresh_from_db()
        assert account.balance == Decimal("250.00")
