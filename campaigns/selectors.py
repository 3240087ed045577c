"""Reads the campaign pages share: per-campaign figures, a small activity series for
the list's chart, and results per champion/challenger variant. Aggregates only: a
constant number of queries for a page, whatever the number of accounts."""

from datetime import timedelta

from django.db.models import Count, Exists, Min, OuterRef, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from campaigns.models import Campaign, Enrollment, Message
from payments.models import Payment

SENT = [Message.Status.SENT, Message.Status.DELIVERED]
# Planned and not sent yet: due, or held for the debtor's window or best hour.
WAITING = [Message.Status.PLANNED, Message.Status.DEFERRED]
CHART_DAYS = 14


def campaign_list(*, show_archived=False):
    campaigns = Campaign.objects.select_related("previous_version").order_by("name", "-version")
    if not show_archived:
        campaigns = campaigns.exclude(status=Campaign.Status.ARCHIVED)
    return list(campaigns)


def campaign_figures(campaign_ids, *, now=None):
    """{campaign_id: {enrolled, active, sent, blocked, waiting, held_until, paid,
    series: [per day sent]}}. `held_until`: when the first waiting message goes, if it is
    held for later (the debtor's hours, the send-time choice); None when it is due now."""
    now = now or timezone.now()
    figures = {
        cid: {"enrolled": 0, "active": 0, "sent": 0, "blocked": 0, "waiting": 0,
              "held_until": None, "paid": 0, "series": []}
        for cid in campaign_ids
    }  # fmt: skip
    enrollments = (
        Enrollment.objects.filter(campaign_id__in=campaign_ids)
        .values("campaign_id")
        .annotate(
            enrolled=Count("id"),
            active=Count("id", filter=Q(status=Enrollment.Status.ACTIVE)),
            paid=Count("id", filter=Q(account__status__in=["paid", "settled"])),
        )
    )
    for row in enrollments:
        figures[row["campaign_id"]].update(
            enrolled=row["enrolled"], active=row["active"], paid=row["paid"]
        )
    messages = (
        Message.objects.filter(step__campaign_id__in=campaign_ids)
        .values("step__campaign_id")
        .annotate(
            sent=Count("id", filter=Q(status__in=SENT)),
            blocked=Count("id", filter=Q(status=Message.Status.BLOCKED)),
            waiting=Count("id", filter=Q(status__in=WAITING)),
            next_due=Min("due_at", filter=Q(status__in=WAITING)),
        )
    )
    for row in messages:
        next_due = row.pop("next_due")
        row["held_until"] = next_due if next_due and next_due > now else None
        figures[row.pop("step__campaign_id")].update(row)
    start = (now - timedelta(days=CHART_DAYS - 1)).date()
    days = [start + timedelta(days=i) for i in range(CHART_DAYS)]
    per_day = {}
    series = (
        Message.objects.filter(
            step__campaign_id__in=campaign_ids, status__in=SENT, sent_at__date__gte=start
        )
        .annotate(day=TruncDate("sent_at"))
        .values("step__campaign_id", "day")
        .annotate(n=Count("id"))
    )
    for row in series:
        per_day[(row["step__campaign_id"], row["day"])] = row["n"]
    for cid, fig in figures.items():
        fig["series"] = [per_day.get((cid, d), 0) for d in days]
        fig["chart"] = sparkline(fig["series"])
    return figures


def sparkline(values, *, width=120, height=28):
    """Points of an inline-SVG polyline for a small series (no library, no script)."""
    top = max(values) if values and max(values) > 0 else 1
    step = width / max(len(values) - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(values)
    )
    return {"points": points, "width": width, "height": height, "total": sum(values)}


def variant_results(campaign, *, paid_within=30):
    """Per step and variant: sent, delivered, and accounts paid within `paid_within`
    days of a message of that variant."""
    paid_after = Payment.objects.filter(
        account_id=OuterRef("account_id"),
        status=Payment.Status.SUCCEEDED,
        received_at__gte=OuterRef("sent_at"),
        received_at__lte=OuterRef("sent_at") + timedelta(days=paid_within),
    )
    rows = (
        Message.objects.filter(step__campaign=campaign)
        .values("step__position", "variant")
        .annotate(
            sent=Count("id", filter=Q(status__in=SENT)),
            delivered=Count("id", filter=Q(status=Message.Status.DELIVERED)),
            accounts=Count("account_id", distinct=True, filter=Q(status__in=SENT)),
            paid=Count("account_id", distinct=True, filter=Q(Exists(paid_after), status__in=SENT)),
        )
        .order_by("step__position", "variant")
    )
    results = []
    for row in rows:
        accounts = row["accounts"] or 0
        row["paid_rate"] = round(100 * row["paid"] / accounts, 1) if accounts else None
        results.append(row)
    return results
