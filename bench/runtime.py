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
"""

import os
import subprocess
import sys
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


def ensure_database(url, say=print):
    import environ
    import psycopg2

    cfg = environ.Env.db_url_config(url)
    params = {
        "host": cfg.get("HOST") or None,
        "port": cfg.get("PORT") or None,
        "user": cfg.get("USER") or None,
        "password": cfg.get("PASSWORD") or None,
    }
    conn = psycopg2.connect(dbname="postgres", **params)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]])
            if cur.fetchone() is None:
                say(f"[setup] creating database {cfg['NAME']}")
                cur.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
    finally:
        conn.close()


def setup(database_url=None, say=print):
    """Point Django at the bench database, make sure it exists and is migrated."""
    url = database_url or os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recovery.settings")
    if str(BASE_DIR) not in sys.path:
        sys.path.insert(0, str(BASE_DIR))
    ensure_secrets(say)
    ensure_database(url, say)

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    return url
