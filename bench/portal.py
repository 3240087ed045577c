"""bench portal: the debtor's verified account overview (`/p/accounts/`) under load,
against the same GETs (same session cookies) to a view returning a fixed string.

    python -m bench portal --requests 5000 --concurrency 8      (or --scale 0.1)

An office of `--accounts` accounts (full scale 10,000) is generated on the bench
database (default `recovery_bench_portal`, created and migrated when missing) once and
reused by later runs with the same size and seed. The debtors signed in are the
generator's people with the most accounts (up to 3, ledger rows and events included),
those with an active payment plan first; each of their accounts gets a validation
notice and its notice document when it has none.

Each session is made by the real identity check over HTTP, against the server under
test: `GET /p/<signed link>/`, `GET /p/verify/` (CSRF cookie and token), `POST
/p/verify/` with the debtor's last name and date of birth (decrypted through the ORM) →
302 to the overview and a new `sessionid`. The product runs under gunicorn (2 sync
workers by default, `--threads` for gthread) as the application role under row-level
security (`bench.server`). The load generator (`bench.loadgen`) sends every request
once, `--concurrency` at a time, round-robin over the sessions' cookies; the baseline
sends the very same bytes with the path `/bench/ok/`, before and after the product (its
rate is the mean of the two). One page per session is checked before and after the load:
status 200 and every one of the debtor's balances on it, as the page formats them.

Queries per page are counted in-process (`CaptureQueriesContext`, Django's test client
on the bench database, the same verification flow) for debtors with 1, 2 and 3 accounts:
the count must not grow with the number of accounts. The exit code says whether every
answer was 2xx, the pages rendered and the count stayed flat.
"""

import argparse
import html
import os
import re
import tempfile
import time
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from bench.server import (
    BASELINE_PATH,
    SETTINGS_MODULE,
    app_database_url,
    collect_static,
    load_average,
    py_spy,
    serve,
    server_env,
    stop,
    warm,
)

FULL_ACCOUNTS = 10_000
FULL_REQUESTS = 5_000
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/recovery_bench_portal"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
OVERVIEW_PATH = "/p/accounts/"


def _say(line):
    print(line, flush=True)


# --- the office and its debtors ------------------------------------------------------


def office_for(*, accounts, seed, say=_say):
    """The bench office of this size and seed: generated on first use, then reused."""
    from bench.generate import generate
    from recovery.models import Office

    slug = f"bench-portal-{accounts}-s{seed}"
    office = Office.objects.filter(slug=slug).first()
    if office is None:
        started = time.perf_counter()
        counts = generate(accounts=accounts, office_slug=slug, seed=seed)
        office = Office.objects.get(pk=counts["office_id"])
        say(
            f"[setup] office {slug}: {counts['account']:,} accounts, {counts['event']:,} "
            f"events ({time.perf_counter() - started:.1f}s)"
        )
    return office


DEBTORS_SQL = """
SELECT d.id, count(a.id) AS accounts,
       bool_or(EXISTS (SELECT 1 FROM payments_paymentplan p
                       WHERE p.account_id = a.id AND p.status = 'active')) AS open_plan
FROM debtors_debtor d JOIN accounts_account a ON a.debtor_id = d.id
WHERE d.office_id = %s AND a.office_id = %s AND d.dob_bidx <> '' AND d.last_name <> ''
GROUP BY d.id
ORDER BY count(a.id) DESC, 3 DESC, d.id
LIMIT %s
"""


def pick_debtors(office, sessions):
    """[(debtor id, number of accounts, has an open plan)], most accounts first."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(DEBTORS_SQL, [office.id, office.id, sessions])
        return cur.fetchall()


def debtor_with(office, accounts):
    """A person debtor of the office with exactly `accounts` accounts (or None)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            """SELECT d.id FROM debtors_debtor d JOIN accounts_account a ON a.debtor_id = d.id
               WHERE d.office_id = %s AND d.dob_bidx <> '' AND d.last_name <> ''
               GROUP BY d.id HAVING count(a.id) = %s ORDER BY d.id LIMIT 1""",
            [office.id, accounts],
        )
        row = cur.fetchone()
    return row[0] if row else None


def add_notices(office, debtor_ids):
    """A validation notice and its document for each of these debtors' accounts that
    has none (a real debtor's page has them; the generator writes neither)."""
    from accounts.models import Account
    from compliance.models import ValidationNotice
    from recovery import tenancy
    from recovery.models import Document

    with tenancy.office_context(office.id):
        accounts = list(Account.objects.filter(office_id=office.id, debtor_id__in=debtor_ids))
        noticed = set(
            ValidationNotice.objects.filter(
                office_id=office.id, account_id__in=[a.pk for a in accounts]
            ).values_list("account_id", flat=True)
        )
        new = [a for a in accounts if a.pk not in noticed]
        documents = Document.objects.bulk_create(
            Document(
                office_id=office.id,
                kind=Document.Kind.VALIDATION_NOTICE,
                title="Validation notice",
                file=f"bench/notice-{a.pk}.pdf",
                content_type="application/pdf",
                account_id=a.pk,
                debtor_id=a.debtor_id,
                created_at=a.placed_at + _days(3),
            )
            for a in new
        )
        ValidationNotice.objects.bulk_create(
            ValidationNotice(
                office_id=office.id,
                account_id=a.pk,
                channel="letter",
                sent_at=a.placed_at + _days(3),
                assumed_received_on=(a.placed_at + _days(10)).date(),
                period_ends_on=(a.placed_at + _days(40)).date(),
                document=document,
            )
            for a, document in zip(new, documents, strict=True)
        )
    return len(new)


def _days(n):
    from datetime import timedelta

    return timedelta(days=n)


def identity(office, debtor_id):
    """What the debtor types: last name and date of birth (decrypted by the ORM)."""
    from datetime import date

    from debtors.models import Debtor
    from recovery import tenancy

    with tenancy.office_context(office.id):
        debtor = Debtor.objects.get(office_id=office.id, pk=debtor_id)
    born = date.fromisoformat(debtor.date_of_birth)
    return {
        "last_name": debtor.last_name,
        "dob_month": str(born.month),
        "dob_day": str(born.day),
        "dob_year": str(born.year),
    }


def expected_balances(office, debtor_id):
    """The debtor's balances as the overview prints them."""
    from accounts.models import Account
    from portal.templatetags.portal_tags import money
    from recovery import tenancy

    with tenancy.office_context(office.id):
        accounts = Account.objects.filter(office_id=office.id, debtor_id=debtor_id)
        return [money(a.balance, a.currency) for a in accounts]


def link_path(office, debtor_id):
    from portal.tokens import link_token

    return f"/p/{link_token(office_id=office.id, debtor_id=debtor_id, account_id=None)}/"


# --- sessions over HTTP --------------------------------------------------------------

_CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class _Browser:
    """Just enough of a browser for the identity check: one cookie jar, no redirects."""

    def __init__(self, address):
        self.address = address
        self.cookies = {}

    def request(self, method, path, body=None):
        conn = HTTPConnection(*self.address, timeout=30)
        headers = {"Host": f"{self.address[0]}:{self.address[1]}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            content = response.read()
            for header in response.msg.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return response.status, response.getheader("Location", ""), content
        finally:
            conn.close()


def verified_session(address, office, debtor_id):
    """Prove who the debtor is through the portal, as they would; their `sessionid`."""
    browser = _Browser(address)
    status, location, _ = browser.request("GET", link_path(office, debtor_id))
    if status != 302 or not location.endswith("/p/verify/"):
        raise RuntimeError(f"signed link: {status} {location!r}")
    status, _, page = browser.request("GET", "/p/verify/")
    token = _CSRF_FIELD.search(page.decode())
    if status != 200 or token is None:
        raise RuntimeError(f"verify page: {status}")
    form = {"csrfmiddlewaretoken": html.unescape(token.group(1)), **identity(office, debtor_id)}
    status, location, page = browser.request("POST", "/p/verify/", urlencode(form))
    if status != 302 or not location.endswith(OVERVIEW_PATH):
        raise RuntimeError(f"identity check refused: {status} {location!r} {page[:300]!r}")
    return browser.cookies["sessionid"]


def page_check(address, office, debtor_id, sessionid):
    """'' when the overview answers 200 with every one of the debtor's balances on it."""
    browser = _Browser(address)
    browser.cookies["sessionid"] = sessionid
    status, location, page = browser.request("GET", OVERVIEW_PATH)
    if status != 200:
        return f"overview for debtor {debtor_id}: {status} {location!r}"
    text = page.decode()
    missing = [b for b in expected_balances(office, debtor_id) if b not in text]
    return f"overview for debtor {debtor_id}: balances {missing} missing" if missing else ""


# --- queries per page ----------------------------------------------------------------


def queries_per_page(office, debtor_id):
    """Statements for one overview built from the database (the kept copy of
    `portal.pagecache` off), in-process: test client, the same identity check."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    client = Client(HTTP_HOST="127.0.0.1")
    client.get(link_path(office, debtor_id))
    response = client.post("/p/verify/", identity(office, debtor_id))
    if response.status_code != 302:
        raise RuntimeError(f"in-process identity check: {response.status_code}")
    with override_settings(PORTAL_PAGE_CACHE_SECONDS=0):
        client.get(OVERVIEW_PATH)  # first page: anything once-per-process happens here
        with CaptureQueriesContext(connection) as queries:
            response = client.get(OVERVIEW_PATH)
    if response.status_code != 200:
        raise RuntimeError(f"in-process overview: {response.status_code}")
    return len(queries)


def query_counts(office):
    """{accounts: statements per overview} for debtors with 1, 2 and 3 accounts."""
    counts = {}
    for n in (1, 2, 3):
        debtor_id = debtor_with(office, n)
        if debtor_id is not None:
            counts[n] = queries_per_page(office, debtor_id)
    return counts


def delete_sessions(keys):
    from django.contrib.sessions.models import Session

    Session.objects.filter(session_key__in=keys).delete()


# --- the run -------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench portal", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--requests", type=int, help=f"GETs of each (full {FULL_REQUESTS:,})")
    parser.add_argument("--accounts", type=int, help=f"accounts (full {FULL_ACCOUNTS:,})")
    parser.add_argument("--scale", type=float, help="fraction of full scale")
    parser.add_argument("--sessions", type=int, default=50, help="verified sessions (50)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--threads", type=int, default=1, help="per worker; 1 = sync worker")
    parser.add_argument("--conn-max-age", type=int, help="CONN_MAX_AGE (default: the app's)")
    parser.add_argument(
        "--page-cache-seconds",
        type=int,
        help="PORTAL_PAGE_CACHE_SECONDS (default: the app's; 0 = every page from the database)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url", help=f"default: $BENCH_DATABASE_URL or {DEFAULT_DATABASE_URL}"
    )
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--py-spy", metavar="FILE", help="profile the workers during ours (py-spy)")
    args = parser.parse_args(argv)
    scale = args.scale if args.scale is not None else float(os.environ.get("BENCH_SCALE", "1"))
    if args.requests is None:
        args.requests = max(200, round(FULL_REQUESTS * scale))
    if args.accounts is None:
        args.accounts = max(1_000, round(FULL_ACCOUNTS * scale))

    from bench import runtime

    os.environ["REDIS_URL"] = args.redis_url  # the in-process count's cache (lockouts)
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE  # as the server's
    url = args.database_url or os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL
    runtime.setup(url, say=_say)
    from django.db import connection

    from bench.loadgen import Request, fire, render

    app_url = app_database_url(url)
    collect_static(say=_say)
    office = office_for(accounts=args.accounts, seed=args.seed)
    debtors = pick_debtors(office, args.sessions)
    added = add_notices(office, [d for d, _n, _plan in debtors])
    counts = query_counts(office)
    mix = {n: sum(1 for _d, k, _p in debtors if k == n) for n in (3, 2, 1)}
    _say(
        f"[setup] {len(debtors)} debtors signed in: {mix[3]} with 3 accounts, {mix[2]} with "
        f"2, {mix[1]} with 1; {sum(1 for *_x, plan in debtors if plan)} with an open plan; "
        f"{added} notices added; queries per overview by accounts {counts}"
    )
    connection.close()

    log_path = os.path.join(tempfile.gettempdir(), f"bench-portal-{os.getpid()}-gunicorn.log")
    extra = {}
    if args.page_cache_seconds is not None:
        extra["PORTAL_PAGE_CACHE_SECONDS"] = str(args.page_cache_seconds)
    env = server_env(
        app_url=app_url, redis_url=args.redis_url, conn_max_age=args.conn_max_age, extra=extra
    )
    proc, address = serve(env, workers=args.workers, threads=args.threads, log_path=log_path)
    host = f"{address[0]}:{address[1]}"
    problems, cookies = [], []
    try:
        started = time.perf_counter()
        cookies = [verified_session(address, office, d) for d, _n, _p in debtors]
        _say(f"[sessions] {len(cookies)} verified over HTTP ({time.perf_counter() - started:.1f}s)")
        requests = [
            Request(
                OVERVIEW_PATH,
                {"Cookie": f"sessionid={cookies[i % len(cookies)]}", "Accept": "text/html"},
            )
            for i in range(args.requests)
        ]
        ours_raw = [render(r, host=host) for r in requests]
        base_raw = [render(r, host=host, path=BASELINE_PATH) for r in requests]
        warm(address, ours_raw[: len(cookies)] + base_raw[:2], rounds=2)
        problems += [p for p in (page_check(address, office, debtors[0][0], cookies[0]),) if p]
        runs = {}
        for name, raws in (("baseline", base_raw), ("ours", ours_raw), ("baseline 2", base_raw)):
            load_before = load_average()
            spy = py_spy(proc.pid, args.py_spy) if args.py_spy and name == "ours" else None
            runs[name] = fire(raws, address=address, concurrency=args.concurrency)
            if spy is not None:
                spy.send_signal(2)  # SIGINT: py-spy writes its file
                spy.wait()
            _say(
                f"[{name}] {runs[name].summary()}; load average {load_before:.1f} → "
                f"{load_average():.1f}"
            )
        problems += [
            p
            for (d, _n, _p), cookie in zip(debtors, cookies, strict=True)
            if (p := page_check(address, office, d, cookie))
        ]
    finally:
        stop(proc)
    delete_sessions(cookies)
    connection.close()

    ours = runs["ours"]
    for name, run in runs.items():
        if run.non_2xx:
            problems.append(f"{name}: {run.non_2xx} non-2xx answers {dict(run.statuses)}")
            for body in run.failures[:2]:
                _say(f"[{name}] e.g. {body[:300]!r}")
    if len(set(counts.values())) > 1:
        problems.append(f"queries per overview grow with the accounts: {counts}")
    _say(
        "[verify] every session's overview: 200 with the debtor's balances"
        if not problems
        else "[verify] PROBLEMS: " + "; ".join(problems)
    )
    if not problems:
        os.unlink(log_path)
    else:
        _say(f"[verify] server log {log_path}")
    base = (runs["baseline"].rate + runs["baseline 2"].rate) / 2
    queries = "/".join(str(counts[n]) for n in sorted(counts))
    _say(
        f"bench portal: {ours.rate:,.0f} requests/s (baseline {base:,.0f}, ratio "
        f"{ours.rate / base:.2f}) requests={len(ours_raw)} accounts={args.accounts} "
        f"sessions={len(cookies)} concurrency={args.concurrency} threads={args.threads} "
        f"p50={ours.percentile(50) * 1000:.1f}ms p99={ours.percentile(99) * 1000:.1f}ms "
        f"non_2xx={ours.non_2xx} queries_per_page={queries} "
        f"rendered={'yes' if not problems else 'NO'}"
    )
    return 1 if problems else 0
