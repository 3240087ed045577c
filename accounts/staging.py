"""Bulk loading on PostgreSQL: COPY into a temporary staging table, then one
`INSERT … SELECT` into the real table.

`COPY FROM` is refused on tables with row-level security; an INSERT is not, and the
policy checks every row it writes, so the second wall still holds. The staging tables
are TEMP (private to the connection, no WAL) and dropped with the transaction. Ids are
drawn from each table's own sequence up front, so rows of several tables can refer to
each other before any of them is written. The same approach as the benchmark
generator's `bench.generate.Loader`, for product code: it runs as the application role
(no `setval`, no replica mode) inside the caller's transaction, and never commits.

Rows are tuples in the order of the columns named for the table; None is NULL (in a
column that allows it) and an empty string stays an empty string. Columns not named get
the model field's default.
"""

import csv
import io

from django.apps import apps
from django.db import connection


class StagedTable:
    def __init__(self, key, label, columns):
        model = apps.get_model(label)
        self.table = model._meta.db_table
        self.columns = list(columns)
        fields = {f.column: f for f in model._meta.concrete_fields}
        unknown = [c for c in self.columns if c not in fields]
        if unknown:
            raise RuntimeError(f"{self.table} has no column(s) {unknown}")
        fill_cols, self.fill_vals = [], []
        for column, field in fields.items():
            if column in self.columns or field.null or field.primary_key:
                continue
            fill_cols.append(column)
            self.fill_vals.append(field.get_db_prep_save(field.get_default(), connection))
        self.stage = f"stage_{key}"
        col_list = ", ".join(self.columns)
        self.create_sql = (
            f"DROP TABLE IF EXISTS {self.stage}; "  # noqa: S608 - model metadata
            f"CREATE TEMP TABLE {self.stage} ON COMMIT DROP AS "
            f"SELECT {col_list} FROM {self.table} WITH NO DATA"
        )
        # Every string is quoted (an empty one stays empty); None comes out as "" too,
        # which FORCE_NULL reads as NULL in the columns that may hold one.
        nullable = [c for c in self.columns if fields[c].null]
        force_null = f", FORCE_NULL ({', '.join(nullable)})" if nullable else ""
        self.copy_sql = f"COPY {self.stage} ({col_list}) FROM STDIN WITH (FORMAT csv{force_null})"
        targets = ", ".join(self.columns + fill_cols)
        values = ", ".join(self.columns + ["%s"] * len(fill_cols))
        self.insert_sql = (
            f"INSERT INTO {self.table} ({targets}) "  # noqa: S608 - model metadata
            f"SELECT {values} FROM {self.stage}; TRUNCATE {self.stage}"
        )


class Staging:
    """Staging tables for `tables` ({key: (model label, columns)}) on Django's
    connection, which must be PostgreSQL and inside a transaction."""

    def __init__(self, tables):
        if connection.vendor != "postgresql":
            raise RuntimeError("Staging needs PostgreSQL (COPY)")
        if not connection.in_atomic_block:
            raise RuntimeError("Staging loads only inside a transaction")
        self.cursor = connection.cursor()
        self.specs = {
            key: StagedTable(key, label, columns) for key, (label, columns) in tables.items()
        }
        self.cursor.execute("; ".join(spec.create_sql for spec in self.specs.values()))

    def reserve_ids(self, counts):
        """{key: [n new ids]} from each table's sequence, in one query."""
        keys = [k for k, n in counts.items() if n]
        if not keys:
            return {k: [] for k in counts}
        parts, params = [], []
        for key in keys:
            parts.append(
                "(SELECT array_agg(nextval(pg_get_serial_sequence(%s, 'id'))) "
                "FROM generate_series(1, %s))"
            )
            params += [self.specs[key].table, counts[key]]
        self.cursor.execute(f"SELECT {', '.join(parts)}", params)
        found = dict(zip(keys, self.cursor.fetchone(), strict=True))
        return {k: found.get(k) or [] for k in counts}

    def load(self, key, rows):
        """Write `rows` (tuples in the table's column order) into the real table."""
        if not rows:
            return
        spec = self.specs[key]
        buffer = io.StringIO()
        csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC).writerows(rows)
        buffer.seek(0)
        self.cursor.cursor.copy_expert(spec.copy_sql, buffer, size=1 << 20)
        self.cursor.execute(spec.insert_sql, spec.fill_vals)

    def close(self):
        stages = ", ".join(spec.stage for spec in self.specs.values())
        self.cursor.execute(f"DROP TABLE IF EXISTS {stages}")
        self.cursor.close()
