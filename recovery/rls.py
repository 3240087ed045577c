"""The second wall: PostgreSQL row-level security on every tenant-owned table.

Each tenant table gets `ENABLE` + `FORCE ROW LEVEL SECURITY` and one policy comparing
`office_id` with the transaction-local setting `app.office_id` (set by
`tenancy.activate`). With no office set the setting is empty, the comparison is NULL,
and the policy matches nothing: a forgotten filter or a raw query sees no rows and can
write none into another office.

The application connects as a role without BYPASSRLS. The one escape hatch,
`tenancy.all_offices`, switches the transaction to the maintenance role (BYPASSRLS, no
ownership) with `SET LOCAL ROLE`, so it ends with the transaction at the latest.
Migrations run as the owner role. Other databases (SQLite in the demo) skip all this.
"""

from django.db import migrations

POLICY = "office_isolation"
_MATCH = "office_id = NULLIF(current_setting('app.office_id', true), '')::bigint"


class EnableTenantRLS(migrations.operations.base.Operation):
    """Migration operation: turn on row-level security for one tenant model's table."""

    reversible = True

    def __init__(self, model_name):
        self.model_name = model_name

    def deconstruct(self):
        return self.__class__.__name__, [self.model_name], {}

    def state_forwards(self, app_label, state):
        pass

    def _table(self, app_label, state):
        return state.apps.get_model(app_label, self.model_name)._meta.db_table

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(self._table(app_label, to_state))
        schema_editor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        schema_editor.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
        schema_editor.execute(
            f"CREATE POLICY {POLICY} ON {table} USING ({_MATCH}) WITH CHECK ({_MATCH})"
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(self._table(app_label, from_state))
        schema_editor.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
        schema_editor.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")

    def describe(self):
        return f"Enable row-level security on {self.model_name}"


def grant_application_roles(connection, roles):
    """Give the application and maintenance roles DML (never DDL) on every table."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", [list(roles)])
        existing = [row[0] for row in cursor.fetchall()]
        # The one function they run with the owner's rights (accounts migration 0009).
        cursor.execute("SELECT to_regprocedure('recovery_analyze(text)') IS NOT NULL")
        analyze = cursor.fetchone()[0]
        for role in existing:
            quoted = connection.ops.quote_name(role)
            cursor.execute(
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}"
            )
            cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
            if analyze:
                cursor.execute(f"GRANT EXECUTE ON FUNCTION recovery_analyze(text) TO {quoted}")
