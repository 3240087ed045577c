"""A bench database remembers the keys its data was encrypted with. A fresh clone writes
a new .env beside a bench database an earlier clone filled: the bench must start that
database again instead of dying on the first encrypted field it reads (as CI once did)."""

import os

import environ
import psycopg2
import pytest
from django.conf import settings

from bench import runtime

pytestmark = pytest.mark.skipif(not settings.IS_POSTGRES, reason="bench databases are PostgreSQL")


@pytest.fixture
def bench_url():
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/recovery")
    name = environ.Env.db_url_config(url)["NAME"] + "_bench_keys_test"
    yield url.rsplit("/", 1)[0] + f"/{name}"
    conn = _connect(url, dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def _connect(url, dbname=None):
    cfg = environ.Env.db_url_config(url)
    return psycopg2.connect(
        dbname=dbname or cfg["NAME"], host=cfg["HOST"], port=cfg["PORT"] or None,
        user=cfg["USER"], password=cfg["PASSWORD"] or None,
    )  # fmt: skip


def _leave_data(url):
    conn = _connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE earlier_data (x int)")
    conn.close()


def _tables(url):
    conn = _connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        names = {row[0] for row in cur.fetchall()}
    conn.close()
    return names


def _keys(monkeypatch, n):
    monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", f"fernet-key-{n}")
    monkeypatch.setenv("BLIND_INDEX_KEY", f"index-key-{n}")


def test_the_same_keys_keep_the_data(bench_url, monkeypatch):
    _keys(monkeypatch, 1)
    said = []
    runtime.ensure_database(bench_url, say=said.append)
    _leave_data(bench_url)
    runtime.ensure_database(bench_url, say=said.append)
    assert "earlier_data" in _tables(bench_url)
    assert said == [f"[setup] creating database {bench_url.rsplit('/', 1)[1]}"]


def test_other_keys_start_the_database_again(bench_url, monkeypatch):
    _keys(monkeypatch, 1)
    runtime.ensure_database(bench_url, say=lambda _line: None)
    _leave_data(bench_url)
    _keys(monkeypatch, 2)
    said = []
    runtime.ensure_database(bench_url, say=said.append)
    assert _tables(bench_url) == {"bench_keys"}
    assert "filled with other encryption keys: recreating it" in said[0]
    said.clear()
    runtime.ensure_database(bench_url, say=said.append)  # now remembered: kept
    assert said == []


def test_a_database_from_before_the_fingerprint_is_started_again(bench_url, monkeypatch):
    _keys(monkeypatch, 1)
    conn = _connect(bench_url, dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{bench_url.rsplit("/", 1)[1]}"')
    conn.close()
    _leave_data(bench_url)
    said = []
    runtime.ensure_database(bench_url, say=said.append)
    assert _tables(bench_url) == {"bench_keys"}
    assert "keys it did not record" in said[0]


def test_an_unreachable_server_says_which_url_to_check():
    with pytest.raises(SystemExit) as stopped:
        runtime.ensure_database("postgres://postgres@127.0.0.1:9/nowhere", say=lambda _l: None)
    message = str(stopped.value)
    assert "cannot reach the bench database nowhere on 127.0.0.1:9" in message
    assert "Check --database-url" in message
