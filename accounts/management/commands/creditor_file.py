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
from accounts.models import Creditor
from recovery import tenancy
from recovery.models import Office, User

ERRORS_SHOWN = 20


class Command(BaseCommand):
    help = (
        "Apply a creditor's recall or balance-update file, or a vendor's scrub or skip-trace file."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the CSV or XLSX file")
        parser.add_argument("--office", required=True, help="Office slug")
        parser.add_argument("--creditor", required=True, help="Creditor reference, e.g. LCB")
        parser.add_argument("--kind", required=True, choices=CreditorFile.Kind.values)
        parser.add_argument(
            "--valid-only",
            action="store_true",
            help="Apply the valid rows and reject the others (default: all or nothing)",
        )
        parser.add_argument("--user", help="Email of the member of staff recorded as uploader")

    def handle(self, *args, **opts):
        office = Office.objects.filter(slug=opts["office"]).first()
        if office is None:
            raise CommandError(f"No office with slug {opts['office']!r}.")
        path = opts["file"]
        if not os.path.isfile(path):
            raise CommandError(f"No file at {path}.")
        user = None
        if opts["user"]:
            user = User.objects.filter(email=opts["user"].lower()).first()
            if user is None:
                raise CommandError(f"No user with email {opts['user']!r}.")
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
