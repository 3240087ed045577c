"""Create the PostgreSQL roles the second wall needs (idempotent). Run as a superuser
(or a role with CREATEROLE) against the server of DATABASE_URL:

  recovery_app    LOGIN, no BYPASSRLS: what the web app and workers connect as
  recovery_maint  NOLOGIN, BYPASSRLS, DML only: entered with SET LOCAL ROLE by the one
                  cross-office escape hatch (tenancy.all_offices)

The tables are owned by whoever runs the migrations (the owner role); their grants to
these roles are given after every migrate (recovery/apps.py).

Usage: python bin/setup_db_roles.py [--app-password PASSWORD]
       python bin/setup_db_roles.py --print-app-url   (the app role's DATABASE_URL)
"""

import argparse
import os
import sys
from pathlib import Path
from urllib.parse import quote, urlparse

import environ
import psycopg2
from psycopg2 import sql

environ.Env.read_env(Path(__file__).resolve().parent.parent / ".env", overwrite=False)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--app-role", default=os.environ.get("DATABASE_APP_ROLE", "recovery_app"))
    parser.add_argument(
        "--maintenance-role",
        default=os.environ.get("DATABASE_MAINTENANCE_ROLE", "recovery_maint"),
    )
    parser.add_argument("--app-password", default=os.environ.get("DATABASE_APP_PASSWORD", ""))
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--print-app-url", action="store_true")
    args = parser.parse_args()
    url = urlparse(args.database_url)
    if args.print_app_url:
        secret = f":{quote(args.app_password, safe='')}" if args.app_password else ""
        netloc = f"{args.app_role}{secret}@{url.hostname}:{url.port or 5432}"
        print(url._replace(netloc=netloc).geturl())
        return 0
    if not url.scheme.startswith("postgres"):
        print("setup_db_roles: DATABASE_URL is not PostgreSQL; nothing to do.")
        return 0
    conn = psycopg2.connect(
        host=url.hostname,
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password or None,
        dbname="postgres",
    )
    conn.autocommit = True
    app, maint = sql.Identifier(args.app_role), sql.Identifier(args.maintenance_role)
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [args.app_role])
        if not cur.fetchone():
            cur.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS").format(app))
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [args.maintenance_role])
        if not cur.fetchone():
            cur.execute(sql.SQL("CREATE ROLE {} NOLOGIN NOSUPERUSER BYPASSRLS").format(maint))
        # Never let the app role bypass RLS itself, whatever it was created with.
        cur.execute(sql.SQL("ALTER ROLE {} NOSUPERUSER NOBYPASSRLS").format(app))
        cur.execute(sql.SQL("GRANT {} TO {}").format(maint, app))
        if args.app_password:
            cur.execute(sql.SQL("ALTER ROLE {} PASSWORD %s").format(app), [args.app_password])
    conn.close()
    print(f"setup_db_roles: roles {args.app_role} and {args.maintenance_role} are ready.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
