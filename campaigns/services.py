"""The verbs of the campaign builder: save (with versioning), activate, pause, resume;
save a template; let matching accounts enter; take out accounts that hit an exit;
escalate accounts that finished the last step. One transaction each.

Versioning: a campaign that has ever been active, or has accounts in it, is never
edited in place. Saving it creates the next version — a new `Campaign` row with
`previous_version` pointing back and `version` one higher — as a draft. Activating that
draft moves the version before it to `retiring`: it takes no new accounts, and the
accounts in it finish the version they started (the planner still plans its steps).
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import Account, AccountStatus
from campaigns.builder.events import wait_check
from campaigns.builder.segments import segment_check, segment_q
from campaigns.builder.variants import variants_check
from campaigns.library import step_template_id, template_review
from campaigns.models import Campaign, Enrollment, MessageTemplate, Step
from campaigns.rendering import PLACEHOLDER
from compliance.gate import Attempt, evaluate
from compliance.models import Dispute, Hold
from payments.models import PaymentPlan
from recovery.models import WorkItem

EXITS = {
    "paid": "Paid in full",
    "settled": "Settled",
    "plan": "Payment plan active",
    "dispute": "Dispute",
    "cease": "Cease communication",
    "hold": "On hold",
}
SKIP_CONDITIONS = {
    "promise_open": "a promise to pay is open",
    "plan_proposed": "a payment plan is awaiting approval",
}
ESCALATIONS = {
    "": "Nothing: the account simply finishes",
    "campaign": "Another campaign",
    "queue": "An agent queue",
    "legal": "Legal review (refused by compliance for time-barred debt)",
}
STEP_CHANNELS = ("email", "sms", "letter", "call")
# Never collect on these (F-PAID), whatever the segment says.
NEVER_ENTER = {
    AccountStatus.PAID,
    AccountStatus.SETTLED,
    AccountStatus.CLOSED,
    AccountStatus.RECALLED,
}
RUNNING = (Campaign.Status.ACTIVE, Campaign.Status.RETIRING)


# --- reading a campaign's family -------------------------------------------------------


def lineage_ids(campaign):
    """Ids of every version of this campaign (earlier and later)."""
    ids, frontier = {campaign.id}, [campaign.id]
    while frontier:
        prev = Campaign.objects.filter(id__in=frontier, previous_version__isnull=False)
        later = Campaign.objects.filter(previous_version_id__in=frontier)
        found = set(prev.values_list("previous_version_id", flat=True))
        found |= set(later.values_list("id", flat=True))
        frontier = list(found - ids)
        ids |= found
    return ids


def next_draft(campaign):
    return Campaign.objects.filter(previous_version=campaign, status=Campaign.Status.DRAFT).first()


def is_locked(campaign):
    """True when saving must create a new version instead of editing in place."""
    return campaign.activated_at is not None or campaign.enrollments.exists()


# --- exits and entry, as querysets -----------------------------------------------------


def _hold_active(now, **filters):
    return (
        Hold.objects.filter(effective_from__lte=now, **filters)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=now))
        .filter(
            Q(account_id=OuterRef("pk")) | Q(account__isnull=True, debtor_id=OuterRef("debtor_id"))
        )
    )


def exit_q(kind, *, now):
    """The accounts that must leave a campaign for the exit `kind` now."""
    if kind == "paid":
        return Q(status=AccountStatus.PAID)
    if kind == "settled":
        return Q(status=AccountStatus.SETTLED)
    if kind == "plan":
        active = PaymentPlan.objects.filter(
            account_id=OuterRef("pk"), status=PaymentPlan.Status.ACTIVE
        )
        return Q(status=AccountStatus.IN_PLAN) | Q(Exists(active))
    if kind == "dispute":
        open_dispute = Dispute.objects.filter(
            account_id=OuterRef("pk"), status__in=[Dispute.Status.OPEN]
        )
        return Q(status=AccountStatus.DISPUTED) | Q(Exists(open_dispute))
    if kind == "cease":
        return Q(Exists(_hold_active(now, kind=Hold.Kind.CEASE)))
    if kind == "hold":
        return Q(status=AccountStatus.ON_HOLD) | Q(Exists(_hold_active(now)))
    raise ValueError(f"Unknown exit {kind!r}")


def entrants(campaign, *, as_of=None, exclude_enrolled=True, segment=None):
    """The accounts that would enter the campaign on `as_of` (today by default): in the
    segment, open, not at an exit, and not in any version of this campaign already.
    `segment` replaces the compiled segment (a Q), e.g. "matches on some coming day"."""
    now = timezone.now()
    if segment is None:
        segment = segment_q(campaign.entry_segment, as_of=as_of or now)
    q = segment & ~Q(status__in=NEVER_ENTER)
    for kind in campaign.exit_conditions or []:
        q &= ~exit_q(kind, now=now)
    accounts = Account.objects.filter(q)
    if exclude_enrolled:
        enrolled = Enrollment.objects.filter(
            campaign_id__in=lineage_ids(campaign), account_id=OuterRef("pk")
        )
        accounts = accounts.filter(~Exists(enrolled))
    return accounts


# --- saving ----------------------------------------------------------------------------


def campaign_spec_check(spec):
    """Everything wrong with a campaign spec, as {field: [sentences]}."""
    errors = {}
    if problem := segment_check(spec.get("entry_segment") or {}):
        errors.setdefault("entry_segment", []).append(problem)
    unknown = set(spec.get("exit_conditions") or []) - set(EXITS)
    if unknown:
        errors.setdefault("exit_conditions", []).append(f"Unknown exits: {sorted(unknown)}")
    escalation = spec.get("escalation") or {}
    if escalation.get("kind") == "campaign" and not escalation.get("campaign_id"):
        errors.setdefault("escalation", []).append("Choose the campaign to move accounts to.")
    if escalation.get("kind") == "queue" and not escalation.get("queue"):
        errors.setdefault("escalation", []).append("Name the agent queue.")
    for number, step in enumerate(spec.get("steps") or [], start=1):
        if not step.get("channels"):
            errors.setdefault("steps", []).append(f"Step {number}: choose at least one channel.")
        if problem := variants_check(step.get("variants")):
            errors.setdefault("steps", []).append(f"Step {number}: {problem}")
        problem = wait_check(
            event=step.get("wait_event"),
            before=step.get("wait_before"),
            days=int(step.get("wait_days") or 0),
        )
        if problem:
            errors.setdefault("steps", []).append(f"Step {number}: {problem}")
    return errors


def _write_steps(campaign, steps):
    Step.objects.bulk_create(
        Step(
            office_id=campaign.office_id,
            campaign=campaign,
            position=position,
            wait_days=int(step.get("wait_days") or 0),
            wait_event=step.get("wait_event") or "",
            wait_before=bool(step.get("wait_event") and step.get("wait_before")),
            channels=list(step["channels"]),
            templates={k: int(v) for k, v in (step.get("templates") or {}).items() if v},
            conditions=step.get("conditions") or {},
            variants=step.get("variants") or [],
        )
        for position, step in enumerate(steps, start=1)
    )


@transaction.atomic
def campaign_save(*, campaign=None, spec):
    """Create a campaign, edit a draft in place, or create the next version of one that
    has run. `spec`: name, entry_segment, exit_conditions, escalation, steps. Returns the
    campaign that now holds the spec."""
    errors = campaign_spec_check(spec)
    if errors:
        raise ValidationError(errors)
    fields = {
        "name": spec["name"].strip(),
        "entry_segment": spec.get("entry_segment") or {},
        "exit_conditions": list(spec.get("exit_conditions") or []),
        "escalation": spec.get("escalation") or {},
    }
    if campaign is not None and is_locked(campaign):
        draft = next_draft(campaign)
        if draft is not None:
            campaign = draft  # one pending version at a time: keep editing it
        else:
            versions = Campaign.objects.filter(id__in=lineage_ids(campaign))
            top = max(versions.values_list("version", flat=True))
            campaign = Campaign.objects.create(
                version=top + 1,
                previous_version=campaign,
                status=Campaign.Status.DRAFT,
                **fields,
            )
            _write_steps(campaign, spec.get("steps") or [])
            return campaign
    if campaign is None:
        campaign = Campaign.objects.create(status=Campaign.Status.DRAFT, **fields)
    else:
        for name, value in fields.items():
            setattr(campaign, name, value)
        campaign.save()
        campaign.steps.all().delete()
    _write_steps(campaign, spec.get("steps") or [])
    return campaign


def _uses(template, field):
    text = f"{template.subject or ''}\n{template.body or ''}"
    return any(name == field for name in PLACEHOLDER.findall(text))


def activation_problems(campaign):
    """Sentences that stop a campaign going live (empty when it may)."""
    problems = []
    steps = list(campaign.steps.all())
    if not steps:
        problems.append("Add at least one step.")
    if problem := segment_check(campaign.entry_segment):
        problems.append(problem)
    index = {t.id: t for t in MessageTemplate.objects.all()}
    for step in steps:
        ids = [*(step.templates or {}).values()]
        for variant in step.variants or []:
            ids.extend((variant.get("templates") or {}).values())
        for template_id in ids:
            template = index.get(int(template_id))
            if template is None:
                problems.append(f"Step {step.position}: a chosen template no longer exists.")
                continue
            review = template_review(
                subject=template.subject, body=template.body, channel=template.channel
            )
            for error in review["errors"]:
                problems.append(f"Step {step.position}, “{template.name}”: {error}")
            if not campaign.office.public_phone and _uses(template, "office_phone"):
                problems.append(
                    f"Step {step.position}, “{template.name}”: the message gives the office's "
                    "phone number, and none is on file. Add it in the office settings, or "
                    "take {{ office_phone }} out of the template."
                )
        if "letter" in step.channels and not step_template_id(step, "letter"):
            problems.append(f"Step {step.position}: choose a letter template.")
        if problem := variants_check(step.variants):
            problems.append(f"Step {step.position}: {problem}")
    return problems


@transaction.atomic
def campaign_activate(*, campaign, now=None):
    now = now or timezone.now()
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status not in (Campaign.Status.DRAFT,):
        raise ValidationError("Only a draft can be activated; resume a paused campaign.")
    problems = activation_problems(campaign)
    if problems:
        raise ValidationError(problems)
    # Earlier versions stop taking accounts; the accounts in them finish there.
    Campaign.objects.filter(
        id__in=lineage_ids(campaign) - {campaign.id},
        status__in=[Campaign.Status.ACTIVE, Campaign.Status.PAUSED],
    ).update(status=Campaign.Status.RETIRING)
    campaign.status = Campaign.Status.ACTIVE
    campaign.activated_at = now
    campaign.save(update_fields=["status", "activated_at"])
    return campaign


@transaction.atomic
def campaign_pause(*, campaign):
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != Campaign.Status.ACTIVE:
        raise ValidationError("Only an active campaign can be paused.")
    campaign.status = Campaign.Status.PAUSED
    campaign.save(update_fields=["status"])
    return campaign


@transaction.atomic
def campaign_resume(*, campaign):
    """Steps that fell due while paused are planned once, late, on the next tick."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != Campaign.Status.PAUSED:
        raise ValidationError("Only a paused campaign can be resumed.")
    campaign.status = Campaign.Status.ACTIVE
    campaign.save(update_fields=["status"])
    return campaign


@transaction.atomic
def template_save(*, template=None, name, channel, language, subject, body):
    """Create or edit a template. Merge-field errors refuse the save; content problems
    (e.g. overshadowing) are shown as warnings and stop no one here — the gate blocks
    the flagged content where the law forbids it."""
    review = template_review(subject=subject, body=body, channel=channel)
    if review["errors"]:
        raise ValidationError({"body": review["errors"]})
    template = template or MessageTemplate()
    template.name, template.channel, template.language = name.strip(), channel, language
    template.subject, template.body = subject, body
    clash = MessageTemplate.objects.filter(name=template.name, channel=channel, language=language)
    if clash.exclude(pk=template.pk).exists():
        raise ValidationError(
            {"name": f"There is already a {language.upper()} {channel} template with this name."}
        )
    template.save()
    return template


# --- the daily work: enter, exit, escalate ----------------------------------------------

# "WHERE true": SQLite (the demo) needs it to tell ON CONFLICT from a join's ON.
_ENROLL = """
INSERT INTO campaigns_enrollment
    (office_id, campaign_id, account_id, status, next_step_id, next_due_at, variant,
     enrolled_at, exit_reason)
SELECT %s, %s, m.id, 'active', %s, %s, '', %s, ''
FROM ({select}) AS m
WHERE true
ON CONFLICT DO NOTHING
"""


@transaction.atomic
def campaign_entries_run(*, now=None):
    """Let the accounts that match each active campaign's segment today enter it: one
    `INSERT … SELECT` per campaign, whatever the number of accounts."""
    now = now or timezone.now()
    entered = 0
    campaigns = Campaign.objects.filter(status=Campaign.Status.ACTIVE).exclude(entry_segment={})
    for campaign in campaigns:
        first = campaign.steps.order_by("position").first()
        if first is None or not (campaign.entry_segment or {}).get("rules"):
            continue
        select, params = entrants(campaign, as_of=now).values("id").query.sql_with_params()
        due = first.due_from(now)
        with connection.cursor() as cursor:
            cursor.execute(
                _ENROLL.format(select=select),
                [campaign.office_id, campaign.id, first.id, due, now, *params],
            )
            entered += max(cursor.rowcount, 0)
    return entered


@transaction.atomic
def enrollments_exit_matching(*, now=None):
    """Take accounts out of running campaigns when they hit one of its exits: one UPDATE
    per (exit, campaign family), never a loop over accounts."""
    now = now or timezone.now()
    left = 0
    by_exits = {}
    for campaign in Campaign.objects.filter(status__in=RUNNING + (Campaign.Status.PAUSED,)):
        for kind in campaign.exit_conditions or []:
            by_exits.setdefault(kind, []).append(campaign.id)
    for kind, campaign_ids in by_exits.items():
        left += Enrollment.objects.filter(
            campaign_id__in=campaign_ids,
            status=Enrollment.Status.ACTIVE,
            account__in=Account.objects.filter(exit_q(kind, now=now)),
        ).update(status=Enrollment.Status.EXITED, exited_at=now, exit_reason=kind)
    return left


def escalate_completed(*, campaign, enrollment_ids, now):
    """What happens to accounts that finished the campaign's last step."""
    escalation = campaign.escalation or {}
    kind = escalation.get("kind")
    if not kind or not enrollment_ids:
        return 0
    account_ids = list(
        Enrollment.objects.filter(id__in=enrollment_ids).values_list("account_id", flat=True)
    )
    if kind == "campaign":
        target = Campaign.objects.filter(
            pk=escalation.get("campaign_id"), status=Campaign.Status.ACTIVE
        ).first()
        if target is None:
            return 0
        from campaigns.planner import enroll

        return len(
            enroll(campaign=target, accounts=Account.objects.filter(id__in=account_ids), now=now)
        )
    if kind == "queue":
        title = f"{escalation.get('queue')}: finished “{campaign.name}”"
        rows = [
            WorkItem(
                office_id=campaign.office_id,
                kind=WorkItem.Kind.FOLLOW_UP,
                title=title[:200],
                account_id=a,
                due_at=now,
            )
            for a in account_ids
        ]
        return len(WorkItem.objects.bulk_create(rows))
    if kind == "legal":
        # The compliance gate decides (F-TIMEBAR, SCRA, holds …); its decisions are kept.
        attempts = [Attempt(account_id=a, channel="legal", at=now) for a in account_ids]
        outcomes = evaluate(attempts)
        rows = [
            WorkItem(
                office_id=campaign.office_id,
                kind=WorkItem.Kind.REVIEW,
                due_at=now,
                title=f"Legal review after “{campaign.name}”"[:200],
                account_id=o.attempt.account_id,
            )
            for o in outcomes
            if o.outcome == "allow"
        ]
        return len(WorkItem.objects.bulk_create(rows))
    return 0


# Up to this many accounts the dry-run runs in the request; more go to a worker.
DRY_RUN_SYNC_LIMIT = 5_000


def dry_run_start(*, campaign, days, outcome_days=30, requested_by=None):
    """Create a dry-run; run it now when it is small, else queue it for a worker (the
    page polls its progress)."""
    from campaigns.builder.dryrun import dry_run_execute
    from campaigns.models import DryRun
    from campaigns.tasks import dry_run_office

    run = DryRun.objects.create(
        campaign=campaign, days=days, outcome_days=outcome_days, requested_by=requested_by
    )
    start = timezone.now() - timedelta(days=days)
    estimate = Account.objects.filter(
        segment_q(campaign.entry_segment, as_of=start) | segment_q(campaign.entry_segment)
    ).count()
    if estimate <= DRY_RUN_SYNC_LIMIT:
        return dry_run_execute(run=run)
    transaction.on_commit(lambda: dry_run_office.delay(campaign.office_id, run.id))
    return run
