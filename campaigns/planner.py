"""Plan: write due campaign steps into the message outbox, set-based.

For each active step (a campaign has a handful) and each of its channels, one
`INSERT … SELECT` writes a `Message` per enrollment whose next step it is and whose time
has come, with the debtor's contact point for that channel; the outbox's unique key
(enrollment, step, channel, attempt) makes a second tick, a crash between statements,
or two beats racing a no-op. Then one `UPDATE` per step moves those enrollments on.
Queries grow with the number of steps, never with the number of accounts.

A step that waits for a date of the account's ("3 days before the promise-to-pay date",
campaigns.builder.events) is planned by the same statements: the event's date is a
subquery in them, so an enrollment reaching such a step is planned on the day, skipped
when the account has no such date, and otherwise left waiting.

A step missed during an outage is simply due now: it is planned once, late; whether it
may still go out is the compliance gate's call at send time.
"""

from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from campaigns.builder.events import step_sql
from campaigns.builder.variants import variant_case_sql
from campaigns.models import Campaign, Enrollment, Step

CONTACT_KIND = {"email": "email", "sms": "phone", "call": "phone", "letter": "address"}

# Table names are constants; every value is a parameter.
_INSERT = """
INSERT INTO campaigns_message
    (office_id, enrollment_id, step_id, attempt, account_id, debtor_id, contact_point_id,
     channel, status, due_at, variant, created_at, provider, provider_message_id,
     provider_status, error_code)
SELECT e.office_id, e.id, e.next_step_id, 1, e.account_id, a.debtor_id,
       (SELECT cp.id FROM debtors_contactpoint cp
         WHERE cp.office_id = e.office_id AND cp.debtor_id = a.debtor_id AND cp.kind = %s
           AND cp.validity NOT IN ('invalid', 'bounced', 'returned', 'disconnected')
           AND cp.relation = ''
           AND (%s <> 'sms' OR cp.phone_type <> 'landline')
         ORDER BY cp.is_primary DESC, cp.id LIMIT 1),
       %s, 'planned', e.next_due_at, {variant}, %s, '', '', '', ''
FROM campaigns_enrollment e
JOIN accounts_account a ON a.id = e.account_id AND a.office_id = e.office_id
WHERE e.office_id = %s AND e.status = 'active' AND e.next_step_id = %s
  AND e.next_due_at <= %s {skip} {when}
ON CONFLICT DO NOTHING
"""
# A step's "skip if …" conditions: the account is passed over for that step (the
# enrollment still moves on).
SKIP_SQL = {
    "promise_open": "AND NOT EXISTS (SELECT 1 FROM payments_promisetopay p WHERE "
    "p.office_id = e.office_id AND p.account_id = e.account_id AND p.status = 'open')",
    "plan_proposed": "AND NOT EXISTS (SELECT 1 FROM payments_paymentplan pp WHERE "
    "pp.office_id = e.office_id AND pp.account_id = e.account_id AND pp.status = 'proposed')",
}


def _relative(step, now):
    """The event conditions of a step that waits for a date, on the office's today."""
    zone = ZoneInfo(step.campaign.office.time_zone)
    return step_sql(step, today=timezone.localtime(now, zone).date(), zone=zone,
                    account="{e}.account_id", office="{e}.office_id")  # fmt: skip


def _insert_sql(step, now):
    variant, params = variant_case_sql(step.variants)
    conditions = (step.conditions or {}).get("skip_if", [])
    skip = " ".join(SKIP_SQL[c] for c in conditions if c in SKIP_SQL)
    when, when_params = "", []
    if step.wait_event:
        due, when_params, _, _ = _relative(step, now)
        when = "AND " + due.format(e="e")
    return _INSERT.format(variant=variant, skip=skip, when=when), params, when_params


@transaction.atomic
def plan_due(*, office_id, now=None):
    """Plan every due step of the office's active campaigns. Returns messages written."""
    now = now or timezone.now()
    # A retiring version still carries the accounts that started it to the end.
    running = [Campaign.Status.ACTIVE, Campaign.Status.RETIRING]
    steps = list(
        Step.objects.filter(campaign__status__in=running)
        .select_related("campaign__office")
        .order_by("campaign_id", "position")
    )
    if not steps:
        return 0
    following = {}
    for step, nxt in zip(steps, [*steps[1:], None], strict=True):
        following[step.id] = nxt if nxt and nxt.campaign_id == step.campaign_id else None
    written = 0
    with connection.cursor() as cursor:
        for step in steps:
            for channel in step.channels:
                kind = CONTACT_KIND.get(channel, channel)
                sql, variant_params, when_params = _insert_sql(step, now)
                params = [kind, channel, channel, *variant_params, now, office_id, step.id, now,
                          *when_params]  # fmt: skip
                cursor.execute(sql, params)
                written += max(cursor.rowcount, 0)
    # Last step first: an enrollment moved on to a step that is due at once must wait
    # for the next tick to be planned there, not be moved past it unplanned.
    for step in reversed(steps):
        due = Enrollment.objects.filter(
            status=Enrollment.Status.ACTIVE, next_step_id=step.id, next_due_at__lte=now
        )
        if step.wait_event:
            # Still waiting for the day: not done with this step yet.
            _, _, settled, settled_params = _relative(step, now)
            table = Enrollment._meta.db_table
            due = due.filter(
                # Constant SQL (campaigns.builder.events); every value is a parameter.
                RawSQL(settled.format(e=table), settled_params, output_field=BooleanField())  # noqa: S611
            )
        nxt = following[step.id]
        if nxt is None:
            finished = list(due.values_list("id", flat=True))
            due.update(status=Enrollment.Status.COMPLETED, next_step=None, next_due_at=None,
                       exited_at=now, exit_reason="completed")  # fmt: skip
            if finished and step.campaign.escalation:
                from campaigns.services import escalate_completed

                escalate_completed(campaign=step.campaign, enrollment_ids=finished, now=now)
        else:
            due.update(next_step=nxt, next_due_at=nxt.due_from(now))
    return written


@transaction.atomic
def enroll(*, campaign, accounts, now=None):
    """Enroll accounts (those not enrolled yet) at the campaign's first step."""
    now = now or timezone.now()
    first = campaign.steps.order_by("position").first()
    if first is None:
        raise ValueError("A campaign needs at least one step before accounts can enter it.")
    existing = set(
        Enrollment.objects.filter(campaign=campaign).values_list("account_id", flat=True)
    )
    rows = [
        Enrollment(
            office_id=campaign.office_id,
            campaign=campaign,
            account=account,
            next_step=first,
            next_due_at=first.due_from(now),
            enrolled_at=now,
        )  # fmt: skip
        for account in accounts
        if account.id not in existing
    ]
    return Enrollment.objects.bulk_create(rows, batch_size=2000)
