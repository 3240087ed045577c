from django.core.management.base import BaseCommand, CommandError

from compliance.services import erasures_due_run
from recovery import tenancy
from recovery.models import Office


class Command(BaseCommand):
    help = (
        "Perform the erasure requests (EU-GDPR) that nothing keeps waiting any more: the "
        "retention period (F-RETAIN) has ended and no legal claim is open. Run daily."
    )

    def add_arguments(self, parser):
        parser.add_argument("--office", help="Office slug (default: every office)")

    def handle(self, *args, **opts):
        offices = Office.objects.order_by("id")
        if opts["office"]:
            offices = offices.filter(slug=opts["office"])
            if not offices.exists():
                raise CommandError(f"No office with slug {opts['office']!r}.")
        total = 0
        for office in offices:
            with tenancy.office_context(office.id):
                erased = erasures_due_run()
            total += erased
            if erased:
                self.stdout.write(f"{office.slug}: {erased} erased")
        self.stdout.write(f"Erasure requests performed: {total}")
