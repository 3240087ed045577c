from django.core.management.base import BaseCommand, CommandError

from accounts.models import Creditor
from recovery import tenancy
from recovery.models import ApiKey, Office


class Command(BaseCommand):
    help = "Create an API key for an office. The key is printed once, as the last line."

    def add_arguments(self, parser):
        parser.add_argument("--office", required=True, help="Office slug")
        parser.add_argument("--name", default="API key")
        parser.add_argument("--creditor", help="Creditor reference: the key sees only its accounts")

    def handle(self, *args, **opts):
        office = Office.objects.filter(slug=opts["office"]).first()
        if office is None:
            raise CommandError(f"No office with slug {opts['office']!r}.")
        with tenancy.office_context(office.id):
            creditor = None
            if opts["creditor"]:
                creditor = Creditor.objects.filter(reference=opts["creditor"]).first()
                if creditor is None:
                    raise CommandError(f"No creditor {opts['creditor']!r} in {office.slug}.")
            prefix, key = ApiKey.generate()
            ApiKey.objects.create(
                name=opts["name"], prefix=prefix, key_hash=ApiKey.hash_key(key), creditor=creditor
            )
        self.stderr.write(f"API key {prefix!r} for {office.slug}; it is shown only now:")
        self.stdout.write(key)
