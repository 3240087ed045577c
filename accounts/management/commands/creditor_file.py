"""python manage.py creditor_file FILE --office SLUG --creditor REF --kind KIND
[--valid-only] [--user EMAIL]: apply a recall, balance-update, scrub or skip-trace file
exactly as the browser does, and print what happened. Exits non-zero when any row was
rejected or the file could not be applied."""

import os

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from accounts.creditor_files.models import CreditorFile
from accounts.creditor_files.services import creditor_file_apply
from accounts.management.cli import add_file_arguments, file_command_targets
from accounts.models import Creditor
from recovery import tenancy

ERRORS_SHOWN = 20


class Command(BaseCommand):
    help = (
        "Apply a creditor's recall or balance-update file, or a vendor's scrub or skip-trace file."
    )

    def add_arguments(self, parser):
        add_file_arguments(parser, verb="apply", role="uploader")
        parser.add_argument("--kind", required=True, choices=CreditorFile.Kind.values)

    def handle(self, *args, **opts):
        office, path, user = file_command_targets(opts)
        mode = (
            CreditorFile.Mode.VALID_ONLY if opts["valid_only"] else CreditorFile.Mode.ALL_OR_NOTHING
        )
        with tenancy.office_context(office.id):
            creditor = Creditor.objects.filter(reference=opts["creditor"]).first()
            if creditor is None:
                raise CommandError(f"No creditor {opts['creditor']!r} in {office.slug}.")
            with open(path, "rb") as fh:
                try:
                    cfile = creditor_file_apply(
                        creditor=creditor,
                        kind=opts["kind"],
                        upload=File(fh, name=os.path.basename(path)),
                        mode=mode,
                        user=user,
                        background=False,  # the operator waits for the summary
                    )
                except ValidationError as exc:
                    raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            f"{cfile.get_kind_display()} file {cfile.pk}: {cfile.get_status_display().lower()}. "
            f"{cfile.rows_read} rows read, {cfile.rows_applied} applied, "
            f"{cfile.rows_unchanged} unchanged, {cfile.rows_rejected} rejected."
        )
        if cfile.failure:
            self.stdout.write(cfile.failure)
        for problem in cfile.errors[:ERRORS_SHOWN]:
            column = f" [{problem['column']}]" if problem["column"] else ""
            self.stdout.write(f"  row {problem['line']}{column}: {problem['message']}")
        if cfile.failure or cfile.rows_rejected:
            raise SystemExit(1)
