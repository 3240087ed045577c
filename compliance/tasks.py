"""Daily compliance work on the beat (thin: list the offices, call the service)."""

from celery import shared_task

from recovery import tenancy
from recovery.models import Office
from recovery.tasks import TenantTask


@shared_task
def erasures_tick():
    """Fan out one `erasures_office` per active office (beat, daily)."""
    with tenancy.all_offices("erasure fan-out: one task per office"):
        office_ids = list(Office.objects.filter(is_active=True).values_list("id", flat=True))
    for office_id in office_ids:
        erasures_office.delay(office_id)
    return len(office_ids)


@shared_task(base=TenantTask, atomic=False, acks_late=True)
def erasures_office(office_id):
    """Erase what no retention duty or open claim keeps any more (EU-GDPR); each
    request in its own transaction."""
    from compliance.services import erasures_due_run

    return erasures_due_run()
