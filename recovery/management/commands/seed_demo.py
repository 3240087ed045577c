from django.core.management.base import BaseCommand

from recovery import demo


class Command(BaseCommand):
    help = "Seed the two demo offices (safe to run twice) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--accounts", type=int, default=2500, help="Accounts per office")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--quiet", action="store_true", help="Only say what was created")
        parser.add_argument(
            "--print-logins", action="store_true", help="Only print the logins (no seeding)"
        )

    def handle(self, *args, **opts):
        if not opts["print_logins"]:
            created = demo.seed(
                accounts_per_office=opts["accounts"], seed=opts["seed"], stdout=self.stdout
            )
            if not created:
                self.stdout.write("Demo offices already seeded; nothing to do.")
            if opts["quiet"]:
                return
        self.stdout.write("")
        self.stdout.write(f"  Demo logins (password for all: {demo.DEMO_PASSWORD})")
        for login in demo.demo_logins():
            self.stdout.write(f"    {login.email:<28} {login.role:<26} {login.office}")
