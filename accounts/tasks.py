"""Background work for accounts: large placement imports. Thin: look up, call a service."""

from celery import shared_task

from recovery.tasks import TenantTask


@shared_task(base=TenantTask, acks_late=True)
def placement_import_task(office_id, import_id):
    """Run a queued placement import. A worker killed mid-import leaves its transaction
    uncommitted (nothing written) and the task unacknowledged, so it runs again."""
    from accounts.imports.services import placement_import_run

    placement_import = placement_import_run(office_id=office_id, import_id=import_id)
    return placement_import.status
