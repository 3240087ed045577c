"""PostgreSQL's COPY writer writes exactly what the ORM writer writes — debtors, their
references and contact points (time zones included), accounts, opening ledger entries,
"placed" events, match records and review items — and leaves nothing behind when a row
is bad in all-or-nothing mode, when it fails mid-write, or when a file comes again."""

import pytest
from django.conf import settings
from django.db import connection

from accounts.imports import services
from accounts.imports.copy_writer import CopyChunkWriter
from accounts.imports.models import PlacementMatch
from accounts.models import Account, Creditor, Event, Transaction
from accounts.services import account_ledger_mismatches
from debtors.models import ContactPoint, Debtor, DebtorReference
from recovery import tenancy
from recovery.models import WorkItem
from tests.accounts.imports.helpers import (
    csv_text,
    descends_the_key,
    fixture_file,
    import_run,
    many_like,
    probe_plan,
    upload_of,
)
from tests.factories import (
    AccountFactory,
    CreditorFactory,
    DebtorFactory,
    MembershipFactory,
    OfficeFactory,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="COPY is PostgreSQL's"),
]

HEADER = ["Account", "Customer ID", "First Name", "Last Name", "DOB", "SSN", "Street", "City",
          "State", "Zip", "Phone", "Work Phone", "Email", "Principal", "Interest", "Fees",
          "Charge Off Date"]  # fmt: skip
ROWS = [
    ["M-1", "C-1", "José", "Núñez ", "1980-04-12", "123-45-6789", "12 Elm St", "Boston", "MA",
     "2134", "(617) 555-0142", "", "JOSE@Example.com", "$1,234.50", "10", "", "03/15/2022"],
    ["M-2", "C-1", "José", "Núñez", "1980-04-12", "6789", "", "", "", "", "(617) 555-0142",
     "(800) 555-0100", "", "20.00", "", "5.00", ""],  # same person, by customer id
    ["M-3", "", "Zoë", "O’Brien", "4/5/62", "0042", "9 Pike St", "Seattle", "WA", "98101",
     "", "", "", "99", "", "", "15-Mar-2022"],
    ["M-4", "", "Ann", "Archer", "1970-01-01", "", "", "", "", "", "907.555.0100", "", "", "5",
     "", "", ""],  # uncertain: Archer 1970-01-01 exists with another SSN
    ["M-5", "C-7", "Omar", "Haddad", "1979-11-30", "7777", "", "", "", "", "", "", "", "7",
     "", "", ""],  # matched by identity
    ["M-6", "", "", "", "", "", "", "", "", "", "", "", "", "8", "", "", ""],  # bad: no name
]  # fmt: skip
ACCOUNT_FIELDS = [
    "creditor_reference", "original_creditor", "original_account_last4", "debt_type",
    "governing_law_state", "currency", "origination_date", "charge_off_date",
    "last_payment_date", "itemization_date", "itemization_amount", "principal_balance",
    "interest_balance", "fees_balance", "total_placed", "total_collected", "interest_type",
    "interest_rate", "status", "tags", "priority", "assigned_agent",
]  # fmt: skip
POINT_FIELDS = [
    "kind", "value", "phone_type", "line1", "line2", "city", "state", "postal_code", "country",
    "is_work", "is_primary", "validity", "source", "candidate_timezones", "timezone_source",
    "email_qualification",
]  # fmt: skip
DEBTOR_FIELDS = [
    "kind", "first_name", "middle_name", "last_name", "business_name", "date_of_birth",
    "ssn_last4", "dob_bidx", "ssn_last4_bidx", "last_name_bidx", "match_bidx", "language",
]  # fmt: skip


def _text(rows):
    return csv_text(HEADER, rows, sep=";")  # Excel in Europe: amounts keep their commas


def _seed(office):
    creditor = CreditorFactory(office=office, reference="EQ", name="Equal Bank")
    for first, last, dob, ssn in (("Ann", "Archer", "1970-01-01", "1111"),
                                  ("Omar", "Haddad", "1979-11-30", "7777")):  # fmt: skip
        DebtorFactory(
            office=office, first_name=first, last_name=last, date_of_birth=dob, ssn_last4=ssn
        )
    return creditor, MembershipFactory(office=office, role="manager").user


def _snapshot(office, pi):
    """What an import wrote, with ids and clock times replaced by what they point at."""
    with tenancy.office_context(office.id):
        accounts = Account.objects.select_related("debtor").order_by("creditor_reference")
        ref_of = {a.pk: a.creditor_reference for a in accounts}
        debtor_key = {}
        for a in accounts:
            d = a.debtor
            debtor_key.setdefault(d.pk, f"{d.last_name}/{d.date_of_birth}")
        snap = {
            "import": (pi.status, pi.rows_read, pi.rows_imported, pi.rows_rejected,
                       pi.debtors_created, pi.debtors_matched, pi.matches_to_review,
                       pi.total_placed, pi.errors),
            "accounts": [
                (*(getattr(a, f) for f in ACCOUNT_FIELDS), debtor_key[a.debtor_id],
                 a.office_reference.split("-")[1], a.placed_at == a.status_changed_at)
                for a in accounts
            ],
            "debtors": sorted(
                tuple(getattr(d, f) for f in DEBTOR_FIELDS)
                for d in Debtor.objects.filter(pk__in=debtor_key)
            ),
            "references": sorted(
                (r.reference, debtor_key[r.debtor_id]) for r in DebtorReference.objects.all()
            ),
            "points": sorted(
                (debtor_key.get(p.debtor_id), *(str(getattr(p, f)) for f in POINT_FIELDS))
                for p in ContactPoint.objects.all()
            ),
            "ledger": sorted(
                (ref_of[t.account_id], t.kind, t.principal, t.interest, t.fees, t.currency,
                 t.effective_date, t.memo, t.created_by_id is not None, t.payment_id,
                 t.reverses_id)
                for t in Transaction.objects.all()
            ),
            "events": sorted(
                (ref_of[e.account_id], e.kind, debtor_key[e.debtor_id], e.actor_id is not None,
                 e.summary, e.data == {"placement_id": pi.placement_id}, e.amount, e.channel)
                for e in Event.objects.all()
            ),
            "matches": sorted(
                (ref_of[m.account_id], m.line, debtor_key[m.debtor_id], m.method, m.reason,
                 m.work_item_id is not None, len(m.added_contact_point_ids),
                 m.linked_reference_id is not None)
                for m in PlacementMatch.objects.all()
            ),
            "reviews": sorted(
                (ref_of[w.account_id], w.kind, w.title, w.detail.split(". ", 1)[1])
                for w in WorkItem.objects.all()
            ),
            "mismatches": account_ledger_mismatches(),
        }  # fmt: skip
    return snap


def _import_on(writer, monkeypatch, file_text, mode="valid_only", chunk=2):
    monkeypatch.setattr(services, "COPY_WRITES", writer == "copy")
    monkeypatch.setattr(services, "CHUNK_ROWS", chunk)
    office = OfficeFactory()
    creditor, user = _seed(office)
    pi = import_run(office, creditor, upload_of(file_text), user=user, mode=mode)
    return office, pi


def test_copy_and_orm_writers_write_the_same_rows(monkeypatch):
    text = _text(ROWS)
    copy = _snapshot(*_import_on("copy", monkeypatch, text))
    orm = _snapshot(*_import_on("orm", monkeypatch, text))
    for key in orm:
        assert copy[key] == orm[key], key
    # And the file did what it says: one person's two accounts, a match, a review.
    assert copy["import"][:7] == ("done", 6, 5, 1, 2, 3, 1)
    points = {(p[0], p[1], p[2]): p for p in copy["points"]}
    home = points[("Núñez/1980-04-12", "address", "12 Elm St, Boston, MA 02134")]
    assert (home[-3], home[-2]) == ("['America/New_York']", "zip")
    toll_free = points[("Núñez/1980-04-12", "phone", "+18005550100")]
    assert toll_free[10] == "True" and toll_free[-2] == "unknown"  # is_work; no zone
    assert copy["mismatches"] == []


@pytest.mark.parametrize("name", ["excel_quirks.csv", "same_person.csv", "windows_tabs.txt"])
def test_messy_files_write_the_same_rows_on_both_writers(monkeypatch, name):
    snaps = []
    for writer in ("copy", "orm"):
        monkeypatch.setattr(services, "COPY_WRITES", writer == "copy")
        office = OfficeFactory()
        creditor, user = _seed(office)
        pi = import_run(office, creditor, fixture_file(name), user=user, mode="valid_only")
        snaps.append(_snapshot(office, pi))
    assert snaps[0] == snaps[1]
    assert snaps[0]["import"][0] == "done"


def test_a_bad_row_in_all_or_nothing_mode_writes_nothing(monkeypatch):
    office, pi = _import_on("copy", monkeypatch, _text(ROWS), mode="all")
    assert pi.status == "rejected" and pi.rows_imported == 0
    message = "A debtor needs a last name or a business name."
    assert pi.errors == [{"line": 7, "column": "Last Name", "message": message}]
    with tenancy.office_context(office.id):
        assert Account.objects.count() == Transaction.objects.count() == Event.objects.count() == 0
        assert Debtor.objects.count() == 2  # the two seeded ones
        assert ContactPoint.objects.count() == DebtorReference.objects.count() == 0
        assert PlacementMatch.objects.count() == WorkItem.objects.count() == 0


def test_a_failure_inside_the_copy_path_writes_nothing(monkeypatch):
    from accounts import staging

    real_load, loaded = staging.Staging.load, []

    def load_then_fail(self, key, rows):
        loaded.append(key)
        if key == "event" and loaded.count("event") == 2:  # the second chunk's events
            raise RuntimeError("the database went away")
        return real_load(self, key, rows)

    monkeypatch.setattr(staging.Staging, "load", load_then_fail)
    office, pi = _import_on("copy", monkeypatch, _text(ROWS[:5]))
    assert loaded.count("account") == 2  # the first chunk was written, then rolled back
    assert pi.status == "failed" and "nothing was imported" in pi.failure
    with tenancy.office_context(office.id):
        assert Account.objects.count() == Transaction.objects.count() == Event.objects.count() == 0
        assert Debtor.objects.count() == 2
        assert ContactPoint.objects.count() == DebtorReference.objects.count() == 0
        assert PlacementMatch.objects.count() == WorkItem.objects.count() == 0
        with connection.cursor() as cursor:  # the staging tables went with the transaction
            cursor.execute("SELECT count(*) FROM pg_class WHERE relname LIKE 'stage\\_%%'")
            assert cursor.fetchone()[0] == 0


def test_the_same_rows_in_another_file_are_not_placed_twice(monkeypatch):
    office, first = _import_on("copy", monkeypatch, _text(ROWS))
    assert first.rows_imported == 5
    with tenancy.office_context(office.id):
        creditor = Creditor.objects.get()
    again = import_run(
        office, creditor, upload_of(_text(ROWS[:5] + [ROWS[0][:1] + ["x"] * 16])),
        mode="valid_only",
    )  # fmt: skip
    assert again.status == "rejected" and again.rows_imported == 0
    assert {e["message"].split(" is ")[-1][:14] for e in again.errors} >= {"already placed"}
    with tenancy.office_context(office.id):
        assert Account.objects.count() == 5
        assert DebtorReference.objects.count() == 2
        assert Event.objects.count() == Transaction.objects.count() == 5


def test_writer_in_use_on_postgresql_is_the_copy_writer(monkeypatch, office_a):
    used = []
    real_init = CopyChunkWriter.__init__

    def spy(self, **kwargs):
        used.append(type(self))
        real_init(self, **kwargs)

    monkeypatch.setattr(CopyChunkWriter, "__init__", spy)
    creditor = CreditorFactory(office=office_a)
    pi = import_run(office_a, creditor, upload_of(_text(ROWS[:1])))
    assert pi.status == "done", pi.errors
    assert used == [CopyChunkWriter]


def test_a_long_import_tells_the_planner_about_its_own_rows(monkeypatch):
    """After FIRST_COUNT rows, and each time they double, the import has PostgreSQL count
    the tables it probes, its own uncommitted rows included: the next chunks' account
    numbers are then looked up by their key, however new the creditor."""
    monkeypatch.setattr(services, "CHUNK_ROWS", 2)
    monkeypatch.setattr(services, "FIRST_COUNT", 2)
    office = OfficeFactory()
    creditor, user = _seed(office)
    with tenancy.office_context(office.id):  # the creditor's accounts from the week before
        Account.objects.bulk_create(
            many_like(AccountFactory(office=office, creditor=creditor), 400, prefix="P-")
        )
    pi = import_run(office, creditor, upload_of(_text(ROWS)), user=user, mode="valid_only")
    assert pi.rows_imported == 5
    with tenancy.office_context(office.id):
        found, plan = probe_plan(creditor, ["M-1", "P-7", "M-1000"])
    assert sorted(found) == [("M-1",), ("P-7",)]
    assert descends_the_key(plan), plan
