"""Helpers for placement-import tests (also used by tests/recovery/test_isolation.py)."""

from datetime import date, datetime, time
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.imports import services
from accounts.imports.lookups import rows_by_keys
from accounts.imports.models import PlacementImport
from accounts.models import Account
from recovery import tenancy

FILES = Path(__file__).resolve().parent / "files"


def upload_of(content, name="placement.csv"):
    if isinstance(content, str):
        content = content.encode("utf-8")
    return SimpleUploadedFile(name, content)


def fixture_file(name):
    return upload_of((FILES / name).read_bytes(), name)


def import_create(office, creditor, upload, *, user=None, mapping=None, mode="all"):
    """A configured draft import of `upload` (mapping: guessed unless given)."""
    with tenancy.office_context(office.id):
        pi = services.placement_import_create(creditor=creditor, upload=upload, user=user)
        services.placement_import_configure(
            placement_import=pi,
            mapping=mapping or pi.mapping_snapshot,
            mode=mode,
            save_mapping=False,
        )
    return pi


def import_run(office, creditor, upload, **kwargs):
    """Create, configure and run an import; returns the finished import."""
    pi = import_create(office, creditor, upload, **kwargs)
    services.placement_import_run(office_id=office.id, import_id=pi.pk)
    with tenancy.office_context(office.id):
        return PlacementImport.objects.select_related("placement").get(pk=pi.pk)


def csv_text(header, rows, sep=","):
    return "\n".join([sep.join(header), *(sep.join(r) for r in rows)]) + "\n"


def excel_datetime(year, month, day):
    """A date-time as an Excel cell holds it: with no time zone."""
    return datetime.combine(date(year, month, day), time())


def many_like(account, n, prefix="M-"):
    """`n` more accounts of the same creditor and debtor, numbered prefix 1 … n."""
    fields = {f.attname: getattr(account, f.attname) for f in Account._meta.concrete_fields}
    del fields["id"]
    return [
        Account(
            **{**fields, "creditor_reference": f"{prefix}{i}", "office_reference": f"O-{prefix}{i}"}
        )
        for i in range(1, n + 1)
    ]


def probe_plan(creditor, refs):
    """What rows_by_keys finds for these account numbers, and PostgreSQL's plan for it."""
    with CaptureQueriesContext(connection) as queries:
        found = rows_by_keys(
            Account, ("creditor_reference",), ("creditor_reference",), [(r,) for r in refs],
            creditor_id=creditor.pk,
        )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + queries.captured_queries[-1]["sql"])
        return found, "\n".join(line for (line,) in cursor.fetchall())


def descends_the_key(plan):
    """Each account number is found in the (office, creditor, account number) key, not by
    reading every account of the creditor through an index that stops at the creditor."""
    probe = next(line for line in plan.splitlines() if "Index Cond" in line)
    return "creditor_reference" in probe
