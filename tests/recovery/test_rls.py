"""The second wall: PostgreSQL row-level security, tested on real PostgreSQL with the
suite connected as the application role (no BYPASSRLS, not the table owner)."""

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from accounts.models import Account
from recovery import tenancy
from tests.factories import AccountFactory, MembershipFactory

pytestmark = pytest.mark.skipif(not settings.IS_POSTGRES, reason="row-level security is PG only")

PLATFORM_TABLES = {"recovery_membership"}  # read at login, before an office is known


def scalar(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def test_suite_runs_as_the_application_role_without_bypass(db):
    role = scalar("SELECT current_user")
    assert role == settings.DATABASE_APP_ROLE
    assert scalar("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user") is (
        False
    )
    owners = scalar(
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user"
    )
    assert owners == 0


def test_every_table_with_office_id_has_a_forced_policy(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND column_name = 'office_id'"
        )
        tenant_tables = {r[0] for r in cursor.fetchall()} - PLATFORM_TABLES
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relrowsecurity AND c.relforcerowsecurity "
            "AND EXISTS (SELECT 1 FROM pg_policies p WHERE p.tablename = c.relname "
            "AND p.policyname = 'office_isolation')"
        )
        protected = {r[0] for r in cursor.fetchall()}
    assert len(tenant_tables) > 25
    assert tenant_tables - protected == set(), "tables with office_id but no policy"


def test_raw_sql_in_office_b_sees_none_of_office_a(office_a, office_b):
    AccountFactory(office=office_a)
    mine = AccountFactory(office=office_b)
    with tenancy.office_context(office_b.id):
        assert scalar("SELECT count(*) FROM accounts_account") == 1
        assert scalar("SELECT count(*) FROM accounts_transaction") == 1
        assert scalar("SELECT max(id) FROM accounts_account") == mine.id
        # Even the unscoped base manager cannot see past the policy.
        assert list(Account._base_manager.values_list("office_id", flat=True)) == [office_b.id]


def test_office_b_cannot_write_a_row_into_office_a(office_a, office_b):
    theirs = AccountFactory(office=office_a)
    AccountFactory(office=office_b)
    with tenancy.office_context(office_b.id):
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO accounts_note (office_id, account_id, body, created_at) "
                    "VALUES (%s, %s, 'x', now())",
                    [office_a.id, theirs.id],
                )
        # Updates of rows it cannot see touch nothing.
        with connection.cursor() as cursor:
            cursor.execute("UPDATE accounts_account SET priority = 99 WHERE id = %s", [theirs.id])
            assert cursor.rowcount == 0
            # Nor may it move its own rows into another office.
            with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
                cursor.execute("UPDATE accounts_account SET office_id = %s", [office_a.id])


def test_without_an_office_raw_sql_sees_nothing(office_a):
    AccountFactory(office=office_a)
    assert tenancy.current_office_id() is None
    assert scalar("SELECT count(*) FROM accounts_account") == 0
    assert scalar("SELECT count(*) FROM debtors_debtor") == 0


def test_the_escape_hatch_sees_every_office_and_ends_with_its_block(office_a, office_b):
    AccountFactory(office=office_a)
    AccountFactory(office=office_b)
    with tenancy.all_offices("test: cross-office count"):
        assert scalar("SELECT count(*) FROM accounts_account") == 2
        assert scalar("SELECT current_user") == settings.DATABASE_MAINTENANCE_ROLE
    assert scalar("SELECT current_user") == settings.DATABASE_APP_ROLE
    assert scalar("SELECT count(*) FROM accounts_account") == 0


def test_escape_hatch_role_is_undone_when_the_block_fails(office_a):
    with pytest.raises(RuntimeError), tenancy.all_offices("test: failing block"):
        raise RuntimeError("boom")
    assert scalar("SELECT current_user") == settings.DATABASE_APP_ROLE


@pytest.mark.django_db(transaction=True)
def test_a_reused_connection_never_carries_the_office_into_the_next_request(client):
    from tests.factories import OfficeFactory

    office_a = OfficeFactory(slug="rls-a")
    office_b = OfficeFactory(slug="rls-b")
    account_a = AccountFactory(office=office_a)
    member_a = MembershipFactory(office=office_a, role="agent")
    member_b = MembershipFactory(office=office_b, role="agent")
    connection.settings_dict["CONN_MAX_AGE"] = 600
    try:
        client.force_login(member_a.user)
        assert client.get(f"/o/{office_a.slug}/accounts/").status_code == 200
        pid = scalar("SELECT pg_backend_pid()")
        # The same connection, after office A's request committed: no office is left set.
        assert scalar("SELECT coalesce(current_setting('app.office_id', true), '')") == ""
        assert scalar("SELECT count(*) FROM accounts_account") == 0
        client.force_login(member_b.user)
        response = client.get(f"/o/{office_b.slug}/accounts/{account_a.pk}/")
        assert response.status_code == 404
        assert scalar("SELECT pg_backend_pid()") == pid
    finally:
        connection.settings_dict["CONN_MAX_AGE"] = 0
