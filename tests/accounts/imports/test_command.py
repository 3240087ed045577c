"""The operators' command: import a file, print what happened, fail loudly on bad rows."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.imports.models import ImportMapping, PlacementImport
from accounts.models import Account
from recovery import tenancy
from tests.accounts.imports.helpers import FILES
from tests.factories import CreditorFactory, MembershipFactory


@pytest.fixture
def creditor(office_a):
    return CreditorFactory(office=office_a, reference="LCB", name="Lakeside Community Bank")


def run(*args):
    out = StringIO()
    call_command("import_placements", *args, stdout=out)
    return out.getvalue()


def test_a_clean_file_is_imported_and_summarised(office_a, creditor):
    user = MembershipFactory(office=office_a, role="manager").user
    out = run(str(FILES / "excel_quirks.csv"), "--office", office_a.slug, "--creditor", "LCB",
              "--user", user.email)  # fmt: skip
    assert "Mapping: guessed from the header names" in out
    assert "Principal                  ← Balance" in out
    assert "Rows read:  4" in out
    assert "Imported:   4 accounts, 2,613.06 placed" in out
    assert "rows/s" in out
    with tenancy.office_context(office_a.id):
        assert Account.objects.count() == 4
        assert Account.objects.first().placement.imported_by == user


def test_rejected_rows_make_it_exit_non_zero_with_the_first_errors(office_a, creditor):
    out = StringIO()
    with pytest.raises(CommandError) as exc:
        call_command(
            "import_placements", str(FILES / "bad_rows.csv"), f"--office={office_a.slug}",
            "--creditor=LCB", "--valid-only", stdout=out,
        )  # fmt: skip
    assert exc.value.returncode == 1
    assert str(exc.value) == "18 rows rejected."
    text = out.getvalue()
    assert "Imported:   3 accounts" in text
    assert "row 3: Last Name: A debtor needs a last name or a business name." in text
    assert "row 22: This row has 19 values" in text
    assert f"/office-{office_a.id}/" in text.split("Rejected rows file: ")[1]


def test_all_or_nothing_imports_nothing_and_says_how_to_proceed(office_a, creditor):
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("import_placements", str(FILES / "bad_rows.csv"), f"--office={office_a.slug}",
                     "--creditor=LCB", stdout=out)  # fmt: skip
    assert "Imported:   nothing" in out.getvalue()
    assert "(all or nothing: fix them or use --valid-only)" in out.getvalue()
    with tenancy.office_context(office_a.id):
        assert Account.objects.count() == 0


def test_the_creditors_saved_mapping_is_used_and_named(office_a, creditor):
    with tenancy.office_context(office_a.id):
        ImportMapping.objects.create(
            creditor=creditor, name="Monthly",
            mapping={"creditor_reference": "Acct No", "last_name": "Last Name",
                     "principal": "Total Due"},
        )  # fmt: skip
    out = run(str(FILES / "windows_tabs.txt"), f"--office={office_a.slug}", "--creditor=LCB",
              "--mapping=Monthly")  # fmt: skip
    assert "Mapping: the creditor's saved mapping “Monthly”." in out
    with tenancy.office_context(office_a.id):
        assert Account.objects.get(creditor_reference="T-1").principal_balance == 1230
        assert PlacementImport.objects.get().mapping.name == "Monthly"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--office=nope", "--creditor=LCB"], "No office with slug 'nope'."),
        (["--office=harbor-test", "--creditor=ZZZ"], "No creditor 'ZZZ' in harbor-test."),
        (["--office=harbor-test", "--creditor=LCB", "--mapping=Nope"],
         "LCB has no saved mapping 'Nope' (saved: none)."),
    ],
)  # fmt: skip
def test_bad_arguments_are_explained(office_a, creditor, args, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run(str(FILES / "excel_quirks.csv"), *args)


def test_the_same_file_twice_is_refused(office_a, creditor):
    run(str(FILES / "excel_quirks.csv"), f"--office={office_a.slug}", "--creditor=LCB")
    with pytest.raises(CommandError, match="This file was already imported"):
        run(str(FILES / "excel_quirks.csv"), f"--office={office_a.slug}", "--creditor=LCB")
