"""Files the office sends back: the placement acknowledgement lists every row of the file
with our reference or the reason it was rejected; the close/return file gives each
account that left collection its reason code, in one query; the command line and the
pages write the same CSV."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.creditor_files import outbound
from accounts.imports.validation import office_today
from accounts.services import account_transition
from compliance import services as compliance_services
from recovery import tenancy
from tests.accounts.creditor_files.helpers import file_apply
from tests.accounts.imports.helpers import csv_text, import_run, upload_of
from tests.factories import AccountFactory, CreditorFactory

HEADER = ["Account", "Last Name", "Principal"]
ROWS = [["P-1", "Ames", "10"], ["P-2", "", "20"], ["P-3", "Bell", "30"], ["P-1", "Ames", "5"]]


@pytest.fixture
def creditor(office_a):
    return CreditorFactory(office=office_a, reference="LCB", name="Lakeside Bank")


def parsed(text):
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_acknowledgement_lists_accepted_and_rejected_rows_with_reasons(office_a, creditor):
    pi = import_run(office_a, creditor, upload_of(csv_text(HEADER, ROWS)), mode="valid_only")
    with tenancy.office_context(office_a.id):
        refs = dict(pi.placement.accounts.values_list("creditor_reference", "office_reference"))
        rows = outbound.placement_acknowledgement(pi)
    assert rows == [
        ["P-1", refs["P-1"], "accepted", "", 2],
        ["P-2", "", "rejected", "Last Name: A debtor needs a last name or a business name.", 3],
        ["P-3", refs["P-3"], "accepted", "", 4],
        [
            "P-1",
            "",
            "rejected",
            "Account: Account number P-1 appears twice in this file (first on row 2).",
            5,
        ],
    ]


def test_acknowledgement_of_an_all_or_nothing_file_rejects_every_row(office_a, creditor):
    pi = import_run(office_a, creditor, upload_of(csv_text(HEADER, ROWS[:3])), mode="all")
    assert pi.status == "rejected"
    with tenancy.office_context(office_a.id):
        rows = outbound.placement_acknowledgement(pi)
    assert [(r[0], r[2], r[3][:12]) for r in rows] == [
        ("P-1", "rejected", "Not imported"),
        ("P-2", "rejected", "Last Name: A"),
        ("P-3", "rejected", "Not imported"),
    ]


def _left(office, creditor, ref, status, *, circumstance=None, dispute=False, days_ago=1):
    account = AccountFactory(office=office, creditor=creditor, creditor_reference=ref)
    with tenancy.office_context(office.id):
        if circumstance:
            compliance_services.circumstance_record(
                debtor=account.debtor,
                kind=circumstance,
                source="court",
                effective_from=timezone.now() - timedelta(days=30),
            )
        if dispute:
            compliance_services.dispute_record(account=account, received_via="letter")
            account.refresh_from_db()
        if status:
            account_transition(account=account, status=status, reason="test")
            account.status_changed_at = timezone.now() - timedelta(days=days_ago)
            account.save(update_fields=["status_changed_at"])
    return account


@pytest.fixture
def returned(office_a, creditor):
    return [
        _left(office_a, creditor, "PIF-1", "paid"),
        _left(office_a, creditor, "SIF-1", "settled"),
        _left(office_a, creditor, "RCL-1", "recalled"),
        _left(office_a, creditor, "BKY-1", "closed", circumstance="bankruptcy"),
        _left(office_a, creditor, "DEC-1", "closed", circumstance="deceased"),
        _left(office_a, creditor, "DSP-1", "closed", dispute=True),
        _left(office_a, creditor, "CLS-1", "closed"),
        _left(office_a, creditor, "OLD-1", "closed", days_ago=60),
        _left(office_a, creditor, "OPEN-1", None),
    ]


def test_close_return_file_gives_each_account_its_reason_code_in_one_query(
    office_a, creditor, returned, django_assert_max_num_queries
):
    today = office_today(office_a)
    with tenancy.office_context(office_a.id):
        creditor.office  # noqa: B018 - loaded once, like the page does
        with django_assert_max_num_queries(1):
            rows = outbound.close_return_rows(
                creditor=creditor, start=today - timedelta(days=7), end=today
            )
    codes = {r[0]: r[3] for r in rows}
    assert codes == {
        "PIF-1": "PIF",
        "SIF-1": "SIF",
        "RCL-1": "RCL",
        "BKY-1": "BKY",
        "DEC-1": "DEC",
        "DSP-1": "DSP",
        "CLS-1": "CLS",
    }
    pif = next(r for r in rows if r[0] == "PIF-1")
    assert pif[2] == "Paid in full" and pif[6] == Decimal("500.00")


def test_close_return_counts_collected_money(office_a, creditor):
    account = AccountFactory(office=office_a, creditor=creditor, creditor_reference="M-1")
    today = office_today(office_a)
    file_apply(
        office_a,
        creditor,
        "balance_update",
        ["Account Number", "Amount", "Date Received", "Payment Reference"],
        [["M-1", "120.00", today.isoformat(), "X-1"]],
    )
    with tenancy.office_context(office_a.id):
        account.refresh_from_db()
        account_transition(account=account, status="closed", reason="test")
        rows = outbound.close_return_rows(creditor=creditor, start=today, end=today)
    assert [(r[0], r[3], r[7], r[8]) for r in rows] == [
        ("M-1", "CLS", Decimal("120.00"), Decimal("380.00"))
    ]


def test_command_line_writes_the_same_close_return_csv(office_a, creditor, returned):
    today = office_today(office_a)
    out = io.StringIO()
    call_command(
        "creditor_report",
        "close_return",
        "--office",
        office_a.slug,
        "--creditor",
        "LCB",
        "--from",
        (today - timedelta(days=7)).isoformat(),
        "--to",
        today.isoformat(),
        stdout=out,
    )
    table = parsed(out.getvalue())
    assert table[0] == outbound.RETURN_HEADER
    assert sorted(r[3] for r in table[1:]) == ["BKY", "CLS", "DEC", "DSP", "PIF", "RCL", "SIF"]
