"""A person is one debtor however many debts they have; uncertain matches go to a person
for review, and a wrong match can be undone."""

import pytest
from django.core.exceptions import ValidationError

from accounts.imports import services
from accounts.imports.models import PlacementMatch
from accounts.models import Account, Event
from accounts.services import account_ledger_mismatches
from debtors.models import ContactPoint, Debtor, DebtorReference
from debtors.services import contact_point_add
from recovery import tenancy
from recovery.models import WorkItem
from tests.accounts.imports.helpers import csv_text, fixture_file, import_run, upload_of
from tests.factories import CreditorFactory, DebtorFactory, MembershipFactory

HEADER = ["Account Number", "Customer ID", "First Name", "Last Name", "DOB", "SSN", "Phone",
          "Principal"]  # fmt: skip


@pytest.fixture
def creditor(office_a):
    return CreditorFactory(office=office_a, reference="MHS")


def test_three_debts_of_one_person_make_one_debtor_with_three_accounts(office_a, creditor):
    pi = import_run(office_a, creditor, fixture_file("same_person.csv"))
    assert (pi.rows_imported, pi.debtors_created, pi.debtors_matched) == (4, 2, 2)
    assert pi.matches_to_review == 0
    with tenancy.office_context(office_a.id):
        rosa = Debtor.objects.get(last_name="Delgado")
        assert sorted(rosa.accounts.values_list("creditor_reference", flat=True)) == [
            "S-1", "S-2", "S-3",
        ]  # fmt: skip
        phones = set(rosa.contact_points.values_list("value", flat=True))
        assert phones == {"+13125550147", "+13125550188"}
        assert rosa.contact_points.filter(is_primary=True).count() == 1
        assert DebtorReference.objects.get(reference="CUST-9").debtor == rosa
        methods = dict(PlacementMatch.objects.values_list("line", "method"))
        assert methods == {3: "identity", 4: "creditor_id"}
        assert WorkItem.objects.count() == 0


def test_later_files_find_debtors_by_customer_id_and_identity(office_a, creditor):
    import_run(office_a, creditor, fixture_file("same_person.csv"))
    rows = [
        ["S-9", "CUST-9", "", "Delgado", "", "", "", "10"],
        ["S-10", "", "Rosa", "DELGADO", "02/29/1984", "5555", "", "20"],
        ["S-11", "", "Omar", "Haddad", "1979-11-30", "7777", "", "30"],
    ]
    pi = import_run(office_a, creditor, upload_of(csv_text(HEADER, rows)))
    assert (pi.rows_imported, pi.debtors_created, pi.debtors_matched) == (3, 0, 3)
    with tenancy.office_context(office_a.id):
        assert Debtor.objects.count() == 2
        rosa = Debtor.objects.get(last_name="Delgado")
        assert rosa.accounts.count() == 5


def test_a_customer_id_of_another_creditor_does_not_match(office_a, creditor):
    import_run(office_a, creditor, fixture_file("same_person.csv"))
    other = CreditorFactory(office=office_a, reference="SWL")
    rows = [["W-1", "CUST-9", "", "Someone", "", "", "", "10"]]
    pi = import_run(office_a, other, upload_of(csv_text(HEADER, rows)))
    assert pi.debtors_created == 1


@pytest.fixture
def rosa(office_a):
    debtor = DebtorFactory(
        office=office_a, first_name="Rosa", last_name="Delgado",
        date_of_birth="1984-02-29", ssn_last4="5555",
    )  # fmt: skip
    with tenancy.office_context(office_a.id):
        contact_point_add(debtor=debtor, kind="phone", value="(312) 555-0147", source="placement")
    return debtor


def test_same_name_and_birthday_with_another_ssn_goes_to_review(office_a, creditor, rosa):
    rows = [["U-1", "", "Rosa", "Delgado", "1984-02-29", "9999", "(773) 555-0100", "50"]]
    pi = import_run(office_a, creditor, upload_of(csv_text(HEADER, rows)))
    assert (pi.debtors_created, pi.debtors_matched, pi.matches_to_review) == (0, 1, 1)
    with tenancy.office_context(office_a.id):
        account = Account.objects.get(creditor_reference="U-1")
        assert account.debtor_id == rosa.pk
        match = PlacementMatch.objects.get()
        assert match.method == "uncertain"
        assert match.reason == "Same last name and date of birth, but a different SSN last 4."
        item = match.work_item
        assert (item.kind, item.status, item.account_id) == ("review", "open", account.pk)
        assert "Row 2 of placement import" in item.detail
        assert "9999" not in item.detail and "Delgado" not in item.detail  # no personal data
        added = ContactPoint.objects.get(pk__in=match.added_contact_point_ids)
        assert (added.debtor_id, added.value) == (rosa.pk, "+17735550100")


def test_a_missing_ssn_is_uncertain_too(office_a, creditor, rosa):
    rows = [["U-2", "", "Rosa", "Delgado", "1984-02-29", "", "", "50"]]
    pi = import_run(office_a, creditor, upload_of(csv_text(HEADER, rows)))
    assert pi.matches_to_review == 1
    with tenancy.office_context(office_a.id):
        assert PlacementMatch.objects.get().reason == (
            "Same last name and date of birth; the file gives no SSN last 4."
        )


def test_unmerge_splits_the_account_onto_a_new_debtor_from_its_file_row(office_a, creditor, rosa):
    reviewer = MembershipFactory(office=office_a, role="manager").user
    rows = [
        ["U-1", "CUST-77", "Rosa", "Delgado", "1984-02-29", "9999", "(773) 555-0100", "50"],
        ["U-2", "", "Rosa", "Delgado", "1984-02-29", "5555", "", "60"],
    ]
    pi = import_run(office_a, creditor, upload_of(csv_text(HEADER, rows)))
    with tenancy.office_context(office_a.id):
        match = PlacementMatch.objects.get(method="uncertain")
        new = services.account_unmerge(match=match, actor=reviewer)
        account = Account.objects.get(creditor_reference="U-1")
        assert account.debtor_id == new.pk != rosa.pk
        assert (new.first_name, new.last_name, new.date_of_birth, new.ssn_last4) == (
            "Rosa", "Delgado", "1984-02-29", "9999",
        )  # fmt: skip
        assert list(new.contact_points.values_list("value", "is_primary")) == [
            ("+17735550100", True)
        ]
        # Nothing of the other person stays with Rosa; her own phone and account do.
        assert set(rosa.contact_points.values_list("value", flat=True)) == {"+13125550147"}
        assert list(rosa.accounts.values_list("creditor_reference", flat=True)) == ["U-2"]
        assert Event.objects.get(account=account, kind="placed").debtor_id == new.pk
        split = Event.objects.get(account=account, kind="debtor_split")
        assert split.actor == reviewer
        assert split.data == {"from_debtor_id": rosa.pk, "to_debtor_id": new.pk,
                              "placement_import_id": pi.pk, "line": 2}  # fmt: skip
        match.refresh_from_db()
        assert match.split_debtor == new and match.split_by == reviewer
        assert match.work_item.status == "done"
        assert DebtorReference.objects.get(reference="CUST-77").debtor == new
        assert account_ledger_mismatches() == []
        with pytest.raises(ValidationError, match="already been split off"):
            services.account_unmerge(match=match, actor=reviewer)


def test_unmerge_of_a_confident_match_made_within_the_file(office_a, creditor):
    import_run(office_a, creditor, fixture_file("same_person.csv"))
    with tenancy.office_context(office_a.id):
        match = PlacementMatch.objects.get(line=3)  # S-2, matched to S-1's new debtor
        first = Account.objects.get(creditor_reference="S-1").debtor
        new = services.account_unmerge(match=match)
        assert Account.objects.get(creditor_reference="S-2").debtor == new
        assert set(first.contact_points.values_list("value", flat=True)) == {"+13125550147"}
        assert set(new.contact_points.values_list("value", flat=True)) == {"+13125550188"}
