"""bench import: import an N-row placement CSV end to end, against PostgreSQL's COPY of
exactly the rows the import wrote.

    python -m bench import --rows 100000        (or --scale 0.1; full scale 1,000,000)

The product: `placement_import_create` (checksum, stored file, headers), the column
mapping guessed from the headers, and `placement_import_run` in "valid rows only" mode —
parse, validate, match debtors, write debtors, references, contact points with time
zones, accounts, opening ledger entries and "placed" events, commit. The file (see
`bench.placement_file`) is written to a temporary directory first, by a separate
process, so its making is neither timed nor in the peak memory.

The baseline, in the same run: every row the import wrote (all its tables) is exported,
then loaded with `COPY FROM` into empty tables made `LIKE` the real ones `INCLUDING ALL`
(same columns, defaults, checks and indexes; no row-level security, no foreign keys),
and committed. Peak memory is this process's maximum RSS after the import (Django
included), before the baseline runs; the import's child processes (the one reading the
file ahead, the ZIP-table helper) are reported beside it.

A new office per run on the bench database (default `recovery_bench_import`); its rows
are deleted afterwards unless `--keep`.
"""

import argparse
import multiprocessing
import os
import resource
import shutil
import tempfile
import time

FULL_SCALE = 1_000_000
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/recovery_bench_import"
# What an import writes, in the order the baseline loads it.
TABLES = (
    "debtors.Debtor", "debtors.DebtorReference", "debtors.ContactPoint", "accounts.Account",
    "accounts.Transaction", "accounts.Event", "accounts.PlacementMatch", "recovery.WorkItem",
)  # fmt: skip


def _say(line):
    print(line, flush=True)


def _rss_mb(who=resource.RUSAGE_SELF):
    return resource.getrusage(who).ru_maxrss / 1024


def make_file(path, rows, seed):
    """Write the placement file in a child process (its memory is not the import's)."""
    from bench.placement_file import write_placement_file

    child = multiprocessing.get_context("spawn").Process(
        target=write_placement_file, args=(path, rows), kwargs={"seed": seed}
    )
    child.start()
    child.join()
    if child.exitcode:
        raise RuntimeError(f"bench import: making the file failed ({child.exitcode})")


def _scene(stamp):
    from accounts.models import Creditor
    from recovery import tenancy
    from recovery.models import Membership, Office, Role, User

    slug = f"bench-import-{stamp}"
    office = Office.objects.create(name=f"Bench Import {stamp}", slug=slug)
    user = User.objects.create(email=f"manager@{slug}.bench.example", full_name="Manager")
    Membership.objects.create(user=user, office=office, role=Role.MANAGER)
    with tenancy.office_context(office.id):
        creditor = Creditor.objects.create(name="Bench Placement Bank", reference="BPB")
    return office, creditor, user


def run_import(office, creditor, user, path):
    from django.core.files import File

    from accounts.imports import services
    from accounts.imports.models import PlacementImport
    from recovery import tenancy

    with tenancy.office_context(office.id), open(path, "rb") as fh:
        pi = services.placement_import_create(
            creditor=creditor, upload=File(fh, name=os.path.basename(path)), user=user
        )
        services.placement_import_configure(
            placement_import=pi,
            mapping=pi.mapping_snapshot,
            mode=PlacementImport.Mode.VALID_ONLY,
            save_mapping=False,
        )
    return services.placement_import_run(office_id=office.id, import_id=pi.pk)


def baseline_copy(office_id, workdir):
    """Seconds to COPY the office's rows of every table in TABLES into empty look-alike
    tables and commit; and the rows per table."""
    from django.apps import apps
    from django.db import connection, transaction

    from recovery import tenancy

    counts, files = {}, []
    with tenancy.office_context(office_id), connection.cursor() as cursor:
        for label in TABLES:
            table = apps.get_model(label)._meta.db_table
            path = os.path.join(workdir, f"{table}.copy")
            with open(path, "wb") as fh:
                cursor.cursor.copy_expert(
                    f"COPY (SELECT * FROM {table} WHERE office_id = {int(office_id)}) TO STDOUT",
                    fh,
                )
            cursor.execute(f"SELECT count(*) FROM {table} WHERE office_id = %s", [office_id])
            counts[table] = cursor.fetchone()[0]
            files.append((table, path))
    with connection.cursor() as cursor:
        for table, _path in files:
            cursor.execute(f"DROP TABLE IF EXISTS bench_copy_{table}")
            cursor.execute(f"CREATE TABLE bench_copy_{table} (LIKE {table} INCLUDING ALL)")
    try:
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            for table, path in files:
                with open(path, "rb") as fh:
                    cursor.cursor.copy_expert(f"COPY bench_copy_{table} FROM STDIN", fh)
        seconds = time.perf_counter() - started
    finally:
        with connection.cursor() as cursor:
            for table, _path in files:
                cursor.execute(f"DROP TABLE IF EXISTS bench_copy_{table}")
    return seconds, counts


def drop_office(office_id):
    """Delete the bench office's rows from every table (set-based, skipping the per-row
    foreign-key triggers: everything of the office goes)."""
    from django.apps import apps
    from django.db import connection, transaction

    from recovery.models import Office

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        existing = set(connection.introspection.table_names(cursor))
        for model in apps.get_models():
            columns = {f.column for f in model._meta.concrete_fields}
            if model._meta.db_table not in existing or model is Office:
                continue
            if "office_id" in columns:
                cursor.execute(
                    f"DELETE FROM {model._meta.db_table} WHERE office_id = %s", [office_id]
                )
        cursor.execute("DELETE FROM recovery_office WHERE id = %s", [office_id])


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench import", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--rows", type=int, help=f"rows in the file (full {FULL_SCALE:,})")
    parser.add_argument("--scale", type=float, help="fraction of full scale")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--keep", action="store_true", help="keep the office's rows")
    parser.add_argument(
        "--database-url", help=f"default: $BENCH_DATABASE_URL or {DEFAULT_DATABASE_URL}"
    )
    args = parser.parse_args(argv)
    if args.rows is None:
        scale = args.scale if args.scale is not None else float(os.environ.get("BENCH_SCALE", "1"))
        args.rows = max(100, round(FULL_SCALE * scale))

    from bench import runtime

    url = args.database_url or os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL
    runtime.setup(url, say=_say)
    from django.conf import settings

    workdir = tempfile.mkdtemp(prefix="bench-import-")
    settings.MEDIA_ROOT = os.path.join(workdir, "media")
    try:
        path = os.path.join(workdir, "placement.csv")
        t = time.perf_counter()
        make_file(path, args.rows, args.seed)
        size = os.path.getsize(path) / 1e6
        _say(f"[file] {args.rows:,} rows, {size:.0f} MB in {time.perf_counter() - t:.1f}s")
        office, creditor, user = _scene(time.strftime("%Y%m%d-%H%M%S"))
        maker_peak = _rss_mb(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        pi = run_import(office, creditor, user, path)
        seconds = time.perf_counter() - started
        peak = _rss_mb()
        # The import's children: the process reading the file ahead, the ZIP-table helper.
        child_peak = _rss_mb(resource.RUSAGE_CHILDREN)
        child_text = f"{child_peak:.0f} MB" if child_peak > maker_peak else "≤ the file maker's"
        _say(
            f"[import] {pi.status} in {seconds:.1f}s: read {pi.rows_read:,}, imported "
            f"{pi.rows_imported:,}, rejected {pi.rows_rejected:,}, debtors created "
            f"{pi.debtors_created:,}, matched {pi.debtors_matched:,}; peak rss {peak:.0f} MB "
            f"(its children {child_text}; the file maker {maker_peak:.0f} MB); "
            f"load {os.getloadavg()[0]:.1f}"
        )
        if pi.status != "done":
            _say(f"[import] FAILED: {pi.failure or pi.errors[:3]}")
            return 1
        base, counts = baseline_copy(office.id, workdir)
        written = sum(counts.values())
        tables = ", ".join(f"{t} {n:,}" for t, n in counts.items())
        _say(f"[baseline] COPY of the rows the import wrote: {tables} = {written:,} rows "
             f"in {base:.1f}s")  # fmt: skip
        if not args.keep:
            drop_office(office.id)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    rate, base_rate = args.rows / seconds, args.rows / base
    _say(
        f"bench import: {rate:,.0f} rows/s (baseline {base_rate:,.0f}, ratio "
        f"{rate / base_rate:.2f}) rows={args.rows} peak_rss={peak:.0f} MB "
        f"time={seconds:.1f}s baseline_time={base:.1f}s"
    )
    return 0
