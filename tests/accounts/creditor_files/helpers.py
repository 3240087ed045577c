"""Helpers for creditor-file tests (also used by tests/recovery/test_isolation.py)."""

from accounts.creditor_files import services
from recovery import tenancy
from tests.accounts.imports.helpers import csv_text, upload_of


def file_apply(office, creditor, kind, header, rows, *, mode="all", user=None, name=None):
    """Apply a CSV built from `header` and `rows`; returns the CreditorFile."""
    upload = upload_of(csv_text(header, rows), name or f"{kind}.csv")
    with tenancy.office_context(office.id):
        return services.creditor_file_apply(
            creditor=creditor, kind=kind, upload=upload, mode=mode, user=user
        )
