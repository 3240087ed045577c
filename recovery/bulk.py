"""Writing many rows at once."""

from django.db import connection, models

# Values of exactly these field classes psycopg2 sends as they are, as Django's
# preparation would: no need to prepare them one by one (~2 µs a value, the better part
# of a batch's write). Exactly: a subclass may prepare its values (an encrypted text
# field encrypts them; a date-time is a date field), so it goes through its preparation.
_SENT_AS_THEY_ARE = (
    models.CharField, models.TextField, models.DateField, models.DecimalField,
    models.IntegerField, models.BooleanField, models.ForeignKey,
)  # fmt: skip


def rows_set(model, objs, fields, *, only_if=None):
    """Write `fields` of many rows of `model` in one UPDATE … FROM (VALUES …), whatever
    their values. (Django's bulk_update builds a CASE per row and field: more CPU than
    all the rest of a batch.) A tenant-owned model's rows are of one office, the one in
    context, and the UPDATE says so. `only_if`: an SQL condition on the table's row
    (`t`) that each must meet as well (PostgreSQL only). Returns the rows written."""
    objs = list(objs)
    if not objs:
        return 0
    owned = any(f.name == "office" for f in model._meta.concrete_fields)
    office_id = objs[0].office_id if owned else None
    if owned and any(obj.office_id != office_id for obj in objs):
        raise ValueError(f"{model._meta.label}: rows of more than one office in one write")
    if connection.vendor != "postgresql":
        # The embedded demo database has no typed VALUES lists; its batches are small.
        if only_if:
            raise ValueError("rows_set: `only_if` needs PostgreSQL")
        return model.objects.bulk_update(objs, fields)
    columns = [model._meta.get_field(name) for name in fields]
    raw = [type(c) in _SENT_AS_THEY_ARE for c in columns]
    params, rows = [], []
    row = "(" + ", ".join(["%s"] * (1 + len(columns))) + ")"
    for obj in objs:
        rows.append(row)
        params.append(obj.pk)
        for column, as_is in zip(columns, raw, strict=True):
            value = getattr(obj, column.attname)
            params.append(value if as_is else column.get_db_prep_save(value, connection))
    names = ", ".join(c.column for c in columns)
    sets = ", ".join(f"{c.column} = v.{c.column}::{c.db_type(connection)}" for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {model._meta.db_table} AS t SET {sets} "  # noqa: S608 (our own names)
            f"FROM (VALUES {', '.join(rows)}) AS v(id, {names}) "
            "WHERE t.id = v.id::bigint"
            + (" AND t.office_id = %s" if owned else "")
            + (f" AND {only_if}" if only_if else ""),
            [*params, office_id] if owned else params,
        )
        return cursor.rowcount
