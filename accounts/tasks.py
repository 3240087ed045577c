"""Background work for accounts: large placement imports and creditor/vendor files. Thin:
look up, call a service."""

from celery import shared_task

from recovery.tasks import TenantTask


@shared_task(base=TenantTask, acks_late=True)
def placement_import_task(office_id, import_id):
    """Run a queued placement import. A worker killed mid-import leaves its transaction
    uncommitted (nothing written) and the task unacknowledged, so it runs again."""
    from accounts.imports.services import placement_import_run

    placement_import = placement_import_run(office_id=office_id, import_id=import_id)
    return placement_import.status


@shared_task(base=TenantTask, acks_late=True)
def creditor_file_task(office_id, file_id):
    """Apply a queued creditor or vendor file (one transaction: a worker killed midway
    leaves nothing applied, and the redelivered task runs it again)."""
    from accounts.creditor_files.services import creditor_file_run

    return creditor_file_run(office_id=office_id, file_id=file_id).status
