"""Every problem in a messy file is reported with its row, its column (as the file calls
it) and a message a person understands — exactly these, no more."""

import csv
import io

import pytest

from accounts.imports import services
from accounts.models import Account, Placement, Transaction
from debtors.models import ContactPoint, Debtor
from recovery import tenancy
from tests.accounts.imports.helpers import fixture_file, import_create, import_run
from tests.factories import AccountFactory, CreditorFactory

EXPECTED = [
    (3, "Last Name", "A debtor needs a last name or a business name."),
    (4, "Phone", "“555-0100” is not a valid phone number for US."),
    (5, "Email", "“bob@” is not an email address."),
    (6, "Principal", "“-20.00” is negative; balances placed with us cannot be negative."),
    (7, "Principal", "“10.005” has more than two decimal places."),
    (8, "Total", "The parts do not add up: principal 100.00 + interest 5.00 + fees 10.00 "
                 "= 115.00, but the total balance is 120.00."),
    (9, "Charge Off Date", "The charge-off date (Jan 1, 2099) is in the future."),
    (10, "Last Payment Date", "The last payment (Jan 15, 2020) is before the account was "
                              "opened (May 1, 2020)."),
    (11, "State", "“ZZ” is not a US state (use the two-letter code, e.g. NY)."),
    (12, "Zip", "“1234A” is not a ZIP code (5 digits, or ZIP+4 as 12345-6789)."),
    (13, "Account Number", "Account number A-100 appears twice in this file (first on row 2)."),
    (14, "DOB", "“31/12/2020” is not a date we can read (use YYYY-MM-DD, MM/DD/YYYY or "
                "DD-Mon-YYYY)."),
    (15, "Account Number", "The creditor's account number is missing."),
    (16, "Principal", "The principal balance is missing."),
    (17, "Zip", "The address has no ZIP code."),
    (18, "Principal", "The balance is zero: there is nothing to collect."),
    (19, "Account Number", "Account number A-115 is already placed with us (our HX-1)."),
    (20, "Phone", "“12” is not a valid phone number for US."),
    (20, "Email", "“x@y” is not an email address."),
    (22, "", "This row has 19 values but the header names 18 columns: a value probably "
             "contains a “,” without quotes around it."),
]  # fmt: skip


@pytest.fixture
def creditor(office_a):
    creditor = CreditorFactory(office=office_a, reference="LCB")
    AccountFactory(
        office=office_a, creditor=creditor, creditor_reference="A-115", office_reference="HX-1"
    )
    return creditor


def counts(office):
    with tenancy.office_context(office.id):
        return [m.objects.count() for m in (Account, Debtor, ContactPoint, Transaction, Placement)]


def test_preview_reports_every_problem_exactly(office_a, creditor):
    pi = import_create(office_a, creditor, fixture_file("bad_rows.csv"))
    with tenancy.office_context(office_a.id):
        preview = services.placement_import_preview(placement_import=pi)
    assert [(p.line, p.column, p.message) for p in preview.problems] == EXPECTED
    assert (preview.checked, preview.valid, preview.invalid) == (21, 2, 19)
    assert not preview.more_rows
    shown = {row.line: (row.ok, note) for row, note in preview.rows}
    assert shown[2] == (True, "New debtor")
    assert shown[3][0] is False


def test_all_or_nothing_writes_nothing_when_a_row_is_bad(office_a, creditor):
    before = counts(office_a)
    pi = import_run(office_a, creditor, fixture_file("bad_rows.csv"), mode="all")
    assert pi.status == "rejected"
    assert (pi.rows_read, pi.rows_imported, pi.rows_rejected) == (21, 0, 19)
    assert pi.placement is None
    assert counts(office_a) == before
    assert [(e["line"], e["column"], e["message"]) for e in pi.errors] == EXPECTED
    assert pi.rejected_document_id is not None  # the rows to fix, even though none went in


def test_valid_rows_only_imports_the_good_rows_and_sets_the_rest_aside(office_a, creditor):
    pi = import_run(office_a, creditor, fixture_file("bad_rows.csv"), mode="valid_only")
    assert pi.status == "done"
    assert (pi.rows_read, pi.rows_imported, pi.rows_rejected, pi.error_count) == (21, 2, 19, 20)
    with tenancy.office_context(office_a.id):
        refs = set(pi.placement.accounts.values_list("creditor_reference", flat=True))
        rejected = pi.rejected_document.file.open("rb").read().decode("utf-8-sig")
    assert refs == {"A-100", "A-117"}
    assert pi.placement.account_count == 2
    assert pi.placement.total_placed == pi.total_placed == 100 + 265.50

    table = list(csv.reader(io.StringIO(rejected)))
    header = table[0]
    assert header[-1] == "error" and header[:3] == ["Account Number", "First Name", "Last Name"]
    assert len(table) == 1 + 19
    by_ref = {row[0]: row for row in table[1:]}
    assert by_ref["A-116"][-1] == (
        "Phone: “12” is not a valid phone number for US.; Email: “x@y” is not an email address."
    )
    assert by_ref["A-106"][len(header) - 1] == (
        "Total: The parts do not add up: principal 100.00 + interest 5.00 + fees 10.00 "
        "= 115.00, but the total balance is 120.00."
    )
    # The row broken by an unquoted comma keeps all its values, the error after them.
    assert by_ref["A-118"][-1].startswith("This row has 19 values")
    assert by_ref["A-118"][11:13] == ["$1", "234.50"]
    assert by_ref["A-118"][-2] == "2021-01-15"
