"""The portal benchmark at a tiny size, end to end: its own bench database (the test
database's name + `_bench_portal`, created and migrated when missing), gunicorn as the
application role, sessions made by the real identity check over HTTP, then the load
and the baseline. It must finish with every answer 2xx, every page showing the debtor's
balances and the same query count for 1, 2 and 3 accounts. No assertion on time."""

import os
import re
import subprocess
import sys

import environ
import pytest
from django.conf import settings

from bench.loadgen import Request, render
from bench.runtime import BASE_DIR

pytestmark = pytest.mark.skipif(not settings.IS_POSTGRES, reason="the bench needs PostgreSQL")

LAST_LINE = re.compile(
    r"^bench portal: ([\d,]+) requests/s \(baseline ([\d,]+), ratio ([\d.]+)\) "
    r"requests=(\d+) .* non_2xx=(\d+) queries_per_page=(\S+) rendered=(\w+)$"
)


def test_a_get_with_a_cookie_goes_to_the_baseline_unchanged_but_for_its_path():
    request = Request("/p/accounts/", {"Cookie": "sessionid=abc"})
    ours = render(request, host="127.0.0.1:9")
    base = render(request, host="127.0.0.1:9", path="/bench/ok/")
    assert ours.startswith(b"GET /p/accounts/ HTTP/1.1\r\n")
    assert b"Content-Length" not in ours and b"\r\nCookie: sessionid=abc\r\n" in ours
    assert base.startswith(b"GET /bench/ok/ HTTP/1.1\r\n")
    assert ours.split(b"\r\n", 1)[1] == base.split(b"\r\n", 1)[1]


def test_the_benchmark_runs_end_to_end_at_a_tiny_size():
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/recovery")
    config = environ.Env.db_url_config(url)
    bench_url = url.rsplit("/", 1)[0] + f"/{config['NAME']}_bench_portal"
    env = {k: v for k, v in os.environ.items() if k not in ("RECOVERY_TESTING", "DEBUG")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    args = ["--accounts", "400", "--requests", "120", "--sessions", "6", "--concurrency", "4"]
    args += ["--database-url", bench_url]
    if os.environ.get("REDIS_URL"):
        args += ["--redis-url", os.environ["REDIS_URL"]]
    done = subprocess.run(
        [sys.executable, "-m", "bench", "portal", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    match = LAST_LINE.match(lines[-1])
    assert match, lines[-1]
    ours, base, ratio, requests, non_2xx, queries, rendered = match.groups()
    assert int(requests) == 120 and int(non_2xx) == 0 and rendered == "yes"
    assert float(ratio) > 0
    assert len(set(queries.split("/"))) == 1, queries  # flat in the number of accounts
