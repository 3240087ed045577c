from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from recovery import services
from recovery.models import Membership, Office, Role, User


class Command(BaseCommand):
    help = "Create an office (tenant), optionally with its first admin."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--slug")
        parser.add_argument("--time-zone", default="America/New_York")
        parser.add_argument("--currency", default="USD")
        parser.add_argument("--country", default="US")
        parser.add_argument(
            "--collector-type", choices=Office.CollectorType.values, default="third_party"
        )
        parser.add_argument("--licensed-states", default="", help="Comma-separated, e.g. NY,NJ")
        parser.add_argument("--admin-email", help="Make this user (created if new) the admin")
        parser.add_argument("--admin-password", help="Password for a new admin user")

    def handle(self, *args, **opts):
        states = [s.strip().upper() for s in opts["licensed_states"].split(",") if s.strip()]
        try:
            office = services.office_create(
                name=opts["name"],
                slug=opts["slug"],
                time_zone=opts["time_zone"],
                default_currency=opts["currency"],
                country=opts["country"],
                collector_type=opts["collector_type"],
                licensed_states=states,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"Created office {office.name} (slug {office.slug}, id {office.id})")
        if opts["admin_email"]:
            user = User.objects.filter(email=opts["admin_email"].lower()).first()
            if user is None:
                user = User.objects.create_user(opts["admin_email"], opts["admin_password"])
            Membership.objects.create(user=user, office=office, role=Role.ADMIN)
            self.stdout.write(f"{user.email} is the office admin")
