"""Print a signed portal link for one account (for the demo, or to give a debtor a fresh
link by hand): `python manage.py portal_link --office harbor --reference HR-100042`."""

from django.core.management.base import BaseCommand, CommandError

from campaigns.rendering import portal_link
from portal import selectors
from recovery import tenancy
from recovery.models import Office


class Command(BaseCommand):
    help = "Print a signed, expiring portal link for an account."

    def add_arguments(self, parser):
        parser.add_argument("--office", required=True, help="the office's slug")
        parser.add_argument("--reference", help="the office's account reference (default: any)")

    def handle(self, *args, office, reference=None, **options):
        found = Office.objects.filter(slug=office).first()
        if found is None:
            raise CommandError(f"No office with slug {office!r}.")
        with tenancy.office_context(found.id):
            if reference:
                account = selectors.account_by_reference(office_id=found.id, reference=reference)
            else:
                from accounts.models import Account

                account = Account.objects.filter(office_id=found.id).order_by("id").first()
            if account is None:
                raise CommandError("No such account in that office.")
            link = portal_link(
                office_id=found.id, debtor_id=account.debtor_id, account_id=account.pk
            )
        self.stdout.write(f"{account.office_reference}: {link}")
