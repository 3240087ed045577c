"""Vendor scrub and skip-trace files: results become the debtor's circumstance records
and contact points, with their source, vendor and dates; re-running adds nothing."""

import zoneinfo
from datetime import date, datetime, time

import pytest

from debtors.models import Circumstance, ContactPoint, DebtorReference
from recovery import tenancy
from tests.accounts.creditor_files.helpers import file_apply
from tests.factories import AccountFactory, CreditorFactory

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
            "skip_trace",
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
