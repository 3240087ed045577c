"""Finding a chunk's keys among the office's rows, one index probe per key.

An import asks, for each chunk of 2,000 rows, which of its account numbers, customer ids
and identities the office already has. Written as `column IN (…2,000 values…)`, or as a
plain join to the keys, the plan is only as good as the planner's statistics, and tables
an import is filling have none worth the name (its rows are invisible to autovacuum until
it commits): PostgreSQL then reads every row of the office or creditor and filters or
hashes them, so each chunk costs more than the last (80–800 ms a query at 100,000
accounts, seconds at a million). Here each key is a LATERAL subquery, fenced with
`OFFSET 0` so it cannot be flattened into such a join: a nested loop of index probes
whatever the statistics say, 30–50 ms a chunk at any size.

Raw SQL, so the office is named explicitly (row-level security still applies). SQLite,
the demo's database, keeps the ORM's IN lists.
"""

from django.db import connection

from recovery import tenancy


def rows_by_keys(model, columns, key_columns, keys, **equal):
    """`columns` of the current office's `model` rows (ordered by id) whose `key_columns`
    equal one of `keys` (tuples of text or of integers) and whose other columns equal `equal`."""
    keys = list(set(keys))
    if not keys:
        return []
    if connection.vendor != "postgresql":
        rows = model.objects.filter(**equal)
        for n, column in enumerate(key_columns):
            rows = rows.filter(**{f"{column}__in": {k[n] for k in keys}})
        # Two key columns are two lists here: extra rows, which no key looks up.
        return list(rows.order_by("id").values_list(*columns))
    office_id = tenancy.current_office_id()
    if office_id is None:
        raise tenancy.NoOfficeSelected("rows_by_keys needs an office in context")
    fields = {f.name: f.column for f in model._meta.concrete_fields}
    fields.update({f.attname: f.column for f in model._meta.concrete_fields})
    names = [fields[c] for c in key_columns]
    match = "".join(f" AND t.{c} = k.{c}" for c in names)
    where = "".join(f" AND t.{fields[c]} = %s" for c in equal)
    selected = ", ".join(f"t.{fields[c]}" for c in columns)
    sql = (
        f"SELECT x.* FROM unnest({', '.join(['%s'] * len(names))}) "  # noqa: S608
        f"AS k({', '.join(names)}) CROSS JOIN LATERAL ("
        f"SELECT t.id AS id_, {selected} FROM {model._meta.db_table} t "
        f"WHERE t.office_id = %s{where}{match} OFFSET 0) x ORDER BY x.id_"
    )
    arrays = [[k[n] for k in keys] for n in range(len(names))]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*arrays, office_id, *equal.values()])
        return [row[1:] for row in cursor.fetchall()]


# The tables whose keys an import probes while it fills them (accounts migration 0009).
PROBED = ("accounts_account", "debtors_debtor", "debtors_debtorreference")


def statistics_refresh(tables=PROBED):
    """Count the rows of `tables` for the planner, this transaction's own included: an
    import that has written many rows since the last count calls this, so that its next
    probes descend the key's own index (see the migration). Nothing on SQLite."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute("SELECT recovery_analyze(%s)", [table])
