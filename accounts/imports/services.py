"""The verbs of placement import: upload a file, map its columns, preview it, run it, and
split a wrongly matched account off onto its own debtor. Views, the management command
and the Celery task call these; nothing else writes an import.

One transaction: `placement_import_run` writes the whole file inside one
`tenancy.office_context` (a transaction, or a savepoint of the request's), chunk by
chunk; on PostgreSQL a long file is read and checked a chunk ahead in a child process
(`ahead`), which never writes. "All or nothing" rolls the rows back when any row is
bad; a crash (or a killed worker) rolls everything back and leaves the import queued
for Celery to redeliver. Re-runs: the same file (same SHA-256) for the same creditor is
refused while an earlier import of it has placed accounts; other files naming accounts
already placed get those rows rejected as duplicates; and the unique key on (office,
creditor, account number) stops a duplicate even when two runs race.
"""

import contextlib
import hashlib
import itertools
import logging
import os
import zoneinfo
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.imports import progress
from accounts.imports.ahead import chunks_ahead
from accounts.imports.fields import mapping_clean, mapping_guess, mapping_problems
from accounts.imports.lookups import statistics_refresh
from accounts.imports.models import ImportMapping, PlacementImport
from accounts.imports.preview import placement_import_preview  # noqa: F401 - a verb
from accounts.imports.reader import FileProblem, document_sheet, sheet_open
from accounts.imports.rejected import RejectedRows
from accounts.imports.unmerge import account_unmerge  # noqa: F401 - a verb
from accounts.imports.validation import RowChecker, office_today
from accounts.imports.writer import ChunkCounts, ChunkWriter
from accounts.models import Placement
from recovery import tenancy
from recovery.models import Document

logger = logging.getLogger(__name__)

CHUNK_ROWS = 2000
# PostgreSQL writes through COPY into staging tables (copy_writer); SQLite, the demo's
# database, through bulk_create (writer). Both write the same rows.
COPY_WRITES = True
# The planner is told how many rows the tables the chunks probe hold once this many rows
# are imported, then each time the count doubles (lookups.statistics_refresh).
FIRST_COUNT = 4000
# Files from this many rows on are read in a child process (ahead); None: never.
READ_AHEAD_MIN_ROWS = 3 * CHUNK_ROWS
INLINE_MAX_ROWS = 2000  # larger files run in the background
ERRORS_KEPT = 200
CONTENT_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _chunks(iterable, size):
    iterator = iter(iterable)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _chunks_of(rows, *, estimate, writer):
    """The checked rows in chunks: read, checked and prepared for the writer by a child
    process one chunk ahead of the writer when the file is long enough for that to pay
    (on PostgreSQL, where the writer mostly waits for the database), else here."""
    prepare = getattr(writer, "prepare", None)
    if READ_AHEAD_MIN_ROWS is not None and estimate >= READ_AHEAD_MIN_ROWS and prepare:
        return chunks_ahead(rows, CHUNK_ROWS, prepare)
    return contextlib.nullcontext(_chunks(rows, CHUNK_ROWS))


# ---------- upload and mapping ----------------------------------------------------------


def placement_import_same_file(*, creditor, sha256, exclude=None):
    """An earlier import of this very file for this creditor that placed accounts."""
    earlier = PlacementImport.objects.filter(
        creditor=creditor, sha256=sha256, status=PlacementImport.Status.DONE, rows_imported__gt=0
    ).select_related("created_by")
    if exclude:
        earlier = earlier.exclude(pk=exclude)
    return earlier.order_by("-finished_at").first()


def same_file_message(earlier):
    zone = zoneinfo.ZoneInfo(earlier.office.time_zone)
    day = timezone.localtime(earlier.finished_at or earlier.created_at, zone)
    who = f" by {earlier.created_by.display_name}" if earlier.created_by else ""
    return (
        f"This file was already imported for {earlier.creditor.name} on "
        f"{day:%b} {day.day}, {day.year}{who} (import {earlier.pk}, "
        f"{earlier.rows_imported} accounts). Importing it again would place the same "
        "accounts twice, so it was not uploaded."
    )


@transaction.atomic
def placement_import_create(*, creditor, upload, user=None, source=PlacementImport.Source.WEB):
    """Store an uploaded placement file and start an import record for it (a draft
    waiting for its mapping). Refuses a file that cannot be read, and a file already
    imported for this creditor."""
    name = os.path.basename(getattr(upload, "name", "") or "placement.csv")[-200:]
    digest, size = hashlib.sha256(), 0
    for chunk in upload.chunks():
        digest.update(chunk)
        size += len(chunk)
    sha256 = digest.hexdigest()
    earlier = placement_import_same_file(creditor=creditor, sha256=sha256)
    if earlier:
        raise ValidationError(same_file_message(earlier))
    try:
        with sheet_open(upload) as sheet:
            headers, estimate, file_format = sheet.headers, sheet.estimated_rows, sheet.format
    except FileProblem as exc:
        raise ValidationError(str(exc)) from exc
    upload.seek(0)
    document = Document(
        # The storage path names the office, so it must be known before the file is saved.
        office_id=tenancy.current_office_id(),
        kind=Document.Kind.PLACEMENT_FILE,
        title=name,
        content_type=CONTENT_TYPES[file_format],
        sha256=sha256,
        size=size,
        created_by=user,
    )
    document.file.save(name, upload, save=False)
    document.save()
    placement_import = PlacementImport(
        creditor=creditor,
        document=document,
        file_name=name,
        file_format=file_format,
        sha256=sha256,
        headers=headers,
        row_estimate=estimate,
        source=source,
        created_by=user,
    )
    mapping, saved, _how = mapping_suggest(creditor=creditor, headers=headers)
    placement_import.mapping, placement_import.mapping_snapshot = saved, mapping
    placement_import.save()
    return placement_import


def mapping_suggest(*, creditor, headers, name=None):
    """(mapping, saved ImportMapping or None, how) for a file with these headers: the
    creditor's mapping called `name`, else the most recently used one whose columns are
    all in the file, else a guess from the header names."""
    saved = ImportMapping.objects.filter(creditor=creditor)
    if name:
        saved = saved.filter(name=name)
    for candidate in saved.order_by("-last_used_at", "-id"):
        clean = mapping_clean(candidate.mapping, headers)
        if name or (clean == candidate.mapping and not mapping_problems(clean)):
            return clean, candidate, "saved"
    return mapping_guess(headers), None, "guess"


@transaction.atomic
def placement_import_configure(
    *,
    placement_import,
    mapping,
    mode,
    mapping_name="Default",
    save_mapping=True,
    saved_mapping=None,
    user=None,
):
    """Set the column mapping and the mode of a draft import; save the mapping for the
    creditor under a name (replacing one of that name) so the next file reuses it, or
    note which saved mapping was used as it is (`saved_mapping`)."""
    if placement_import.status != PlacementImport.Status.DRAFT:
        raise ValidationError("This import has already been started.")
    mapping = mapping_clean(mapping, placement_import.headers)
    problems = mapping_problems(mapping)
    if problems:
        raise ValidationError(problems)
    if mode not in PlacementImport.Mode.values:
        raise ValidationError("Choose how to treat rows with problems.")
    saved = None
    if saved_mapping is not None and not save_mapping:
        saved = saved_mapping
        ImportMapping.objects.filter(pk=saved.pk).update(last_used_at=timezone.now())
    elif save_mapping:
        saved, _ = ImportMapping.objects.update_or_create(
            creditor=placement_import.creditor,
            name=(mapping_name or "").strip()[:80] or "Default",
            defaults={"mapping": mapping, "last_used_at": timezone.now()},
            create_defaults={"mapping": mapping, "created_by": user},
        )
    placement_import.mapping = saved
    placement_import.mapping_snapshot = mapping
    placement_import.mode = mode
    placement_import.save(update_fields=["mapping", "mapping_snapshot", "mode"])
    return placement_import


# ---------- the run ---------------------------------------------------------------------


class _NothingImported(Exception):
    """Raised inside the import's transaction to roll back every row it wrote."""


@dataclass
class _Outcome:
    rejected_rows: RejectedRows
    counts: ChunkCounts = field(default_factory=ChunkCounts)
    rows_read: int = 0
    errors: list = field(default_factory=list)
    error_count: int = 0
    placement: Placement | None = None

    def reject(self, row):
        self.rejected_rows.add(row)
        self.error_count += len(row.problems)
        room = ERRORS_KEPT - len(self.errors)
        self.errors.extend(p.as_dict() for p in row.problems[: max(room, 0)])


@transaction.atomic
def placement_import_start(*, placement_import):
    """Run a draft import: at once when the file is small, else queued for a worker.
    Returns (import, "inline" or "queued")."""
    from accounts.tasks import placement_import_task

    locked = PlacementImport.objects.select_for_update().get(pk=placement_import.pk)
    if locked.status != PlacementImport.Status.DRAFT:
        raise ValidationError("This import has already been started.")
    problems = mapping_problems(mapping_clean(locked.mapping_snapshot, locked.headers))
    if problems:
        raise ValidationError(problems)
    if locked.row_estimate <= INLINE_MAX_ROWS:
        return placement_import_run(office_id=locked.office_id, import_id=locked.pk), "inline"
    locked.status = PlacementImport.Status.QUEUED
    locked.save(update_fields=["status"])
    progress.progress_set(locked, phase="queued")
    office_id, import_id = locked.office_id, locked.pk
    transaction.on_commit(lambda: placement_import_task.delay(office_id, import_id))
    return locked, "queued"


def placement_import_run(*, office_id, import_id):
    """Import every row of a draft or queued import in one transaction. Idempotent: a
    finished import is returned as it is (a redelivered task does nothing)."""
    with tenancy.office_context(office_id):
        pi = (
            PlacementImport.objects.select_for_update(of=("self",))
            .select_related("creditor", "document", "office", "created_by")
            .get(pk=import_id)
        )
        if pi.is_finished:
            return pi
        pi.started_at = timezone.now()
        earlier = placement_import_same_file(creditor=pi.creditor, sha256=pi.sha256, exclude=pi.pk)
        if earlier:
            return _finish_failed(pi, same_file_message(earlier))
        outcome = _Outcome(rejected_rows=RejectedRows(pi.headers))
        try:
            with transaction.atomic():
                _import_rows(pi, outcome)
                all_or_nothing = pi.mode == PlacementImport.Mode.ALL_OR_NOTHING
                if not outcome.counts.imported or (all_or_nothing and outcome.error_count):
                    raise _NothingImported
        except _NothingImported:
            outcome.counts, outcome.placement = ChunkCounts(), None
        except FileProblem as exc:
            outcome.rejected_rows.close()
            return _finish_failed(pi, str(exc))
        except IntegrityError:
            # The unique keys caught what the checks could not see: another import placing
            # the same accounts at the same moment.
            logger.warning("placement import collided", extra={"import_id": pi.pk})
            outcome.rejected_rows.close()
            return _finish_failed(
                pi,
                "Another import placed some of the same accounts at the same time, so nothing "
                "was imported. Upload the file again to see which rows are already placed.",
            )
        except Exception:
            logger.exception("placement import failed", extra={"import_id": pi.pk})
            outcome.rejected_rows.close()
            return _finish_failed(
                pi,
                "Something went wrong while importing, so nothing was imported. Try again; "
                f"if it happens again, tell support about import {pi.pk}.",
            )
        return _finish(pi, outcome)


def _import_rows(pi, outcome):
    today = office_today(pi.office)
    placement = Placement.objects.create(
        creditor=pi.creditor,
        reference=f"{pi.creditor.reference}-{today:%Y%m%d}-{pi.pk}",
        document=pi.document,
        file_sha256=pi.sha256,
        status=Placement.Status.IMPORTED,
        imported_by=pi.created_by,
    )
    writer_class = ChunkWriter
    if COPY_WRITES and connection.vendor == "postgresql":
        from accounts.imports.copy_writer import CopyChunkWriter as writer_class
    writer = writer_class(placement_import=pi, placement=placement, actor=pi.created_by)
    progress.progress_set(pi, phase="importing")
    with document_sheet(pi.document) as sheet:
        checker = RowChecker(
            headers=sheet.headers,
            mapping=pi.mapping_snapshot,
            today=today,
            delimiter=sheet.delimiter,
        )
        problems = mapping_problems(checker.mapping)
        if problems:
            raise FileProblem(" ".join(problems))
        rows = checker.rows(sheet.rows())
        count_at = FIRST_COUNT
        with _chunks_of(rows, estimate=pi.row_estimate, writer=writer) as chunks:
            for chunk in chunks:
                checker.check_duplicates(chunk, creditor=pi.creditor, placement_id=placement.pk)
                outcome.rows_read += len(chunk)
                for row in chunk:
                    if not row.ok:
                        outcome.reject(row)
                good = [row for row in chunk if row.ok]
                if good:
                    outcome.counts += writer.write(good)
                if outcome.counts.imported >= count_at:
                    statistics_refresh()
                    count_at = 2 * outcome.counts.imported
                progress.progress_set(
                    pi,
                    phase="importing",
                    read=outcome.rows_read,
                    imported=outcome.counts.imported,
                    rejected=outcome.rejected_rows.count,
                )
    writer.close()
    if not outcome.rows_read:
        raise FileProblem("The file has a header row but no accounts under it.")
    placement.account_count = outcome.counts.imported
    placement.total_placed = outcome.counts.total_placed
    placement.save(update_fields=["account_count", "total_placed"])
    outcome.placement = placement


def _finish(pi, outcome):
    counts = outcome.counts
    pi.rows_read = outcome.rows_read
    pi.rows_imported = counts.imported
    pi.rows_rejected = outcome.rejected_rows.count
    pi.debtors_created = counts.debtors_created
    pi.debtors_matched = counts.debtors_matched
    pi.matches_to_review = counts.matches_to_review
    pi.total_placed = counts.total_placed
    pi.errors, pi.error_count = outcome.errors, outcome.error_count
    pi.placement = outcome.placement
    pi.status = PlacementImport.Status.DONE if counts.imported else PlacementImport.Status.REJECTED
    if pi.rows_rejected:
        pi.rejected_document = outcome.rejected_rows.save_document(
            title=f"Rejected rows of {pi.file_name}", user=pi.created_by
        )
    outcome.rejected_rows.close()
    pi.finished_at = timezone.now()
    pi.save()
    _progress_final(pi)
    return pi


def _finish_failed(pi, message):
    pi.status = PlacementImport.Status.FAILED
    pi.failure = message
    pi.finished_at = timezone.now()
    pi.save()
    _progress_final(pi)
    return pi


def _progress_final(pi):
    progress.progress_set(
        pi, phase="done", read=pi.rows_read, imported=pi.rows_imported, rejected=pi.rows_rejected
    )
