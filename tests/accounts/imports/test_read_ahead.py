"""A long file is read and checked in a child process one chunk ahead of the writer
(`accounts.imports.ahead`). It writes exactly what reading in-process writes, reports
a file that goes bad half-way like the in-process reader does, and leaves no process and
no row behind when the writer fails."""

import os

import billiard
import pytest
from django.conf import settings

from accounts import staging
from accounts.imports import ahead, services
from accounts.imports.validation import Row
from accounts.models import Account, Event, Transaction
from debtors.models import ContactPoint, Debtor, DebtorReference
from recovery import tenancy
from tests.accounts.imports.helpers import import_run, upload_of
from tests.accounts.imports.test_copy_writer import ROWS, _seed, _snapshot, _text
from tests.factories import OfficeFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="reading ahead feeds the COPY writer"),
]


def _live_children():
    pid = os.getpid()
    with open(f"/proc/{pid}/task/{pid}/children") as listing:
        return listing.read().split()


@pytest.fixture(autouse=True)
def _children_before():
    """What already ran in this process may have left a long-lived child (e.g. the
    resource tracker multiprocessing starts once); only the ones started during the
    test count."""
    _BEFORE[:] = _live_children()


_BEFORE = []


def _children():
    """This process's live child processes (Linux) started during the test."""
    return [pid for pid in _live_children() if pid not in _BEFORE]


def _run(monkeypatch, upload, *, read_ahead, mode="valid_only", chunk=2):
    monkeypatch.setattr(services, "READ_AHEAD_MIN_ROWS", 0 if read_ahead else None)
    monkeypatch.setattr(services, "CHUNK_ROWS", chunk)
    office = OfficeFactory()
    creditor, user = _seed(office)
    return office, import_run(office, creditor, upload, user=user, mode=mode)


def _children_started(monkeypatch):
    started = []
    real = ahead.chunks_ahead

    def spy(*args, **kwargs):
        started.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "chunks_ahead", spy)
    return started


def test_reading_ahead_writes_what_reading_here_writes(monkeypatch):
    started = _children_started(monkeypatch)
    here = _snapshot(*_run(monkeypatch, upload_of(_text(ROWS)), read_ahead=False))
    assert started == []
    there = _snapshot(*_run(monkeypatch, upload_of(_text(ROWS)), read_ahead=True))
    assert started == [2]
    assert there == here
    assert there["import"][:7] == ("done", 6, 5, 1, 2, 3, 1)
    assert _children() == []


def test_a_bad_row_read_ahead_in_all_or_nothing_mode_writes_nothing(monkeypatch):
    office, pi = _run(monkeypatch, upload_of(_text(ROWS)), read_ahead=True, mode="all")
    assert pi.status == "rejected" and pi.rows_imported == 0
    assert pi.errors == [
        {
            "line": 7,
            "column": "Last Name",
            "message": "A debtor needs a last name or a business name.",
        }
    ]
    with tenancy.office_context(office.id):
        assert Account.objects.count() == ContactPoint.objects.count() == 0


@pytest.mark.parametrize("mode", ["valid_only", "all"])
def test_a_repeated_account_number_read_ahead_is_rejected_as_it_was_read(monkeypatch, mode):
    """Rows the reader found good can still be rejected here: the duplicate check needs
    the database. A repeated account number used to fail the whole import (the row had
    travelled without its cells); now it is rejected with its reason, as read."""
    repeated = [*ROWS[:5], ["M-2", *ROWS[1][1:]]]
    office, pi = _run(monkeypatch, upload_of(_text(repeated)), read_ahead=True, mode=mode)
    assert pi.failure == ""
    assert pi.rows_rejected == 1
    assert pi.errors == [
        {
            "line": 7,
            "column": "Account",
            "message": "Account number M-2 appears earlier in this file.",
        }
    ]
    assert pi.status == ("done" if mode == "valid_only" else "rejected")
    with tenancy.office_context(office.id):
        assert Account.objects.count() == (5 if mode == "valid_only" else 0)
        if mode == "valid_only":
            rejected = pi.rejected_document.file.open("rb").read().decode("utf-8-sig")
            # The row as it was read (the file's own cells), then its reason.
            assert rejected.splitlines()[1].startswith("M-2,C-1,José,Núñez,1980-04-12,6789,")


def test_a_file_that_goes_bad_half_way_fails_with_the_readers_message(monkeypatch):
    # Past the sample the encoding is guessed from, a byte that is not UTF-8.
    good = [[f"M-{n}", "", "Ann", f"Lee{n}", "1970-01-01", "", "", "", "", "", "", "", "",
             "10", "", "", ""] for n in range(1, 3000)]  # fmt: skip
    body = _text(good).encode() + "M-x;;Ann;Caf\u00e9;;;;;;;;;;10;;;\n".encode("cp1252")
    _office, here = _run(monkeypatch, upload_of(body), read_ahead=False, chunk=500)
    office, pi = _run(monkeypatch, upload_of(body), read_ahead=True, chunk=500)
    assert pi.status == here.status == "failed"
    assert pi.failure == here.failure
    assert "has characters that are not UTF-8" in pi.failure
    with tenancy.office_context(office.id):
        assert Account.objects.count() == Debtor.objects.count() - 2 == 0
    assert _children() == []


def test_a_writer_failure_while_reading_ahead_leaves_nothing_behind(monkeypatch):
    real_load, loaded = staging.Staging.load, []

    def load_then_fail(self, key, rows):
        loaded.append(key)
        if key == "event" and loaded.count("event") == 2:  # the second chunk's events
            raise RuntimeError("the database went away")
        return real_load(self, key, rows)

    monkeypatch.setattr(staging.Staging, "load", load_then_fail)
    office, pi = _run(monkeypatch, upload_of(_text(ROWS[:5])), read_ahead=True)
    assert loaded.count("account") == 2  # the first chunk was written, then rolled back
    assert pi.status == "failed" and "nothing was imported" in pi.failure
    with tenancy.office_context(office.id):
        assert Account.objects.count() == Transaction.objects.count() == Event.objects.count() == 0
        assert Debtor.objects.count() == 2
        assert ContactPoint.objects.count() == DebtorReference.objects.count() == 0
    assert _children() == []


def _read_ahead_here(_):
    rows = (Row(line=n, cells=[], values={"n": n}) for n in range(2, 7))
    with ahead.chunks_ahead(rows, 2) as chunks:
        return [[row.values["n"] for row in chunk] for chunk in chunks]


def test_reading_ahead_works_inside_a_celery_prefork_worker():
    """Celery's prefork pool children are daemonic, where multiprocessing refuses to
    start a process: imports run there."""
    with billiard.Pool(1) as pool:
        assert pool.apply(_read_ahead_here, (0,)) == [[2, 3], [4, 5], [6]]
