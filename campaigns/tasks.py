"""Periodic reconciliation of messages whose send outcome is unknown (thin: look up,
call `campaigns.reconcile`)."""

from celery import shared_task

from recovery.models import Office
from recovery.tasks import TenantTask, each_active_office


@shared_task
def reconcile_tick():
    """Fan out one `reconcile_office` per active office (beat, every few minutes)."""
    return each_active_office(reconcile_office, "reconcile fan-out: one task per office")


@shared_task(base=TenantTask, atomic=False, acks_late=True)
def reconcile_office(office_id):
    """Look up or flag the office's messages left `sending` (each its own transaction)."""
    from campaigns.reconcile import reconcile_unknown

    office = Office.objects.get(pk=office_id)
    return reconcile_unknown(office=office)


@shared_task(base=TenantTask, acks_late=True)
def dry_run_office(office_id, run_id):
    """Replay a campaign over history (progress in the cache; the report on the row)."""
    from campaigns.builder.dryrun import dry_run_execute
    from campaigns.models import DryRun

    run = DryRun.objects.select_related("campaign__office").get(pk=run_id)
    return dry_run_execute(run=run).status
