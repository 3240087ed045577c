"""Dates a step can wait for: "3 days before the promise-to-pay date", "10 days after
the validation period ends".

Each event is one SQL expression giving an account's date for it (NULL when it has
none), written once here and used by the planner (inside its INSERT … SELECT and
UPDATE, so planning stays set-based), the preview and the dry-run, so all three mean
the same date. Only dates the data model really has are offered.

When a step comes up:
- no date: the step is skipped for that account (the reason shows in preview/dry-run);
- "before" an event already past: skipped too (a reminder of a date gone by helps no one);
- otherwise the step waits until the day (event ± days), then goes out; if that day is
  already behind (a late-set promise, a charge-off years ago) it goes out at once.
Days are counted in the office's own calendar.
"""

from datetime import datetime, time, timedelta

from django.db.models import DateField, DateTimeField
from django.db.models.expressions import RawSQL

from accounts.models import Account

EVENTS = {
    "installment_due": "the next plan installment's due date",
    "promise_due": "the promise-to-pay date",
    "validation_period_end": "the end of the validation period",
    "charge_off": "the charge-off date",
    "last_payment": "the last payment date",
    "placement": "the placement date",
}
# Dates in the future by nature: only these can be waited "before".
FUTURE_EVENTS = ("installment_due", "promise_due", "validation_period_end")
MISSING = {
    "installment_due": "no active payment plan with an installment to come",
    "promise_due": "no open promise to pay",
    "validation_period_end": "no validation notice on record",
    "charge_off": "no charge-off date",
    "last_payment": "no payment on record",
    "placement": "no placement date",
}
PASSED = "the date has already passed"

# {account} and {office}: the SQL naming the account id and office id in the caller.
_SQL = {
    "installment_due": "(SELECT MIN(i.due_date) FROM payments_installment i "
    "JOIN payments_paymentplan pp ON pp.id = i.plan_id AND pp.office_id = i.office_id "
    "WHERE i.office_id = {office} AND pp.account_id = {account} "
    "AND pp.status = 'active' AND i.status = 'scheduled')",
    "promise_due": "(SELECT MIN(p.due_date) FROM payments_promisetopay p "
    "WHERE p.office_id = {office} AND p.account_id = {account} AND p.status = 'open')",
    "validation_period_end": "(SELECT MAX(v.period_ends_on) FROM compliance_validationnotice v "
    "WHERE v.office_id = {office} AND v.account_id = {account} AND v.returned_at IS NULL)",
    "charge_off": "(SELECT x.charge_off_date FROM accounts_account x "
    "WHERE x.office_id = {office} AND x.id = {account})",
    "last_payment": "(SELECT x.last_payment_date FROM accounts_account x "
    "WHERE x.office_id = {office} AND x.id = {account})",
    "placement": "(SELECT x.placed_at FROM accounts_account x "
    "WHERE x.office_id = {office} AND x.id = {account})",
}
# The one event held as a moment, not a day.
DATETIME_EVENTS = {"placement"}


def event_sql(event, *, account, office):
    return _SQL[event].format(account=account, office=office)


def wait_label(step):
    """Plain words for a step's wait: "3 days before the promise-to-pay date"."""
    days = f"{step.wait_days} day{'s' if step.wait_days != 1 else ''}"
    if step.wait_event:
        if not step.wait_days:
            return f"On {EVENTS.get(step.wait_event, step.wait_event)}"
        side = "before" if step.wait_before else "after"
        return f"{days} {side} {EVENTS.get(step.wait_event, step.wait_event)}"
    return f"{days} after the step before" if step.wait_days else "At once"


def wait_check(*, event, before, days):
    """A sentence saying what is wrong with a relative wait, or None."""
    if not event:
        return None
    if event not in EVENTS:
        return f"Unknown date to wait for: “{event}”."
    if before and event not in FUTURE_EVENTS:
        return f"Waiting “before” {EVENTS[event]} is not possible: that date is in the past."
    if days < 0:
        return "The number of days cannot be negative."
    return None


def _day_start(day, zone):
    return datetime.combine(day, time.min, tzinfo=zone)


def step_sql(step, *, today, zone, account, office):
    """(due, due_params, settled, settled_params) for a relative step on `today`:
    `due` holds for the enrollments to plan now; `settled` for those done with the step
    (planned now, or skipped: no date, or a "before" date already past). Those neither
    due nor settled keep waiting."""
    expr = event_sql(step.wait_event, account=account, office=office)
    reach = today + timedelta(days=step.wait_days) if step.wait_before else None
    bound = reach or today - timedelta(days=step.wait_days)
    if step.wait_event in DATETIME_EVENTS:
        upto, upto_params = f"{expr} < %s", [_day_start(bound + timedelta(days=1), zone)]
        not_past, not_past_params = f"{expr} >= %s", [_day_start(today, zone)]
    else:
        upto, upto_params = f"{expr} <= %s", [bound]
        not_past, not_past_params = f"{expr} >= %s", [today]
    due = f"({expr} IS NOT NULL AND {upto}"
    due_params = list(upto_params)
    if step.wait_before:
        due += f" AND {not_past}"
        due_params += not_past_params
    due += ")"
    settled = f"({expr} IS NULL OR {upto})"
    return due, due_params, settled, list(upto_params)


def account_event_dates(event, account_ids, *, zone):
    """{account_id: date} for the accounts that have a date for `event` (one query)."""
    expr = event_sql(
        event, account='"accounts_account"."id"', office='"accounts_account"."office_id"'
    )
    is_moment = event in DATETIME_EVENTS
    field = DateTimeField() if is_moment else DateField()
    rows = (
        Account.objects.filter(id__in=list(account_ids))
        # The SQL is this module's constant; it takes no values from outside.
        .annotate(event_on=RawSQL(expr, [], output_field=field))  # noqa: S611
        .filter(event_on__isnull=False)
        .values_list("id", "event_on")
    )
    return {pk: (on.astimezone(zone).date() if is_moment else on) for pk, on in rows}


def step_day(step, event_on, *, reached_on):
    """(day the step goes out, None) or (None, why it is skipped) for an account whose
    event date is `event_on` (None: it has none) and which reaches the step on
    `reached_on`."""
    if event_on is None:
        return None, MISSING[step.wait_event]
    if step.wait_before:
        if event_on < reached_on:
            return None, PASSED
        return max(reached_on, event_on - timedelta(days=step.wait_days)), None
    return max(reached_on, event_on + timedelta(days=step.wait_days)), None
