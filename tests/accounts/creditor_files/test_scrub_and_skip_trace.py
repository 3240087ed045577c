"""Vendor scrub and skip-trace files: results become the debtor's circumstance records
and contact points, with their source, vendor and dates; re-running adds nothing."""

import zoneinfo
from datetime import date, datetime, time

import pytest
from django.core.exceptions import ValidationError

from debtors.models import Circumstance, ContactPoint, DebtorReference
from recovery import tenancy
from tests.accounts.creditor_files.helpers import file_apply
from tests.factories import AccountFactory, CreditorFactory, DebtorFactory

SCRUB = [
    "Account Number",
    "Customer ID",
    "Result",
    "Chapter",
    "Case Number",
    "Filing Date",
    "Date of Death",
    "Active Duty Start",
    "Active Duty End",
    "Vendor",
]
SKIP = ["Account Number", "Address", "City", "State", "ZIP", "Phone", "Vendor"]


@pytest.fixture
def creditor(office_a):
    return CreditorFactory(office=office_a, reference="LCB", name="Lakeside Bank")


@pytest.fixture
def accounts(office_a, creditor):
    made = [
        AccountFactory(office=office_a, creditor=creditor, creditor_reference=f"S-{n}")
        for n in range(1, 4)
    ]
    with tenancy.office_context(office_a.id):
        DebtorReference.objects.create(debtor=made[2].debtor, creditor=creditor, reference="CU-3")
    return made


def local_midnight(office, day):
    return datetime.combine(day, time(), zoneinfo.ZoneInfo(office.time_zone))


def test_scrub_results_become_circumstances_with_source_vendor_and_dates(
    office_a, creditor, accounts
):
    rows = [
        ["S-1", "", "BK", "Ch. 13", "24-10233", "2024-03-05", "", "", "", "Acme Scrub"],
        ["S-2", "", "Deceased", "", "", "", "01/15/2025", "", "", "Acme Scrub"],
        ["", "CU-3", "SCRA", "", "", "", "", "2023-06-01", "2025-06-01", "Acme Scrub"],
    ]
    cfile = file_apply(office_a, creditor, "scrub", SCRUB, rows)
    assert (cfile.status, cfile.rows_applied) == ("done", 3), cfile.errors
    with tenancy.office_context(office_a.id):
        found = {c.debtor_id: c for c in Circumstance.objects.all()}
        bk, dec, mil = (found[a.debtor_id] for a in accounts)
        assert (bk.kind, bk.source) == ("bankruptcy", "court")
        assert bk.details == {"vendor": "Acme Scrub", "chapter": "13", "case": "24-10233"}
        assert bk.effective_from == local_midnight(office_a, date(2024, 3, 5))
        assert (dec.kind, dec.source, dec.details) == (
            "deceased",
            "vendor",
            {"vendor": "Acme Scrub"},
        )
        assert dec.effective_from == local_midnight(office_a, date(2025, 1, 15))
        assert mil.kind == "servicemember"
        assert mil.effective_to == local_midnight(office_a, date(2025, 6, 1))
        assert accounts[0].events.filter(summary="Bankruptcy filing recorded").count() == 1
    again = file_apply(office_a, creditor, "scrub", SCRUB, rows)
    assert (again.rows_applied, again.rows_unchanged) == (0, 3)
    with tenancy.office_context(office_a.id):
        assert Circumstance.objects.count() == 3


def test_scrub_problems(office_a, creditor, accounts):
    rows = [
        ["S-1", "", "Lien", "", "", "", "", "", "", "Acme"],
        ["S-1", "", "BK", "9", "", "", "", "", "", "Acme"],
        ["S-2", "", "SCRA", "", "", "", "", "2024-01-01", "2023-01-01", ""],
        ["", "CU-9", "Deceased", "", "", "", "2024-01-01", "", "", "Acme"],
    ]
    cfile = file_apply(office_a, creditor, "scrub", SCRUB, rows, mode="valid_only")
    assert cfile.status == "rejected"
    assert cfile.errors == [
        {
            "line": 2,
            "column": "Result",
            "message": "“Lien” is not a scrub result (use bankruptcy, deceased or SCRA).",
        },
        {
            "line": 3,
            "column": "Chapter",
            "message": "“9” is not a bankruptcy chapter (7, 11, 12 or 13).",
        },
        {"line": 3, "column": "Filing Date", "message": "A bankruptcy needs its filing date."},
        {"line": 4, "column": "Vendor", "message": "The vendor is missing."},
        {
            "line": 4,
            "column": "Active Duty End",
            "message": "Active duty ends (Jan 1, 2023) before it starts (Jan 1, 2024).",
        },
        {
            "line": 5,
            "column": "Customer ID",
            "message": "Lakeside Bank has no customer CU-9 placed with us.",
        },
    ]
    with tenancy.office_context(office_a.id):
        assert not Circumstance.objects.exists()


BY_PERSON = ["Last Name", "Date of Birth", "SSN", "Result", "Date of Death", "Vendor"]


def test_a_scrub_without_account_numbers_finds_people_by_name_birth_date_and_ssn(
    office_a, creditor
):
    """Vendors' death and bankruptcy searches often come back keyed by the person."""
    rosa = DebtorFactory(
        office=office_a, last_name="Delgado", date_of_birth="1961-02-03", ssn_last4="4321"
    )
    account = AccountFactory(office=office_a, creditor=creditor, debtor=rosa)
    twins = [
        DebtorFactory(
            office=office_a, last_name="Kim", date_of_birth="1970-05-05", ssn_last4="1111"
        )
        for _ in range(2)
    ]
    for twin in twins:
        AccountFactory(office=office_a, creditor=creditor, debtor=twin)
    elsewhere = DebtorFactory(
        office=office_a, last_name="Stone", date_of_birth="1950-01-01", ssn_last4="2222"
    )
    AccountFactory(office=office_a, debtor=elsewhere)  # another creditor's customer
    rows = [
        ["DELGADO ", "02/03/1961", "4321", "Deceased", "2025-01-15", "Acme Scrub"],
        ["Kim", "1970-05-05", "1111", "Deceased", "2025-01-15", "Acme Scrub"],
        ["Stone", "1950-01-01", "2222", "Deceased", "2025-01-15", "Acme Scrub"],
        ["Delgado", "", "4321", "Deceased", "2025-01-15", "Acme Scrub"],
    ]
    cfile = file_apply(office_a, creditor, "scrub", BY_PERSON, rows, mode="valid_only")
    assert cfile.rows_applied == 1, cfile.errors
    assert [(e["line"], e["message"]) for e in cfile.errors] == [
        (
            3,
            "2 people placed with us share this last name, date of birth and SSN: add the "
            "account number to say which.",
        ),
        (
            4,
            "No customer of Lakeside Bank placed with us has this last name, date of birth "
            "and SSN.",
        ),
        (
            5,
            "Say who this row is about: the account number, or the last name, date of birth "
            "and SSN (last 4) together.",
        ),
    ]
    with tenancy.office_context(office_a.id):
        [death] = Circumstance.objects.all()
        assert (death.debtor_id, death.kind) == (rosa.pk, "deceased")
        assert account.events.filter(summary__icontains="death").exists()


def test_a_scrub_file_must_say_whom_each_row_is_about(office_a, creditor, accounts):
    with pytest.raises(ValidationError) as refused:
        file_apply(
            office_a,
            creditor,
            "scrub",
            ["Last Name", "SSN", "Result", "Vendor"],
            [["Kim", "1", "BK", "A"]],
        )
    assert "all of “Last Name”, “Date of Birth” and “SSN”" in str(refused.value)


def test_skip_trace_adds_addresses_and_phones_once_with_their_source(office_a, creditor, accounts):
    with tenancy.office_context(office_a.id):
        known = ContactPoint.objects.create(
            debtor=accounts[1].debtor, kind="phone", value="+13105550111", source="placement"
        )
    rows = [
        ["S-1", "12 Elm St", "Boston", "Massachusetts", "2134", "(310) 555-0100", "TraceCo"],
        ["S-2", "", "", "", "", "310.555.0111", "TraceCo"],
    ]
    cfile = file_apply(office_a, creditor, "skip_trace", SKIP, rows)
    assert (cfile.rows_applied, cfile.rows_unchanged) == (1, 1), cfile.errors
    with tenancy.office_context(office_a.id):
        added = ContactPoint.objects.filter(debtor=accounts[0].debtor).order_by("kind")
        assert [(c.kind, c.value, c.source) for c in added] == [
            ("address", "12 Elm St, Boston, MA 02134", "skip_trace"),
            ("phone", "+13105550100", "skip_trace"),
        ]
        assert added[0].candidate_timezones == ["America/New_York"]
        assert list(ContactPoint.objects.filter(debtor=accounts[1].debtor)) == [known]
    again = file_apply(office_a, creditor, "skip_trace", SKIP, rows)
    assert (again.rows_applied, again.rows_unchanged) == (0, 2)


def test_skip_trace_problems_and_all_or_nothing(office_a, creditor, accounts):
    rows = [
        ["S-1", "", "", "", "", "(310) 555-0100", "TraceCo"],
        ["S-2", "", "", "", "", "555-01", "TraceCo"],
        ["S-3", "9 Oak Ave", "Reno", "NV", "", "", "TraceCo"],
        ["S-3", "", "", "", "", "", "TraceCo"],
    ]
    cfile = file_apply(office_a, creditor, "skip_trace", SKIP, rows)
    assert [(e["line"], e["column"]) for e in cfile.errors] == [
        (3, "Phone"),
        (4, "ZIP"),
        (5, "Phone"),
    ]
    assert cfile.errors[2]["message"] == "The row has neither a phone number nor an address."
    with tenancy.office_context(office_a.id):
        assert not ContactPoint.objects.filter(source="skip_trace").exists()
