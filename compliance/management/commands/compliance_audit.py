from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from compliance.audit import audit
from recovery import tenancy
from recovery.models import Office


def _date(value):
    try:
        return timezone.make_aware(datetime.fromisoformat(value))
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD).") from exc


class Command(BaseCommand):
    help = (
        "Re-audit every sent contact attempt against the rules in force when it was sent. "
        "Prints the violation rate on the facts known now, then (last line) on the facts "
        "known at send time."
    )

    def add_arguments(self, parser):
        parser.add_argument("--office", required=True, help="Office slug")
        parser.add_argument("--since", type=_date)
        parser.add_argument("--until", type=_date)

    def handle(self, *args, **opts):
        office = Office.objects.filter(slug=opts["office"]).first()
        if office is None:
            raise CommandError(f"No office with slug {opts['office']!r}.")
        with tenancy.office_context(office.id):
            result = audit(since=opts["since"], until=opts["until"])
        now, at_send = result.known_now, result.known_at_send
        self.stdout.write(f"Contact attempts audited: {at_send.attempts}")
        for label, figure in (("facts known now", now), ("facts known at send time", at_send)):
            rules = ", ".join(f"{r} {n}" for r, n in figure.by_rule.most_common()) or "none"
            self.stdout.write(f"  {label}: {figure.violations} violations ({rules})")
            for pk, account_id, channel, at, why in figure.examples[:5]:
                when = f"{at:%Y-%m-%d %H:%M} UTC"
                self.stdout.write(f"    attempt {pk}, account {account_id}, {channel}, {when}:")
                self.stdout.write(f"      {why}")
        if result.upheld_complaints:
            self.stdout.write(f"  upheld complaints: {result.upheld_complaints}")
        self.stdout.write(
            f"Violation rate (facts known now): {now.rate:.4%} ({now.violations} of {now.attempts})"
        )
        self.stdout.write(
            f"Compliance violation rate (facts known at send time): {result.violation_rate:.4%} "
            f"({at_send.violations + result.upheld_complaints} of {at_send.attempts})"
        )
