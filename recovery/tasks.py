"""The Celery task base class that carries the office, and the beat tick.

Every tenant task takes `office_id` first; `TenantTask` runs it inside one transaction
with that office active. The beat tick is the one place that fans out across offices.
"""

import logging

from celery import Task, shared_task
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from recovery import tenancy
from recovery.models import Office

logger = logging.getLogger(__name__)

BEAT_HEARTBEAT_KEY = "beat:last_tick"


class TenantTask(Task):
    """Runs `run(office_id, …)` with the office active: by default in one transaction.

    A task that talks to a provider between database steps (dispatch) sets
    `atomic=False`: the office is then in context and each of its own
    `tenancy.office_context` blocks is a transaction of its own."""

    abstract = True
    atomic = True

    def __call__(self, office_id, *args, **kwargs):
        if self.atomic:
            with transaction.atomic(), tenancy.office_context(office_id):
                return super().__call__(office_id, *args, **kwargs)
        with tenancy.office_scope(office_id):
            return super().__call__(office_id, *args, **kwargs)


def each_active_office(task, reason):
    """Queue `task(office_id)` once per active office (a beat fan-out: the one kind of
    work that starts across offices). Returns how many were queued."""
    with tenancy.all_offices(reason):
        office_ids = list(Office.objects.filter(is_active=True).values_list("id", flat=True))
    for office_id in office_ids:
        task.delay(office_id)
    return len(office_ids)


@shared_task
def beat_tick():
    """Fan out one `office_tick` per active office; record that the clock is alive."""
    cache.set(BEAT_HEARTBEAT_KEY, timezone.now().isoformat(), timeout=None)
    return each_active_office(office_tick, "beat fan-out: one task per office")


@shared_task(base=TenantTask)
def office_tick(office_id):
    """Per-office periodic work: plan due campaign steps into the outbox, count overdue
    work, then queue the dispatch of what is due."""
    from campaigns.planner import plan_due
    from campaigns.services import campaign_entries_run, enrollments_exit_matching
    from recovery.services import work_items_escalate_overdue

    # Accounts that hit an exit leave first; then matching accounts enter; then plan.
    enrollments_exit_matching()
    campaign_entries_run()
    planned = plan_due(office_id=office_id)
    overdue = work_items_escalate_overdue(office_id=office_id)
    # Sending happens outside this task's transaction, after it commits.
    transaction.on_commit(lambda: dispatch_office.delay(office_id))
    # Plans, autopay and promises: once an hour is plenty (the sweep is idempotent).
    if cache.add(f"money_sweep:{office_id}:{timezone.now():%Y%m%d%H}", 1, timeout=3600):
        from payments.tasks import money_sweep_office

        transaction.on_commit(lambda: money_sweep_office.delay(office_id))
    return {"planned": planned, "overdue_work": overdue}


@shared_task(base=TenantTask, atomic=False, acks_late=True)
def dispatch_office(office_id):
    """Send the office's due messages (each step its own transaction)."""
    from campaigns.dispatch import dispatch_due

    office = Office.objects.get(pk=office_id)
    return dispatch_due(office=office)
