"""The preview of a draft import: the first rows as we understood them, and every
problem in the rows checked. Reads the stored file; writes nothing."""

import itertools
from dataclasses import dataclass

from accounts.imports.matching import DebtorMatcher
from accounts.imports.models import PlacementMatch
from accounts.imports.reader import document_sheet
from accounts.imports.validation import RowChecker, office_today

PREVIEW_ROWS = 2000  # one chunk of the run (services.CHUNK_ROWS); the run checks all
PREVIEW_SHOWN = 20


@dataclass
class Preview:
    rows: list  # [(Row, debtor note)] for the first rows
    problems: list
    checked: int
    valid: int
    invalid: int
    more_rows: bool  # rows past the ones checked exist


def placement_import_preview(*, placement_import):
    """The first rows as we understood them, and every problem in the rows checked (the
    first PREVIEW_ROWS; the run checks the rest). Writes nothing."""
    today = office_today(placement_import.office)
    with document_sheet(placement_import.document) as sheet:
        checker = RowChecker(
            headers=sheet.headers,
            mapping=placement_import.mapping_snapshot,
            today=today,
            delimiter=sheet.delimiter,
        )
        rows = list(itertools.islice(checker.rows(sheet.rows()), PREVIEW_ROWS + 1))
    more_rows = len(rows) > PREVIEW_ROWS
    rows = rows[:PREVIEW_ROWS]
    checker.check_duplicates(rows, creditor=placement_import.creditor)
    shown = rows[:PREVIEW_SHOWN]
    notes = _debtor_notes(placement_import.creditor, [r for r in shown if r.ok])
    valid = sum(1 for r in rows if r.ok)
    return Preview(
        rows=[(r, notes.get(r.line, "")) for r in shown],
        problems=[p for r in rows for p in r.problems],
        checked=len(rows),
        valid=valid,
        invalid=len(rows) - valid,
        more_rows=more_rows,
    )


def _debtor_notes(creditor, rows):
    """What matching would do with each row: {line: note}."""
    notes, first_line = {}, {}
    for row, r in zip(rows, DebtorMatcher(creditor=creditor).resolve(rows), strict=True):
        if r.is_new:
            first_line[id(r.debtor)] = row.line
            notes[row.line] = "New debtor"
        elif r.debtor.pk is None:
            notes[row.line] = f"Same debtor as row {first_line[id(r.debtor)]}"
        elif r.method == PlacementMatch.Method.UNCERTAIN:
            notes[row.line] = "Possible match: a person will review it"
        else:
            notes[row.line] = "Existing debtor"
    return notes
