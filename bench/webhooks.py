"""bench webhooks: verify and apply N provider webhooks over HTTP, against the same
requests to a view that only returns 200.

    python -m bench webhooks --events 5000 --concurrency 8     (or --scale 0.1)

A new office is generated on the bench database (default `recovery_bench_webhooks`,
created and migrated when missing) and given the rows the events act on
(`bench.webhook_events`): pending Stripe Checkout payments, sent texts and emails, and
the generator's succeeded card payments to refund. Every event is one request signed
the provider's way; about 5% are Stripe re-deliveries.

The product runs under gunicorn (2 sync workers by default) as the application role
under row-level security, with the project's settings from the environment: Redis db
12 for the cache and as the Celery broker, CELERY_TASK_ALWAYS_EAGER off. A request
verifies the event and stores it in the inbox (`recovery.inbox`); a Celery worker
(`--drain-workers` prefork processes on the `webhooks` queue) applies it. Receipts are
queued to the default queue after commit; no worker consumes them (the db is emptied
before and after). The load generator (`bench.loadgen`) sends each request once,
`--concurrency` at a time, and ours is timed from the first request until the inbox
holds nothing untried: applied, not only answered. The baseline sends the very same
requests (bodies, headers, query strings) to `/bench/ok/` on the same server
(`bench.settings_server`), once before and once after the product; its rate is the mean
of the two. Afterwards every event must have
been applied exactly once (`webhook_events.verify`); the exit code says whether it was.
The office is deleted afterwards unless `--keep`.
"""

import argparse
import os
import signal
import tempfile
import time

from bench.dispatch import stop_workers
from bench.server import (
    BASELINE_PATH,
    app_database_url,
    load_average,
    py_spy,
    serve,
    stop,
    warm,
)
from bench.server import server_env as _server_env

FULL_SCALE = 50_000
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/recovery_bench_webhooks"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"


def _say(line):
    print(line, flush=True)


def server_env(*, app_url, redis_url, conn_max_age=None):
    from bench.webhook_events import PROVIDER_SETTINGS

    # Redis: the cache, and the broker receipts are queued to (no worker consumes them).
    return _server_env(
        app_url=app_url,
        redis_url=redis_url,
        conn_max_age=conn_max_age,
        extra={**PROVIDER_SETTINGS, "CELERY_TASK_ALWAYS_EAGER": "false"},
    )


def _warm(address, requests):
    """Every worker loads the views and the SDKs before the clock (GETs: 405, no effect)."""
    paths = {r.path.partition("?")[0] for r in requests} | {BASELINE_PATH}
    warm(
        address,
        [
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
            for path in sorted(paths)
        ],
    )


def _redis(url):
    import redis

    return redis.Redis.from_url(url)


def start_drain(env, *, workers, log_path):
    """The worker that applies the inbox: `celery worker -Q webhooks`, as deployed."""
    from bench.dispatch import start_workers

    return start_workers(env, workers=workers, queue="webhooks", log_path=log_path,
                         imports=())  # fmt: skip


def _inbox_done():
    """True once every stored event has been tried (applied, or failed and waiting)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM recovery_inboundwebhook "
            "WHERE applied_at IS NULL AND attempts = 0)"
        )
        return not cursor.fetchone()[0]


def inbox_problems():
    from recovery.models import InboundWebhook

    failed = InboundWebhook.objects.filter(applied_at__isnull=True)
    some = [f"inbox: {row.provider} {row.key} not applied: {row.error[:200]}" for row in failed[:3]]
    return some + ([f"inbox: {failed.count()} events not applied"] if some else [])


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench webhooks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--events", type=int, help=f"webhook events (full {FULL_SCALE:,})")
    parser.add_argument("--scale", type=float, help="fraction of full scale")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--threads", type=int, default=1, help="per worker; 1 = sync worker")
    parser.add_argument(
        "--drain-workers", type=int, default=2, help="Celery processes applying the inbox (2)"
    )
    parser.add_argument("--conn-max-age", type=int, help="CONN_MAX_AGE (default: the app's)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the office and the server log")
    parser.add_argument(
        "--database-url", help=f"default: $BENCH_DATABASE_URL or {DEFAULT_DATABASE_URL}"
    )
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--py-spy", metavar="FILE", help="profile the workers during ours (py-spy)")
    args = parser.parse_args(argv)
    if args.events is None:
        scale = args.scale if args.scale is not None else float(os.environ.get("BENCH_SCALE", "1"))
        args.events = max(50, round(FULL_SCALE * scale))

    from bench import runtime

    url = args.database_url or os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL
    runtime.setup(url, say=_say)
    from django.db import connection

    from bench.generate import generate
    from bench.imports import drop_office
    from bench.loadgen import fire, render
    from bench.webhook_events import build_requests, event_mix, seed_targets, verify

    app_url = app_database_url(url)
    started = time.perf_counter()
    slug = f"bench-webhooks-{time.strftime('%Y%m%d-%H%M%S')}"
    counts = generate(accounts=max(50, args.events), office_slug=slug, seed=args.seed)
    targets = seed_targets(office_id=counts["office_id"], events=args.events, seed=args.seed)
    requests = build_requests(targets, seed=args.seed)
    connection.close()
    _say(
        f"[setup] office {slug}: {counts['account']:,} accounts; events "
        f"{event_mix(args.events)} = {len(requests):,} requests "
        f"({time.perf_counter() - started:.1f}s)"
    )

    queue = _redis(args.redis_url)
    queue.flushdb()
    from recovery.models import InboundWebhook

    InboundWebhook.objects.all().delete()  # the bench database's inbox: ours only
    connection.close()
    log_path = os.path.join(tempfile.gettempdir(), f"{slug}-gunicorn.log")
    env = server_env(app_url=app_url, redis_url=args.redis_url, conn_max_age=args.conn_max_age)
    worker = start_drain(env, workers=args.drain_workers, log_path=log_path)
    proc, address = serve(env, workers=args.workers, threads=args.threads, log_path=log_path)
    host = f"{address[0]}:{address[1]}"
    ours_raw = [render(r, host=host) for r in requests]
    base_raw = [render(r, host=host, path=BASELINE_PATH) for r in requests]
    try:
        _warm(address, requests)
        runs = {}
        for name, raws in (("baseline", base_raw), ("ours", ours_raw), ("baseline 2", base_raw)):
            load_before = load_average()
            spy = py_spy(proc.pid, args.py_spy) if args.py_spy and name == "ours" else None
            until = _inbox_done if name == "ours" else None
            runs[name] = fire(raws, address=address, concurrency=args.concurrency, until=until)
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait()
            _say(
                f"[{name}] {runs[name].summary()}; load average {load_before:.1f} → "
                f"{load_average():.1f}"
            )
    finally:
        stop(proc)
        stop_workers(worker)
    queued = queue.llen("celery")
    queue.flushdb()

    problems = verify(targets) + inbox_problems()
    ours = runs["ours"]
    for name, run in runs.items():
        if run.non_2xx:
            problems.append(f"{name}: {run.non_2xx} non-2xx answers {dict(run.statuses)}")
            for body in run.failures[:2]:
                _say(f"[{name}] e.g. {body[:300]!r}")
    _say(
        f"[verify] {len(targets.completions):,} checkouts, {len(targets.refunds):,} "
        f"refunds, {targets.duplicates:,} re-deliveries, {len(targets.texts):,} texts, "
        f"{len(targets.emails):,} emails; {queued:,} tasks queued to the broker; "
        + ("all applied exactly once" if not problems else "PROBLEMS: " + "; ".join(problems))
    )
    if not args.keep:
        drop_office(counts["office_id"])
        os.unlink(log_path)
    else:
        _say(f"[keep] office {slug} (id {counts['office_id']}), server log {log_path}")
    base = (runs["baseline"].rate + runs["baseline 2"].rate) / 2
    _say(
        f"[ours] answered in {ours.answered:.2f}s ({len(requests) / ours.answered:,.0f} req/s), "
        f"all applied {ours.seconds:.2f}s after the first request"
    )
    _say(
        f"bench webhooks: {ours.rate:,.0f} events/s (baseline {base:,.0f}, ratio "
        f"{ours.rate / base:.2f}) events={len(requests)} concurrency={args.concurrency} "
        f"p50={ours.percentile(50) * 1000:.1f}ms p99={ours.percentile(99) * 1000:.1f}ms "
        f"non_2xx={ours.non_2xx} verified={'yes' if not problems else 'NO'}"
    )
    return 1 if problems else 0
