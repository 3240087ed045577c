"""Before going live: how many accounts would enter, and each step's message as a
chosen debtor would receive it (with the disclosures the compliance gate adds).

Counts are single `COUNT` queries, never loops over accounts. Nothing is recorded: the
gate is asked with `record=False`.
"""

from datetime import timedelta
from functools import reduce
from operator import or_
from zoneinfo import ZoneInfo

from django.db.models import BooleanField, Exists, OuterRef
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.models import Account
from campaigns import rendering
from campaigns.builder.events import MISSING, account_event_dates, event_sql, step_day
from campaigns.builder.segments import RANGE_FIELDS, SegmentError, segment_q, uses_field
from campaigns.dispatch import DEFAULT_TEXT
from campaigns.library import TemplateIndex, step_template
from campaigns.models import AccountScore
from campaigns.planner import CONTACT_KIND
from campaigns.services import NEVER_ENTER, entrants
from compliance.content import content_flags
from compliance.gate import Attempt, evaluate
from debtors.models import ContactPoint

UNUSABLE = ("invalid", "bounced", "returned", "disconnected")


def _has_day_rules(group):
    for rule in (group or {}).get("rules") or []:
        if "rules" in rule and _has_day_rules(rule):
            return True
        if rule.get("field", "").startswith("days_since") and rule.get("field") in RANGE_FIELDS:
            return True
    return False


def entry_counts(campaign, *, now=None, horizon=30):
    """{"today": n, "next_days": n, "horizon": 30}: accounts that would enter today, and
    accounts already placed that will come to match in the next `horizon` days as they
    age (the "days since" rules). One COUNT query each."""
    now = now or timezone.now()
    today = entrants(campaign, as_of=now).count()
    later = 0
    if _has_day_rules(campaign.entry_segment):
        segment = campaign.entry_segment
        upcoming = reduce(
            or_, (segment_q(segment, as_of=now + timedelta(days=d)) for d in range(1, horizon + 1))
        )
        later = (
            entrants(campaign, as_of=now, segment=upcoming)
            .exclude(segment_q(segment, as_of=now))
            .count()
        )
    return {
        "today": today,
        "next_days": later,
        "horizon": horizon,
        "without_date": _without_date(campaign, now) if today else [],
        "unscored": unscored_count(campaign.entry_segment),
    }


def _without_date(campaign, now):
    """For each step that waits for an account's date: how many of today's entrants
    have no such date yet (the step would be skipped for them). One COUNT each."""
    found = []
    for step in campaign.steps.exclude(wait_event="").order_by("position"):
        table = '"accounts_account"'
        expr = event_sql(step.wait_event, account=f"{table}.id", office=f"{table}.office_id")
        # Constant SQL (campaigns.builder.events), no outside values.
        missing = RawSQL(f"{expr} IS NULL", [], output_field=BooleanField())  # noqa: S611
        count = entrants(campaign, as_of=now).filter(missing).count()
        if count:
            found.append({"step": step, "count": count, "reason": MISSING[step.wait_event]})
    return found


def segment_summary(segment, *, now=None):
    """For the builder's live count: {"count": n} open accounts the segment takes today,
    or {"problem": sentence} saying what to fix, or {} while it has no condition."""
    if not (segment or {}).get("rules"):
        return {}
    try:
        q = segment_q(segment, as_of=now or timezone.now())
    except SegmentError as exc:
        return {"problem": str(exc)}
    return {
        "count": Account.objects.filter(q).exclude(status__in=NEVER_ENTER).count(),
        "unscored": unscored_count(segment),
    }


def unscored_count(segment):
    """Open accounts with no score yet, when the segment has a score band condition
    (which never matches them); None otherwise. One COUNT."""
    if not uses_field(segment, "score_band"):
        return None
    scored = AccountScore.objects.filter(account_id=OuterRef("pk"))
    return Account.objects.exclude(status__in=NEVER_ENTER).filter(~Exists(scored)).count()


def sample_accounts(campaign, *, limit=25):
    """A few accounts the preview can be shown for: those entering today first."""
    accounts = list(
        entrants(campaign, exclude_enrolled=False)
        .select_related("debtor")
        .order_by("-placed_at", "id")[:limit]
    )
    return accounts


def _contact_points(debtor_id):
    chosen = {}
    points = ContactPoint.objects.filter(debtor_id=debtor_id).exclude(validity__in=UNUSABLE)
    for cp in points.order_by("-is_primary", "id"):
        chosen.setdefault(cp.kind, cp)
    return chosen


def step_previews(campaign, account, *, now=None):
    """Every step's message per channel (and variant) for `account`, rendered as the
    debtor would receive it, with the gate's verdict at `now`."""
    now = now or timezone.now()
    debtor = account.debtor
    values = rendering.merge_values(
        account=account, debtor=debtor, office=account.office, creditor=account.creditor
    )
    points = _contact_points(debtor.id)
    index = TemplateIndex()
    zone = ZoneInfo(account.office.time_zone)
    today = timezone.localtime(now, zone).date()
    previews = []
    for step in campaign.steps.order_by("position"):
        timing = {}
        if step.wait_event:
            dates = account_event_dates(step.wait_event, [account.id], zone=zone)
            on, skipped = step_day(step, dates.get(account.id), reached_on=today)
            timing = {"on": on, "skipped": skipped}
        variants = [v["key"] for v in step.variants or []] or [""]
        items, attempts = [], []
        for channel in step.channels:
            for variant in variants:
                if channel == "call":
                    items.append({"channel": channel, "variant": variant, "call": True})
                    continue
                template = step_template(
                    step, channel, language=debtor.language, variant=variant, index=index
                )
                if template is not None:
                    subject, body = template.subject, template.body
                else:
                    subject, body = DEFAULT_TEXT.get(channel, ("", ""))
                cp = points.get(CONTACT_KIND[channel])
                attempts.append(
                    Attempt(
                        account_id=account.id,
                        channel=channel,
                        at=now,
                        contact_point_id=cp.id if cp else None,
                        content=content_flags(f"{subject} {body}"),
                    )
                )
                items.append(
                    {
                        "channel": channel,
                        "variant": variant,
                        "template": template,
                        "to": cp.value if cp else "",
                        "subject": subject,
                        "body": body,
                    }
                )
        # One step at a time: a step's messages go out days apart, so they must not
        # count against each other's caps here.
        outcomes = iter(evaluate(attempts, record=False)) if attempts else iter(())
        for item in items:
            if item.get("call"):
                continue
            outcome = next(outcomes)
            disclosures = outcome.disclosures if outcome.outcome != "block" else []
            item["outcome"] = outcome
            item["subject_rendered"] = rendering.render(item["subject"], values)
            item["body_rendered"] = rendering.render(item["body"], values, disclosures=disclosures)
            item["disclosures"] = disclosures
        previews.append({"step": step, "items": items, **timing})
    return previews
