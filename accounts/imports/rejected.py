"""The rejected rows of an import as a CSV a creditor can fix and send back: the file's
own columns, as read, plus an `error` column saying what is wrong with each row.

Written to a temporary file as the import goes, so memory stays flat; saved as a
`recovery.Document` at the end. UTF-8 with a BOM, so Excel shows names as they are.
"""

import contextlib
import csv
import io
import tempfile

from django.core.files import File

from accounts.imports.reader import cell_text
from recovery import tenancy
from recovery.models import Document


class RejectedRows:
    def __init__(self, headers):
        self.width = len(headers)
        self.count = 0
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self._text = io.TextIOWrapper(self._file, encoding="utf-8-sig", newline="")
        self._csv = csv.writer(self._text)
        error = "error" if "error" not in headers else "error (import)"
        self._csv.writerow([*headers, error])

    def add(self, row):
        cells = [cell_text(c) for c in row.cells]
        cells += [""] * (self.width - len(cells))
        self._csv.writerow([*cells, row.error_text])
        self.count += 1

    def save_document(self, *, title, user=None):
        self._text.flush()
        self._file.seek(0)
        name = title.rsplit(".", 1)[0].replace(" ", "-")[:150] + ".csv"
        document = Document(
            office_id=tenancy.current_office_id(),  # named in the storage path
            kind=Document.Kind.PLACEMENT_FILE,
            title=title[:200],
            content_type="text/csv",
            created_by=user,
        )
        document.file.save(name, File(self._file), save=False)
        document.size = document.file.size
        document.save()
        return document

    def close(self):
        with contextlib.suppress(ValueError):
            self._text.close()
        with contextlib.suppress(ValueError):
            self._file.close()
