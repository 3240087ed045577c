"""Recall and balance-update files: each row goes through the owning service, bad rows
are reported with their line, column and message, all-or-nothing writes nothing,
valid-only writes the good rows, and a re-run changes nothing."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from accounts.creditor_files.models import CreditorFile
from accounts.models import Account, AccountStatus
from payments.models import Payment
from recovery import tenancy
from tests.accounts.creditor_files.helpers import file_apply
from tests.factories import AccountFactory, CreditorFactory, MembershipFactory

RECALL = ["Account Number", "Reason"]
BALANCE = ["Account Number", "Amount", "Date Received", "Payment Reference"]


@pytest.fixture
def creditor(office_a):
    return CreditorFactory(office=office_a, reference="LCB", name="Lakeside Bank")


@pytest.fixture
def accounts(office_a, creditor):
    return [
        AccountFactory(office=office_a, creditor=creditor, creditor_reference=f"R-{n}")
        for n in range(1, 4)
    ]


def statuses(office):
    with tenancy.office_context(office.id):
        return dict(Account.objects.values_list("creditor_reference", "status"))


def test_recall_file_recalls_each_account_and_a_rerun_changes_nothing(office_a, creditor, accounts):
    manager = MembershipFactory(office=office_a, role="manager").user
    rows = [["R-1", "Sold to another agency"], ["R-2 ", "Customer paid us"]]
    cfile = file_apply(office_a, creditor, "recall", RECALL, rows, user=manager)
    assert (cfile.status, cfile.rows_applied, cfile.rows_rejected) == ("done", 2, 0)
    assert statuses(office_a) == {"R-1": "recalled", "R-2": "recalled", "R-3": "new"}
    again = file_apply(office_a, creditor, "recall", RECALL, rows, user=manager)
    assert (again.status, again.rows_applied, again.rows_unchanged) == ("done", 0, 2)
    with tenancy.office_context(office_a.id):
        account = Account.objects.get(creditor_reference="R-1")
        changes = account.events.filter(kind="status_changed")
        assert [e.data["reason"] for e in changes] == ["Sold to another agency"]


def test_recall_problems_name_line_column_and_what_is_wrong(office_a, creditor, accounts):
    with tenancy.office_context(office_a.id):
        paid = Account.objects.get(creditor_reference="R-3")
        paid.status = AccountStatus.PAID
        paid.save(update_fields=["status"])
    rows = [["R-1", "Recalled"], ["R-9", "Recalled"], ["R-2", ""], ["R-3", "Recalled"]]
    cfile = file_apply(office_a, creditor, "recall", RECALL, rows)
    assert cfile.status == "rejected"
    assert cfile.errors == [
        {
            "line": 3,
            "column": "Account Number",
            "message": "Lakeside Bank has no account R-9 placed with us.",
        },
        {"line": 4, "column": "Reason", "message": "The recall reason is missing."},
        {
            "line": 5,
            "column": "",
            "message": "An account that is paid in full cannot become recalled by creditor.",
        },
    ]
    # All or nothing: the good row was rolled back with the rest.
    assert statuses(office_a)["R-1"] == "new"


def test_valid_only_recalls_the_good_rows_and_offers_the_rest(office_a, creditor, accounts):
    rows = [["R-1", "Recalled"], ["R-9", "Recalled"]]
    cfile = file_apply(office_a, creditor, "recall", RECALL, rows, mode="valid_only")
    assert (cfile.status, cfile.rows_applied, cfile.rows_rejected) == ("done", 1, 1)
    assert statuses(office_a)["R-1"] == "recalled"
    with tenancy.office_context(office_a.id):
        text = cfile.rejected_document.file.open("rb").read().decode("utf-8-sig")
    assert text.splitlines() == [
        "Account Number,Reason,error",
        "R-9,Recalled,Account Number: Lakeside Bank has no account R-9 placed with us.",
    ]


def test_balance_update_reports_direct_payments_once(office_a, creditor, accounts):
    today = office_a.today()
    rows = [
        ["R-1", "$100.00", today.isoformat(), "P-1"],
        ["R-2", "25.5", (today - timedelta(days=3)).strftime("%m/%d/%Y"), "P-2"],
    ]
    cfile = file_apply(office_a, creditor, "balance_update", BALANCE, rows)
    assert (cfile.status, cfile.rows_applied) == ("done", 2), cfile.errors
    again = file_apply(office_a, creditor, "balance_update", BALANCE, rows)
    assert (again.rows_applied, again.rows_unchanged) == (0, 2)
    with tenancy.office_context(office_a.id):
        assert Payment.objects.count() == 2
        r1 = Account.objects.get(creditor_reference="R-1")
        assert r1.balance == Decimal("400.00")
        assert r1.total_collected == Decimal("100.00")


def test_balance_update_problems(office_a, creditor, accounts):
    today = office_a.today()
    future = (today + timedelta(days=400)).isoformat()
    rows = [
        ["R-1", "abc", today.isoformat(), "P-1"],
        ["R-2", "10", future, "P-2"],
        ["R-3", "900", today.isoformat(), "P-3"],
        ["R-1", "5", today.isoformat(), ""],
        ["R-2", "5", today.isoformat(), "P-7"],
        ["R-2", "5", today.isoformat(), "P-7"],
    ]
    cfile = file_apply(office_a, creditor, "balance_update", BALANCE, rows)
    day = today + timedelta(days=400)
    assert cfile.errors == [
        {"line": 2, "column": "Amount", "message": "“abc” is not an amount."},
        {
            "line": 3,
            "column": "Date Received",
            "message": f"The date ({day:%b} {day.day}, {day.year}) is in the future.",
        },
        {
            "line": 4,
            "column": "Amount",
            "message": "The account's balance is 500.00; the creditor reports more.",
        },
        {
            "line": 5,
            "column": "Payment Reference",
            "message": "The creditor's payment reference is missing.",
        },
        {
            "line": 7,
            "column": "Payment Reference",
            "message": "This payment appears twice in this file (first on row 6).",
        },
    ]
    with tenancy.office_context(office_a.id):
        assert not Payment.objects.exists()


def test_a_file_without_the_needed_columns_is_refused_and_not_stored(office_a, creditor):
    with pytest.raises(ValidationError) as exc:
        file_apply(office_a, creditor, "balance_update", ["Account Number", "Amount"], [])
    assert exc.value.messages == [
        "The file needs a column with the date received (e.g. “Date received”).",
        "The file needs a column with the creditor's payment reference (e.g. “Creditor's "
        "payment reference”).",
    ]
    with tenancy.office_context(office_a.id):
        assert not CreditorFile.objects.exists()


def test_command_line_applies_a_file_and_exits_1_on_rejected_rows(
    office_a, creditor, accounts, tmp_path, monkeypatch
):
    from accounts.creditor_files import services

    # However large the file, the operator gets the summary: never queued.
    monkeypatch.setattr(services, "INLINE_MAX_ROWS", 1)
    path = tmp_path / "recalls.csv"
    path.write_text("Account Number,Reason\nR-1,Sold\nR-9,Sold\n", encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command(
            "creditor_file",
            str(path),
            "--office",
            office_a.slug,
            "--creditor",
            "LCB",
            "--kind",
            "recall",
            "--valid-only",
            stdout=out,
        )
    assert exc.value.code == 1
    assert "2 rows read, 1 applied, 0 unchanged, 1 rejected." in out.getvalue()
    assert "row 3 [Account Number]: Lakeside Bank has no account R-9 placed with us." in (
        out.getvalue()
    )
    assert statuses(office_a)["R-1"] == "recalled"
