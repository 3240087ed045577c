"""python manage.py import_placements FILE --office SLUG --creditor REF [--mapping NAME]
[--valid-only]: import a placement file for operators, exactly as the browser does, and
print what happened. Exits non-zero when any row was rejected or the import failed."""

import os
import time

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from accounts.imports.fields import FIELDS_BY_KEY
from accounts.imports.models import PlacementImport
from accounts.imports.services import (
    mapping_suggest,
    placement_import_configure,
    placement_import_create,
    placement_import_run,
)
from accounts.management.cli import add_file_arguments, file_command_targets
from accounts.models import Creditor
from recovery import tenancy

ERRORS_SHOWN = 20


class Command(BaseCommand):
    help = "Import a placement file (CSV or XLSX) for one creditor of an office."

    def add_arguments(self, parser):
        add_file_arguments(parser, verb="import", role="importer")
        parser.add_argument("--mapping", help="Name of the creditor's saved column mapping")

    def handle(self, *args, **opts):
        office, path, user = file_command_targets(opts)
        mode = (
            PlacementImport.Mode.VALID_ONLY
            if opts["valid_only"]
            else PlacementImport.Mode.ALL_OR_NOTHING
        )
        started = time.monotonic()
        with tenancy.office_context(office.id):
            creditor = Creditor.objects.filter(reference=opts["creditor"]).first()
            if creditor is None:
                raise CommandError(f"No creditor {opts['creditor']!r} in {office.slug}.")
            with open(path, "rb") as fh:
                try:
                    pi = placement_import_create(
                        creditor=creditor,
                        upload=File(fh, name=os.path.basename(path)),
                        user=user,
                        source=PlacementImport.Source.COMMAND,
                    )
                except ValidationError as exc:
                    raise CommandError(" ".join(exc.messages)) from exc
            mapping, saved, how = mapping_suggest(
                creditor=creditor, headers=pi.headers, name=opts["mapping"]
            )
            if opts["mapping"] and saved is None:
                names = ", ".join(creditor.import_mappings.values_list("name", flat=True))
                raise CommandError(
                    f"{creditor.reference} has no saved mapping {opts['mapping']!r} "
                    f"(saved: {names or 'none'})."
                )
            self._say_mapping(mapping, saved, how)
            try:
                placement_import_configure(
                    placement_import=pi,
                    mapping=mapping,
                    mode=mode,
                    save_mapping=False,
                    saved_mapping=saved,
                    user=user,
                )
            except ValidationError as exc:
                raise CommandError(
                    "The file cannot be mapped: " + " ".join(exc.messages) + " Save a mapping "
                    "for this creditor in the browser, or name one with --mapping."
                ) from exc
            pi = placement_import_run(office_id=office.id, import_id=pi.pk)
        self._summary(pi, creditor, time.monotonic() - started)
        if pi.status == PlacementImport.Status.FAILED:
            raise CommandError(pi.failure)
        if pi.rows_rejected:
            raise CommandError(f"{pi.rows_rejected} rows rejected.", returncode=1)

    def _say_mapping(self, mapping, saved, how):
        if how == "saved":
            self.stdout.write(f"Mapping: the creditor's saved mapping “{saved.name}”.")
        else:
            self.stdout.write(
                "Mapping: guessed from the header names (no saved mapping of this creditor "
                "fits the file):"
            )
        for key, header in mapping.items():
            self.stdout.write(f"  {FIELDS_BY_KEY[key].label:<26} ← {header}")

    @staticmethod
    def _where(stored):
        try:
            return stored.path  # local storage: a path the operator can open
        except NotImplementedError:
            return stored.name

    def _summary(self, pi, creditor, seconds):
        out = self.stdout.write
        out(f"Import {pi.pk}: {pi.file_name} for {creditor.name} ({pi.get_mode_display()})")
        out(f"  Rows read:  {pi.rows_read:,}")
        if pi.rows_imported:
            out(
                f"  Imported:   {pi.rows_imported:,} accounts, {pi.total_placed:,.2f} placed "
                f"(placement {pi.placement.reference})"
            )
            out(
                f"  Debtors:    {pi.debtors_created:,} new, {pi.debtors_matched:,} accounts "
                f"matched to a debtor we had ({pi.matches_to_review:,} to review)"
            )
        else:
            out("  Imported:   nothing")
        if pi.status == PlacementImport.Status.FAILED:
            out(f"  Failed:     {pi.failure}")
        if pi.rows_rejected:
            why = " (all or nothing: fix them or use --valid-only)" if not pi.rows_imported else ""
            out(f"  Rejected:   {pi.rows_rejected:,} rows{why}")
            for problem in pi.errors[:ERRORS_SHOWN]:
                column = f"{problem['column']}: " if problem["column"] else ""
                out(f"    row {problem['line']}: {column}{problem['message']}")
            if pi.error_count > ERRORS_SHOWN:
                out(f"    … and {pi.error_count - ERRORS_SHOWN:,} more problems")
            if pi.rejected_document:
                out(f"  Rejected rows file: {self._where(pi.rejected_document.file)}")
        rate = pi.rows_read / seconds if seconds else 0
        out(f"  Took {seconds:.1f} s ({rate:,.0f} rows/s)")
