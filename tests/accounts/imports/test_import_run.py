"""Running an import: Excel's quirks end up as clean data, the whole file is one
transaction, a file is never placed twice, the ledger balances, and the bulk writer
writes exactly what the per-account service writes — in a query count that does not
grow with the rows."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook

from accounts import services as account_services
from accounts.imports import services, writer
from accounts.imports.models import PlacementImport
from accounts.models import Account, Event, Placement, Transaction
from debtors.models import ContactPoint, Debtor
from recovery import tenancy
from tests.accounts.imports.helpers import (
    csv_text,
    excel_datetime,
    fixture_file,
    import_create,
    import_run,
    upload_of,
)
from tests.factories import AccountFactory, CreditorFactory, DebtorFactory, MembershipFactory


@pytest.fixture(autouse=True, params=["copy", "orm"])
def chunk_writer(request, monkeypatch):
    """Every test here runs on both writers: PostgreSQL's COPY path and the ORM path
    (SQLite's, in the demo). Returns the writer class in use."""
    from accounts.imports.copy_writer import CopyChunkWriter

    monkeypatch.setattr(services, "COPY_WRITES", request.param == "copy")
    return CopyChunkWriter if request.param == "copy" else writer.ChunkWriter


@pytest.fixture
def creditor(office_a):
    return CreditorFactory(office=office_a, reference="LCB", name="Lakeside Community Bank")


def test_excel_quirks_become_clean_accounts_debtors_and_contact_points(office_a, creditor):
    manager = MembershipFactory(office=office_a, role="manager").user
    pi = import_run(office_a, creditor, fixture_file("excel_quirks.csv"), user=manager)
    assert pi.status == "done", pi.errors
    assert (pi.rows_read, pi.rows_imported, pi.rows_rejected) == (4, 4, 0)
    with tenancy.office_context(office_a.id):
        accounts = {a.creditor_reference: a for a in Account.objects.select_related("debtor")}
        assert set(accounts) == {"Q-1", "Q-2", "Q-3", "Q-4"}
        q1, q2, q3, q4 = (accounts[f"Q-{n}"] for n in range(1, 5))
        assert (q1.debtor.first_name, q1.debtor.last_name) == ("José", "Núñez")
        assert (q1.debtor.date_of_birth, q1.debtor.ssn_last4) == ("1980-04-12", "6789")
        assert q1.principal_balance == Decimal("1234.50")
        assert q1.charge_off_date == q1.itemization_date == date(2022, 3, 15)
        assert q1.governing_law_state == "MA"
        assert (q2.debtor.first_name, q2.debtor.last_name) == ("Zoë", "O’Brien")
        assert q2.debtor.date_of_birth == "1962-04-05"
        assert q2.principal_balance == Decimal("1234.56")
        assert (q3.debtor.first_name, q3.debtor.last_name) == ("Ngọc Ánh", "Trần")
        assert q3.debtor.date_of_birth == "1980-01-01"  # Excel serial 29221
        assert q3.debtor.ssn_last4 == "0042"
        assert q3.principal_balance == Decimal("99.00")
        assert q4.principal_balance == Decimal("45.00")
        assert q4.charge_off_date == date(2022, 3, 15)  # Excel serial 44635

        points = {(p.debtor_id, p.kind): p for p in ContactPoint.objects.all()}
        home = points[(q1.debtor_id, "address")]
        assert (home.line1, home.city, home.state, home.postal_code) == (
            "12 Elm St", "Boston", "MA", "02134",
        )  # fmt: skip
        assert home.candidate_timezones == ["America/New_York"]
        assert home.timezone_source == "zip"
        phone = points[(q1.debtor_id, "phone")]
        assert phone.value == "+16175550142"
        assert (phone.timezone_source, phone.candidate_timezones) == (
            "area_code", ["America/New_York"],
        )  # fmt: skip
        assert phone.is_primary and phone.source == "placement"
        assert points[(q1.debtor_id, "email")].value == "jose@example.com"
        assert points[(q3.debtor_id, "address")].postal_code == "02134-0001"
        assert points[(q3.debtor_id, "address")].state == "MA"

        placement = pi.placement
        assert placement.file_sha256 == pi.sha256 and len(pi.sha256) == 64
        assert placement.imported_by == manager
        assert placement.account_count == 4
        assert placement.total_placed == Decimal("1234.50") + Decimal("1234.56") + 99 + 45
        assert placement.document.kind == "placement_file"
        assert placement.document.file.open("rb").read().startswith(b"\xef\xbb\xbfAccount")
        placed = Event.objects.get(account=q1, kind="placed")
        assert placed.actor == manager and placed.amount == Decimal("1234.50")
        assert account_services.account_ledger_mismatches() == []


def test_windows_tab_separated_file_with_itemization(office_a, creditor):
    pi = import_run(office_a, creditor, fixture_file("windows_tabs.txt"))
    assert pi.status == "done", pi.errors
    with tenancy.office_context(office_a.id):
        t1 = Account.objects.select_related("debtor").get(creditor_reference="T-1")
        assert (t1.debtor.last_name, t1.debtor.first_name) == ("Peña", "María")
        assert (t1.principal_balance, t1.interest_balance, t1.fees_balance) == (
            Decimal("1200.00"), Decimal("30.00"), Decimal("0.00"),
        )  # fmt: skip
        assert t1.total_placed == t1.itemization_amount == Decimal("1230.00")
        charge = Transaction.objects.get(account=t1)
        assert (charge.kind, charge.principal, charge.interest) == ("charge", 1200, 30)


def test_xlsx_with_dates_serials_floats_and_lost_zeros(office_a, creditor):
    book = Workbook()
    sheet = book.active
    sheet.append(["Account #", "Last Name", "First Name", "Birth Date", "Zip", "Street",
                  "Cell", "Principal", "Interest", "Charged Off"])  # fmt: skip
    sheet.append(["X-1", "Okafor ", "Chidi", excel_datetime(1985, 6, 1), 2134, "4 Beacon St",
                  6175550142, 1234.5, 19.99, 44635])  # fmt: skip
    sheet.append([1002, "Ødegård", "Åse", date(1990, 1, 2), "10001", None, None, 0.1, 0.2,
                  excel_datetime(2022, 1, 31)])  # fmt: skip
    sheet.append([None] * 10)
    buffer = io.BytesIO()
    book.save(buffer)
    pi = import_run(office_a, creditor, upload_of(buffer.getvalue(), "placement.xlsx"))
    assert pi.status == "done", pi.errors
    assert pi.file_format == "xlsx" and pi.rows_imported == 2
    with tenancy.office_context(office_a.id):
        x1 = Account.objects.select_related("debtor").get(creditor_reference="X-1")
        assert x1.debtor.last_name == "Okafor"
        assert x1.debtor.date_of_birth == "1985-06-01"
        assert (x1.principal_balance, x1.interest_balance) == (
            Decimal("1234.50"), Decimal("19.99"),
        )  # fmt: skip
        assert x1.charge_off_date == date(2022, 3, 15)
        values = set(ContactPoint.objects.filter(debtor=x1.debtor).values_list("value", flat=True))
        assert values == {"+16175550142", "4 Beacon St, 02134"}
        other = Account.objects.get(creditor_reference="1002")  # a number cell, as text
        assert other.total_placed == Decimal("0.30")


def test_the_same_file_again_is_refused_with_a_clear_message(office_a, creditor):
    first = import_run(office_a, creditor, fixture_file("excel_quirks.csv"))
    assert first.rows_imported == 4
    with pytest.raises(ValidationError) as exc, tenancy.office_context(office_a.id):
        services.placement_import_create(creditor=creditor, upload=fixture_file("excel_quirks.csv"))
    message = exc.value.messages[0]
    assert message.startswith("This file was already imported for Lakeside Community Bank on ")
    assert f"(import {first.pk}, 4 accounts)" in message
    with tenancy.office_context(office_a.id):
        assert Account.objects.count() == 4


def test_a_file_rejected_as_a_whole_may_be_uploaded_again(office_a, creditor):
    first = import_run(office_a, creditor, fixture_file("bad_rows.csv"), mode="all")
    assert first.status == "rejected"
    again = import_run(office_a, creditor, fixture_file("bad_rows.csv"), mode="valid_only")
    assert again.rows_imported == 3  # A-115 is not placed with this office yet


def test_two_drafts_of_one_file_place_its_accounts_once(office_a, creditor):
    one = import_create(office_a, creditor, fixture_file("excel_quirks.csv"))
    two = import_create(office_a, creditor, fixture_file("excel_quirks.csv"))
    services.placement_import_run(office_id=office_a.id, import_id=one.pk)
    services.placement_import_run(office_id=office_a.id, import_id=two.pk)
    with tenancy.office_context(office_a.id):
        two.refresh_from_db()
        assert two.status == "failed"
        assert two.failure.startswith("This file was already imported")
        assert Account.objects.count() == 4


def test_overlapping_file_rejects_accounts_already_placed(office_a, creditor):
    import_run(office_a, creditor, fixture_file("excel_quirks.csv"))
    rows = [["Q-1", "Núñez", "10"], ["Q-9", "Li", "5"]]
    text = csv_text(["Account", "Last Name", "Principal"], rows)
    pi = import_run(office_a, creditor, upload_of(text), mode="valid_only")
    assert pi.rows_imported == 1
    assert pi.errors[0]["message"].startswith("Account number Q-1 is already placed with us (our P")


def test_running_a_finished_import_again_changes_nothing(office_a, creditor):
    pi = import_run(office_a, creditor, fixture_file("excel_quirks.csv"))
    again = services.placement_import_run(office_id=office_a.id, import_id=pi.pk)
    assert again.status == "done"
    with tenancy.office_context(office_a.id):
        assert Account.objects.count() == 4
        assert Placement.objects.count() == 1


def test_a_crash_midway_leaves_nothing_and_says_so(office_a, creditor, monkeypatch, chunk_writer):
    monkeypatch.setattr(services, "CHUNK_ROWS", 2)
    calls = []
    real_write = chunk_writer.write

    def write_then_crash(self, rows):
        calls.append(len(rows))
        if len(calls) == 2:
            raise RuntimeError("worker lost its database")
        return real_write(self, rows)

    monkeypatch.setattr(chunk_writer, "write", write_then_crash)
    pi = import_run(office_a, creditor, fixture_file("excel_quirks.csv"), mode="valid_only")
    assert calls == [2, 2]  # the first chunk was written, then rolled back
    assert pi.status == "failed"
    assert "nothing was imported" in pi.failure
    with tenancy.office_context(office_a.id):
        assert Account.objects.count() == Debtor.objects.count() == 0
        assert Placement.objects.count() == Transaction.objects.count() == 0


def test_two_imports_racing_for_the_same_accounts_place_them_once(office_a, creditor, monkeypatch):
    first = import_create(office_a, creditor, fixture_file("excel_quirks.csv"))
    text = csv_text(["Account", "Last Name", "Principal"], [["Q-4", "Lee", "45"]])
    second = import_create(office_a, creditor, upload_of(text))
    services.placement_import_run(office_id=office_a.id, import_id=first.pk)
    # The second run's duplicate check ran before the first committed: it sees nothing.
    monkeypatch.setattr(services.RowChecker, "check_duplicates", lambda *a, **k: None)
    services.placement_import_run(office_id=office_a.id, import_id=second.pk)
    with tenancy.office_context(office_a.id):
        second.refresh_from_db()
        assert second.status == "failed"
        assert second.failure.startswith("Another import placed some of the same accounts")
        assert Account.objects.filter(creditor_reference="Q-4").count() == 1


def test_chunks_see_each_other_duplicates_and_people(office_a, creditor, monkeypatch):
    monkeypatch.setattr(services, "CHUNK_ROWS", 2)
    rows = [
        ["C-1", "Rivera", "1970-01-01", "1111", "10"],
        ["C-2", "Stone", "1971-01-01", "2222", "20"],
        ["C-3", "Rivera", "1970-01-01", "1111", "30"],  # same person as row 2, next chunk
        ["C-1", "Other", "1972-01-01", "3333", "40"],  # repeats row 2, next chunk
    ]
    text = csv_text(["Account", "Last Name", "DOB", "SSN", "Principal"], rows)
    pi = import_run(office_a, creditor, upload_of(text), mode="valid_only")
    assert pi.rows_imported == 3
    assert [(e["line"], e["message"]) for e in pi.errors] == [
        (5, "Account number C-1 appears earlier in this file.")
    ]
    with tenancy.office_context(office_a.id):
        assert Debtor.objects.count() == 2
        rivera = Account.objects.get(creditor_reference="C-1").debtor_id
        assert Account.objects.get(creditor_reference="C-3").debtor_id == rivera


def test_bulk_opening_writes_exactly_what_account_open_writes(office_a, creditor):
    actor = MembershipFactory(office=office_a, role="manager").user
    debtor = DebtorFactory(office=office_a)
    one = AccountFactory(
        office=office_a, creditor=creditor, debtor=debtor, opening_balance=0, currency="USD"
    )
    with tenancy.office_context(office_a.id):
        account_services.account_open(
            account=one, principal="100.10", interest="2.50", fees="0.00", actor=actor
        )
        two = Account(
            creditor=creditor,
            debtor=debtor,
            placement=one.placement,
            creditor_reference="BULK-1",
            office_reference="BULK-1",
            original_creditor=one.original_creditor,
            principal_balance=Decimal("100.10"),
            interest_balance=Decimal("2.50"),
            fees_balance=Decimal("0.00"),
        )
        account_services.account_open_bulk(accounts=[two], actor=actor)
        fields = ["principal_balance", "interest_balance", "fees_balance", "total_placed",
                  "total_collected", "status", "currency"]  # fmt: skip
        a, b = (Account.objects.values(*fields).get(pk=x.pk) for x in (one, two))
        assert a == b
        ledger = ["kind", "principal", "interest", "fees", "currency", "effective_date", "memo",
                  "created_by", "payment", "reverses", "office"]  # fmt: skip
        assert list(Transaction.objects.filter(account=one).values(*ledger)) == list(
            Transaction.objects.filter(account=two).values(*ledger)
        )
        timeline = ["kind", "debtor_id", "actor", "summary", "data", "amount", "channel", "office"]
        assert list(Event.objects.filter(account=one).values(*timeline)) == list(
            Event.objects.filter(account=two).values(*timeline)
        )
        assert account_services.account_ledger_mismatches() == []


def test_bulk_opening_refuses_accounts_of_another_office(office_a, office_b, creditor):
    with tenancy.office_context(office_b.id), pytest.raises(tenancy.NoOfficeSelected):
        account_services.account_open_bulk(
            accounts=[Account(office_id=office_a.id, principal_balance=Decimal("1"))]
        )


def people_csv(n, start):
    rows = []
    for i in range(start, start + n):
        rows.append([f"N-{i}", f"Cust{i}", f"Person{i}", "1980-01-01", f"{i % 10000:04d}",
                     f"{i} Main St", "10001", f"(212) 555-{i % 10000:04d}",
                     f"p{i}@example.com", "100.00", "5.00"])  # fmt: skip
    header = ["Account", "Customer ID", "Last Name", "DOB", "SSN", "Street", "Zip", "Phone",
              "Email", "Principal", "Interest"]  # fmt: skip
    return upload_of(csv_text(header, rows), f"people-{start}.csv")


def test_query_count_does_not_grow_with_the_rows(office_a, creditor):
    # Some rows match debtors we have (by identity, and uncertain), the rest are new.
    for last_name, ssn in (("Person1", "0001"), ("Person2", "9999"), ("Person1001", "1001"),
                           ("Person1002", "9999")):  # fmt: skip
        DebtorFactory(
            office=office_a, last_name=last_name, date_of_birth="1980-01-01", ssn_last4=ssn
        )
    small = import_create(office_a, creditor, people_csv(10, 1))
    large = import_create(office_a, creditor, people_csv(200, 1001))
    queries = []
    for pi in (small, large):
        with CaptureQueriesContext(connection) as ctx:
            services.placement_import_run(office_id=office_a.id, import_id=pi.pk)
        queries.append(len(ctx.captured_queries))
    with tenancy.office_context(office_a.id):
        done = {p.pk: p for p in PlacementImport.objects.filter(pk__in=[small.pk, large.pk])}
        assert done[small.pk].rows_imported == 10 and done[large.pk].rows_imported == 200
        assert done[small.pk].debtors_matched == done[large.pk].debtors_matched == 2
        assert done[small.pk].matches_to_review == done[large.pk].matches_to_review == 1
        assert account_services.account_ledger_mismatches() == []
    assert queries[0] == queries[1], queries
    assert queries[1] < 40
