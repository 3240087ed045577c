"""`recovery_analyze(table)`: lets the application role refresh the planner's statistics
of the tables an import probes, from inside the import's own transaction.

An import probes accounts, debtors and debtor references by key once per chunk while it
is filling those same tables. Until the rows are counted, PostgreSQL believes a
creditor's or a new office's rows are a handful, and may probe through an index that
stops at (office, creditor): every key then reads all of the creditor's accounts, and
each chunk costs more than the last (a 100,000-row file took 12 minutes instead of one).
ANALYZE inside the import's transaction counts its own rows; only a table's owner may
run it, so the owner defines this function (SECURITY DEFINER), for these tables only.

ANALYZE in a transaction keeps its lock on the table until the transaction ends, and a
second one waits for it: SKIP_LOCKED makes an import running beside another (another
office's, say) skip the count rather than wait for the other import to commit.
"""

from django.db import migrations

TABLES = ("accounts_account", "debtors_debtor", "debtors_debtorreference")

CREATE = """
CREATE OR REPLACE FUNCTION recovery_analyze(table_name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF NOT table_name = ANY (ARRAY[TABLES]) THEN
        RAISE EXCEPTION 'recovery_analyze: % is not a table an import probes', table_name;
    END IF;
    EXECUTE format('ANALYZE (SKIP_LOCKED) public.%I', table_name);
END
$$;
REVOKE ALL ON FUNCTION recovery_analyze(text) FROM PUBLIC;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        tables = ", ".join(f"'{t}'" for t in TABLES)
        schema_editor.execute(CREATE.replace("TABLES", tables), None)  # None: no %-params


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS recovery_analyze(text)")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_creditor_file_background")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
