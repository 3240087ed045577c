"""Daily compliance work on the beat (thin: list the offices, call the service)."""

from celery import shared_task

from recovery.tasks import TenantTask, each_active_office


@shared_task
def erasures_tick():
    """Fan out one `erasures_office` per active office (beat, daily)."""
    return each_active_office(erasures_office, "erasure fan-out: one task per office")


@shared_task(base=TenantTask, atomic=False, acks_late=True)
def erasures_office(office_id):
    """Erase what no retention duty or open claim keeps any more (EU-GDPR); each
    request in its own transaction."""
    from compliance.services import erasures_due_run

    return erasures_due_run()
