"""Placing accounts by API: records instead of a file, the same rules and the same writer.

`placement_create` checks every record with the file import's `RowChecker` (the same
parsers, cross-field rules and duplicate checks, against accounts already placed too)
and refuses the whole placement, listing every record's problems, when any record is
bad — nothing is written then. When all are good it goes through the file import's own
verbs (`placement_import_create` → `_configure` → `_run`) with the records as a CSV
document, so an API placement is stored, matched to debtors, reviewed and undone
(unmerge) exactly like an uploaded file, and shows in the office's import list.
"""

import csv
import io

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from accounts.imports import services as import_services
from accounts.imports.fields import FIELDS
from accounts.imports.models import PlacementImport
from accounts.imports.validation import RowChecker, office_today
from accounts.models import Placement
from recovery import tenancy
from recovery.models import Office

FIELD_KEYS = [f.key for f in FIELDS]
MAX_ACCOUNTS = 1000


class PlacementRejected(ValidationError):
    """Some records are bad, so nothing was placed; `errors` lists every problem as
    {record index: {field: [messages]}}."""

    def __init__(self, errors):
        self.errors = errors
        super().__init__(
            f"{len(errors)} of the accounts have problems, so nothing was placed. "
            "Fix every one listed and send the placement again."
        )


def _as_cell(value):
    return "" if value is None else str(value)


def placement_records_check(*, creditor, records, today):
    """{record index: {field: [messages]}} for every record with problems ({} if none).
    Fields are our field keys; problems spanning the record are under "non_field_errors"."""
    mapping = {key: key for key in FIELD_KEYS}
    checker = RowChecker(headers=FIELD_KEYS, mapping=mapping, today=today)
    # Lines count the records from 1, as a person would ("first on row 2").
    rows = [
        checker.check(n, [_as_cell(record.get(key)) for key in FIELD_KEYS])
        for n, record in enumerate(records, start=1)
    ]
    checker.check_duplicates(rows, creditor=creditor)
    errors = {}
    for row in rows:
        for problem in row.problems:
            field = problem.column or "non_field_errors"
            errors.setdefault(str(row.line - 1), {}).setdefault(field, []).append(problem.message)
    return errors


def _records_csv(records):
    used = [key for key in FIELD_KEYS if any(r.get(key) not in (None, "") for r in records)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(used)
    for record in records:
        writer.writerow([_as_cell(record.get(key)) for key in used])
    return out.getvalue().encode("utf-8"), used


@transaction.atomic
def placement_create(*, creditor, records, reference="", source_name="api"):
    """Place `records` (dicts keyed by the import's field keys) with `creditor`, all or
    nothing. Raises PlacementRejected when any record is bad, ValidationError for a
    reference already used or too many records. Returns the Placement."""
    if not records:
        raise ValidationError({"accounts": "Send at least one account."})
    if len(records) > MAX_ACCOUNTS:
        raise ValidationError(
            {"accounts": f"Send at most {MAX_ACCOUNTS} accounts per placement; split the rest."}
        )
    reference = (reference or "").strip()
    if reference and Placement.objects.filter(creditor=creditor, reference=reference).exists():
        raise ValidationError(
            {"reference": f"{creditor.name} already has a placement called {reference!r}."}
        )
    office = Office.objects.get(pk=tenancy.current_office_id())
    errors = placement_records_check(creditor=creditor, records=records, today=office_today(office))
    if errors:
        raise PlacementRejected(errors)
    content, used = _records_csv(records)
    name = f"{source_name}-{reference or 'placement'}.csv"[:200]
    upload = SimpleUploadedFile(name, content, content_type="text/csv")
    pi = import_services.placement_import_create(creditor=creditor, upload=upload)
    import_services.placement_import_configure(
        placement_import=pi,
        mapping={key: key for key in used},
        mode=PlacementImport.Mode.ALL_OR_NOTHING,
        save_mapping=False,
    )
    pi = import_services.placement_import_run(office_id=office.pk, import_id=pi.pk)
    if pi.status != PlacementImport.Status.DONE or pi.placement is None:
        # The records passed the same checks a moment ago: only a race (another placement
        # of the same accounts) or a failure gets here.
        detail = pi.failure or "; ".join(e["message"] for e in pi.errors) or "Nothing was placed."
        raise ValidationError({"accounts": detail})
    placement = pi.placement
    if reference:
        placement.reference = reference
        placement.save(update_fields=["reference"])
    return placement
