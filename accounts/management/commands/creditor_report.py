"""python manage.py creditor_report acknowledgement --office SLUG --import ID
python manage.py creditor_report close_return --office SLUG --creditor REF --from DATE --to DATE

Write a file for a creditor as CSV (to --out, or standard output): the acknowledgement of
one placement import, or the close/return file for a period (dates as YYYY-MM-DD)."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from accounts.creditor_files import outbound
from accounts.imports.models import PlacementImport
from accounts.models import Creditor
from recovery import tenancy
from recovery.models import Office


def _day(text):
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError) as exc:
        raise CommandError(f"{text!r} is not a date: use YYYY-MM-DD.") from exc


class Command(BaseCommand):
    help = "Write a placement acknowledgement or a close/return file for a creditor (CSV)."

    def add_arguments(self, parser):
        parser.add_argument("report", choices=["acknowledgement", "close_return"])
        parser.add_argument("--office", required=True, help="Office slug")
        parser.add_argument("--import", dest="import_id", type=int, help="Placement import id")
        parser.add_argument("--creditor", help="Creditor reference (close_return)")
        parser.add_argument("--from", dest="start", help="First day, YYYY-MM-DD (close_return)")
        parser.add_argument("--to", dest="end", help="Last day, YYYY-MM-DD (close_return)")
        parser.add_argument("--out", help="Path of the CSV to write (default: standard output)")

    def handle(self, *args, **opts):
        office = Office.objects.filter(slug=opts["office"]).first()
        if office is None:
            raise CommandError(f"No office with slug {opts['office']!r}.")
        with tenancy.office_context(office.id):
            if opts["report"] == "acknowledgement":
                pi = PlacementImport.objects.filter(pk=opts["import_id"]).first()
                if pi is None or not pi.is_finished:
                    raise CommandError(f"No finished import {opts['import_id']} in {office.slug}.")
                text = outbound.csv_text(
                    outbound.ACK_HEADER, outbound.placement_acknowledgement(pi)
                )
            else:
                creditor = Creditor.objects.filter(reference=opts["creditor"]).first()
                if creditor is None:
                    raise CommandError(f"No creditor {opts['creditor']!r} in {office.slug}.")
                start, end = _day(opts["start"]), _day(opts["end"])
                rows = outbound.close_return_rows(creditor=creditor, start=start, end=end)
                text = outbound.csv_text(outbound.RETURN_HEADER, rows)
        if opts["out"]:
            with open(opts["out"], "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
        else:
            self.stdout.write(text.lstrip("\ufeff"), ending="")
