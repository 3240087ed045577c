"""Reads for the import pages: the history, one import's matches, and a sample value per
column of a stored file (read from the file each time, not copied into the records)."""

import itertools

from accounts.imports.models import PlacementImport, PlacementMatch
from accounts.imports.reader import FileProblem, cell_text, sheet_open


def import_list():
    return PlacementImport.objects.select_related("creditor", "created_by").order_by(
        "-created_at", "-id"
    )


def import_matches(placement_import):
    return (
        PlacementMatch.objects.filter(placement_import=placement_import)
        .select_related("account", "debtor", "split_debtor", "work_item", "split_by")
        .order_by("line")
    )


def column_samples(placement_import, rows=5):
    """{header: the first non-empty value under it in the first rows of the file}."""
    samples = {}
    try:
        with (
            placement_import.document.file.open("rb") as fileobj,
            sheet_open(fileobj, count=False) as sheet,
        ):
            for _, cells in itertools.islice(sheet.rows(), rows):
                for header, cell in zip(sheet.headers, cells, strict=False):
                    text = " ".join(cell_text(cell).split())
                    if text and header not in samples:
                        samples[header] = text
    except FileProblem:
        pass
    return samples
