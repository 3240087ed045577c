"""Dry-run on history: replay a campaign over the office's last N days.

Which accounts would have entered (the segment as it stood on each day of the window,
for accounts placed and still open then), which messages each step would have sent,
what the compliance gate would have decided at those historical instants — on the facts
it knew then (`known_at="attempt"`, `record=False`: nothing is written) — and what in
fact became of those accounts (paid, or a plan set up, within `outcome_days`).

Set-based: one query per day of the window to find entrants, then per batch of
accounts a constant number of queries (accounts, contact points, promises, payments,
plans, and one gate evaluation). Progress goes to the cache for the page to poll.

Approximations, shown on the page: fields other than "days since" (balance, status,
tags) and the dates that steps wait for (promises, installments …) are read as they are
now; exits replayed are paid, settled and plan (a dispute,
cease or hold shows up as what the gate blocks); variants are assigned by a hash of the
account id, as enrollments do not exist yet.
"""

import logging
from collections import Counter, defaultdict
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db.models import Min, Q
from django.utils import timezone

from accounts.models import Account
from campaigns.builder.events import account_event_dates, step_day
from campaigns.builder.segments import segment_q
from campaigns.builder.variants import variant_for
from campaigns.dispatch import DEFAULT_TEXT
from campaigns.library import TemplateIndex, step_template
from campaigns.planner import CONTACT_KIND
from compliance.content import content_flags
from compliance.gate import Attempt, evaluate
from debtors.models import ContactPoint
from payments.models import Payment, PaymentPlan, PromiseToPay

logger = logging.getLogger(__name__)

MAX_ACCOUNTS = 20_000
BATCH = 500
SEND_HOUR = 10  # local office time the replay sends each step's messages
PROMISE_SKIPS = {"promise_open"}


def progress_key(office_id, run_id):
    return f"campaigns:dry-run:{office_id}:{run_id}"


def progress_get(office_id, run_id):
    return cache.get(progress_key(office_id, run_id)) or {"processed": 0, "total": 0}


def _entry_days(campaign, start, now, zone):
    """{account_id: date it would have entered}: one query per day of the window."""
    entered = {}
    day = start.date()
    while day <= now.date():
        end_of_day = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
        q = segment_q(campaign.entry_segment, as_of=day) & Q(placed_at__lt=end_of_day)
        # Open on that day: not resolved yet, and never one we may not collect.
        q &= Q(resolved_at__isnull=True) | Q(resolved_at__gte=end_of_day)
        q &= ~Q(status="recalled")
        for account_id in Account.objects.filter(q).values_list("id", flat=True):
            entered.setdefault(account_id, day)
        if len(entered) >= MAX_ACCOUNTS:
            break
        day += timedelta(days=1)
    return entered


def _open_at(rows, at):
    return any(
        r.created_at <= at
        and (r.resolved_at is None or r.resolved_at > at)
        and r.status != PromiseToPay.Status.CANCELLED
        for r in rows
    )


def dry_run(*, campaign, days=30, outcome_days=30, now=None, progress=None):
    """Replay the campaign; returns the report (a JSON-able dict)."""
    now = now or timezone.now()
    office = campaign.office
    zone = ZoneInfo(office.time_zone or "UTC")
    start = now - timedelta(days=days)
    steps = list(campaign.steps.order_by("position"))
    exits = set(campaign.exit_conditions or [])
    entered = _entry_days(campaign, start, now, zone)
    ids = sorted(entered)[:MAX_ACCOUNTS]
    index = TemplateIndex()

    report = {
        "window": {"start": start.isoformat(), "end": now.isoformat(), "days": days},
        "accounts": len(ids),
        "capped": len(entered) >= MAX_ACCOUNTS,
        "steps": [
            {
                "position": s.position,
                "wait_days": s.wait_days,
                "wait": s.wait_label,
                "channels": {},
                "skipped": 0,
                # Steps waiting for an account's date: why they were passed over.
                "skipped_why": {},
                "exited": 0,
                "not_yet": 0,
                "calls": 0,
            }
            for s in steps
        ],
        "totals": Counter(),
        "blocked_by_rule": Counter(),
        "outcomes": {"paid": 0, "plan": 0, "neither": 0, "days": outcome_days},
        "examples": [],
    }
    if progress:
        progress(0, len(ids))
    for first in range(0, len(ids), BATCH):
        _replay_batch(
            campaign,
            steps,
            exits,
            ids[first : first + BATCH],
            entered,
            zone,
            now,
            outcome_days,
            index,
            report,
        )
        if progress:
            progress(min(first + BATCH, len(ids)), len(ids))
    report["totals"] = dict(report["totals"])
    report["blocked_by_rule"] = dict(report["blocked_by_rule"].most_common())
    return report


def _replay_batch(campaign, steps, exits, ids, entered, zone, now, outcome_days, index, report):
    accounts = {a.id: a for a in Account.objects.filter(id__in=ids).select_related("debtor")}
    # The dates relative waits count from, as they are now: one query per kind of date.
    event_dates = {
        event: account_event_dates(event, ids, zone=zone)
        for event in {s.wait_event for s in steps if s.wait_event}
    }
    debtor_ids = {a.debtor_id for a in accounts.values()}
    points = {}
    cps = ContactPoint.objects.filter(debtor_id__in=debtor_ids).exclude(
        validity__in=("invalid", "bounced", "returned", "disconnected")
    )
    for cp in cps.order_by("-is_primary", "id"):
        points.setdefault((cp.debtor_id, cp.kind), cp.id)
    promises = defaultdict(list)
    for p in PromiseToPay.objects.filter(account_id__in=ids):
        promises[p.account_id].append(p)
    paid_at = dict(
        Payment.objects.filter(account_id__in=ids, status=Payment.Status.SUCCEEDED)
        .values("account_id")
        .annotate(first=Min("received_at"))
        .values_list("account_id", "first")
    )
    plan_at = dict(
        PaymentPlan.objects.filter(account_id__in=ids)
        .exclude(status__in=[PaymentPlan.Status.PROPOSED, PaymentPlan.Status.CANCELLED])
        .values("account_id")
        .annotate(first=Min("created_at"))
        .values_list("account_id", "first")
    )

    attempts, meta = [], []
    for account_id in ids:
        account = accounts.get(account_id)
        if account is None:
            continue
        entry = datetime.combine(entered[account_id], time(SEND_HOUR), tzinfo=zone)
        exit_at = _exit_at(account, exits, plan_at.get(account_id))
        horizon = entry + timedelta(days=outcome_days)
        paid = paid_at.get(account_id)
        plan = plan_at.get(account_id)
        if paid and entry <= paid <= horizon:
            report["outcomes"]["paid"] += 1
        elif plan and entry <= plan <= horizon:
            report["outcomes"]["plan"] += 1
        else:
            report["outcomes"]["neither"] += 1
        at = entry
        for step, tally in zip(steps, report["steps"], strict=True):
            if step.wait_event:
                on, why = step_day(
                    step, event_dates[step.wait_event].get(account_id), reached_on=at.date()
                )
                if why:
                    tally["skipped_why"][why] = tally["skipped_why"].get(why, 0) + 1
                    continue
                at = max(at, datetime.combine(on, time(SEND_HOUR), tzinfo=zone))
            else:
                at += timedelta(days=step.wait_days)
            if at > now:
                tally["not_yet"] += 1
                break
            if exit_at is not None and exit_at <= at:
                tally["exited"] += 1
                break
            skips = set((step.conditions or {}).get("skip_if", []))
            if skips & PROMISE_SKIPS and _open_at(promises[account_id], at):
                tally["skipped"] += 1
                continue
            variant = variant_for(account_id, step.variants)
            for channel in step.channels:
                if channel == "call":
                    tally["calls"] += 1
                    report["totals"]["call tasks"] += 1
                    continue
                template = step_template(
                    step, channel, language=account.debtor.language, variant=variant, index=index
                )
                subject, body = (
                    (template.subject, template.body) if template else DEFAULT_TEXT[channel]
                )
                cp = points.get((account.debtor_id, CONTACT_KIND[channel]))
                attempts.append(
                    Attempt(
                        account_id=account_id,
                        channel=channel,
                        at=at,
                        contact_point_id=cp,
                        content=content_flags(f"{subject} {body}"),
                    )
                )
                meta.append((tally, channel, account))
    if not attempts:
        return
    outcomes = evaluate(attempts, record=False, known_at="attempt")
    for (tally, channel, account), outcome in zip(meta, outcomes, strict=True):
        counts = tally["channels"].setdefault(channel, {"send": 0, "defer": 0, "block": 0})
        kind = {"allow": "send", "defer": "defer", "block": "block"}[outcome.outcome]
        counts[kind] += 1
        report["totals"][kind] += 1
        if kind == "block":
            for rule in outcome.rule_ids:
                report["blocked_by_rule"][rule] += 1
            if len(report["examples"]) < 20:
                report["examples"].append(
                    {
                        "account_id": account.id,
                        "reference": account.office_reference,
                        "step": tally["position"],
                        "channel": channel,
                        "at": outcome.attempt.at.isoformat(),
                        "rules": outcome.rule_ids,
                        "why": outcome.explanation,
                    }
                )


def _exit_at(account, exits, plan_created):
    """When the account would have left the campaign (paid, settled, plan), or None."""
    moments = []
    if account.resolved_at and (
        ("paid" in exits and account.status == "paid")
        or ("settled" in exits and account.status == "settled")
    ):
        moments.append(account.resolved_at)
    if "plan" in exits and plan_created:
        moments.append(plan_created)
    return min(moments) if moments else None


def dry_run_execute(*, run, progress_ttl=3600):
    """Run a stored DryRun to completion, reporting progress through the cache."""
    from campaigns.models import DryRun

    key = progress_key(run.office_id, run.id)

    def report(processed, total):
        cache.set(key, {"processed": processed, "total": total}, progress_ttl)

    run.status = DryRun.Status.RUNNING
    run.save(update_fields=["status"])
    try:
        result = dry_run(
            campaign=run.campaign, days=run.days, outcome_days=run.outcome_days, progress=report
        )
    except Exception as exc:
        run.status, run.error = DryRun.Status.FAILED, str(exc)[:1000]
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        logger.exception("dry-run failed", extra={"dry_run_id": run.id})
        return run
    run.status, run.result = DryRun.Status.DONE, result
    run.total = run.processed = result["accounts"]
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "result", "total", "processed", "finished_at"])
    return run
