"""Getting a benchmark onto its database: secrets, the database itself, Django, schema.

The benchmarks run against their own PostgreSQL database, never the one in DATABASE_URL
(which may be a developer's): `--database-url`, else `$BENCH_DATABASE_URL`, else
postgres://postgres@127.0.0.1:5432/recovery_bench. It is created when missing and
migrated on every run (a no-op when up to date).

Secrets come from the environment or the project's .env, like the app's. When
SECRET_KEY, FIELD_ENCRYPTION_KEYS or BLIND_INDEX_KEY is missing, `bin/write_env.py`
writes generated ones to .env first (it never overwrites a value): the bench encrypts
dates of birth and SSNs and computes blind indexes with the keys the app will later use
on the same database, so throwaway in-process keys would leave unreadable data behind.

The database remembers a fingerprint of those keys. When the keys change (a fresh clone
writes a new .env beside a bench database an earlier clone filled), its data can no
longer be decrypted, so it is dropped and made again rather than failing half-way in
(as is a bench database from before the fingerprint, whose keys are unknown).
"""

import hashlib
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/recovery_bench"
SECRETS = ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY")


def _env_file_values():
    path = BASE_DIR / ".env"
    values = {}
    if path.exists():
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep and not key.strip().startswith("#"):
                values[key.strip()] = value.strip()
    return values


def ensure_secrets(say=print):
    in_file = _env_file_values()
    missing = [k for k in SECRETS if not os.environ.get(k) and not in_file.get(k)]
    if missing:
        say(f"[setup] {', '.join(missing)} missing: running bin/write_env.py")
        subprocess.run([sys.executable, str(BASE_DIR / "bin" / "write_env.py")], check=True)


def keys_fingerprint():
    """A digest of the keys the app will read (the environment first, then .env)."""
    in_file = _env_file_values()
    keys = [os.environ.get(k) or in_file.get(k, "") for k in SECRETS[1:]]
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()


@contextmanager
def _cursor(dbname, params, *, autocommit=False):
    import psycopg2

    conn = psycopg2.connect(dbname=dbname, **params)
    try:
        conn.autocommit = autocommit  # CREATE/DROP DATABASE cannot run in a transaction
        with conn.cursor() as cur:
            yield cur
        conn.commit()
    finally:
        conn.close()


def _fingerprint_in(dbname, params):
    """The fingerprint the database remembers, None when it has none."""
    with _cursor(dbname, params) as cur:
        cur.execute("SELECT to_regclass('bench_keys') IS NOT NULL")
        if not cur.fetchone()[0]:
            return None
        cur.execute("SELECT fingerprint FROM bench_keys")
        row = cur.fetchone()
        return row[0] if row else None


def _remember_fingerprint(dbname, params, fingerprint):
    with _cursor(dbname, params) as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS bench_keys (fingerprint text NOT NULL)")
        cur.execute("DELETE FROM bench_keys")
        cur.execute("INSERT INTO bench_keys (fingerprint) VALUES (%s)", [fingerprint])


def ensure_database(url, say=print):
    import environ
    import psycopg2

    cfg = environ.Env.db_url_config(url)
    name = cfg["NAME"]
    params = {
        "host": cfg.get("HOST") or None,
        "port": cfg.get("PORT") or None,
        "user": cfg.get("USER") or None,
        "password": cfg.get("PASSWORD") or None,
    }
    fingerprint = keys_fingerprint()
    try:
        _ensure_database(name, params, fingerprint, say)
    except psycopg2.OperationalError as exc:
        where = f"{cfg.get('HOST') or 'localhost'}:{cfg.get('PORT') or 5432}"
        first = str(exc).strip().splitlines()[0]
        raise SystemExit(
            f"[setup] cannot reach the bench database {name} on {where}: {first}\n"
            "  Check --database-url (or $BENCH_DATABASE_URL) and that PostgreSQL is running."
        ) from exc


def _ensure_database(name, params, fingerprint, say):
    with _cursor("postgres", params, autocommit=True) as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        exists = cur.fetchone() is not None
        stored = _fingerprint_in(name, params) if exists else None
        if exists and stored != fingerprint:
            why = "other encryption keys" if stored else "keys it did not record"
            say(f"[setup] {name} was filled with {why}: recreating it")
            cur.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = False
        if not exists:
            say(f"[setup] creating database {name}")
            cur.execute(f'CREATE DATABASE "{name}"')
        if stored != fingerprint:
            _remember_fingerprint(name, params, fingerprint)


def setup(database_url=None, say=print):
    """Point Django at the bench database, make sure it exists and is migrated."""
    url = database_url or os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recovery.settings")
    if str(BASE_DIR) not in sys.path:
        sys.path.insert(0, str(BASE_DIR))
    ensure_secrets(say)
    ensure_database(url, say)
    # The roles first: migrate's post-migrate hook grants them the tables, and a role
    # made after it (as on a new machine) would find every table denied.
    subprocess.run([sys.executable, str(BASE_DIR / "bin" / "setup_db_roles.py")],
                   env={**os.environ, "DATABASE_URL": url}, check=True,
                   capture_output=True)  # fmt: skip

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    return url


def analyze(*tables):
    """Fresh planner statistics for `tables`, as autovacuum keeps them in a deployment.
    A bench writes its rows in bulk just before measuring, and where autovacuum is off
    (as on the bench machines) they were never analyzed: the planner then expects a few
    dozen rows per office and scans whole offices. Outside a transaction only (inside a
    test's, the rows are about to be rolled back)."""
    from django.db import connection

    if not connection.in_atomic_block:
        with connection.cursor() as cur:
            cur.execute("ANALYZE " + ", ".join(tables))
