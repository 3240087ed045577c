"""bench dispatch: gate + render + send through the providers' SDKs + record, with real
Celery workers on Redis, against a bare loop making the same SDK calls.

The product: `celery -A recovery worker` (prefork, `--workers` processes) running the
office's dispatch (`campaigns.dispatch.dispatch_due`, batches of 200, as
`recovery.tasks.dispatch_office` does) at a fixed instant inside every debtor's window,
until no message is left `planned`. The providers are a local fake at the HTTP level
(`bench/dispatch_fake.py`: Twilio's Messages API, Postmark's send API), reached through
the real SDKs (twilio's Client, anymail's Postmark backend). The baseline, in the same
run: `--workers` processes making the same SDK calls (one client/connection each) to the
same fake, as many as the product sent. Also: our CPU per message, not counting the SDK
calls (bench/dispatch_worker.py says how it is measured), and a check that every message
reached the fake exactly once.

    python -m bench dispatch --messages 20000 --workers 2      (or --scale 0.1)

Setup (once per size, committed): a generated first-party office (SMS allowed, T-CARRIER)
with validation notices and its mobiles checked against the reassigned-numbers database;
each run then removes the previous run's messages and what they left (decisions,
contact-ledger rows, timeline events) and plans N messages, half email and half SMS, one
per debtor and channel, each one the gate allows at the instant, then analyzes the tables
a pass reads (`bench.runtime.analyze`: autovacuum is off on the bench machines).
"""

import argparse
import math
import multiprocessing
import os
import signal
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

FULL_SCALE = 20_000
BATCH = 200
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/recovery_bench_dispatch"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"
# A Tuesday, 19:00 UTC: 14:00 in New York, 11:00 in Los Angeles, 09:00 in Honolulu.
AT = datetime(2026, 11, 17, 19, 0, tzinfo=UTC)
SETTINGS_MODULE = "bench.settings_dispatch"
# The fake's credentials (bench/settings_dispatch.py gives them to the product).
TWILIO_ACCOUNT_SID = "AC" + "b" * 32
TWILIO_AUTH_TOKEN = "bench-auth-token"  # noqa: S105 (the local fake's)
TWILIO_MESSAGING_SERVICE_SID = "MG" + "b" * 32
POSTMARK_SERVER_TOKEN = "bench-server-token"  # noqa: S105 (the local fake's)
EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"


def _say(line):
    print(line, flush=True)


# --- the office and its messages ------------------------------------------------------
def office_for(accounts, say=_say):
    from django.db import connection

    from bench.gate import _notices
    from bench.generate import generate
    from recovery import tenancy
    from recovery.models import Office

    slug = f"bench-dispatch-{accounts}"
    office = Office.objects.filter(slug=slug).first()
    if office is None:
        say(f"[setup] generating {slug}")
        generate(accounts=accounts, office_slug=slug, progress=say)
        office = Office.objects.get(slug=slug)
    if office.collector_type != "first_party":
        office.collector_type = "first_party"  # its own debts: SMS allowed (T-CARRIER)
        office.save(update_fields=["collector_type"])
    # (In the office's context: as the application role, row-level security applies.)
    with tenancy.office_context(office.id), connection.cursor() as cur:
        _notices(office, say)
        # The office checks its mobiles against the reassigned-numbers database before
        # texting (F-SMS60, T-RND): a day before the bench's instant.
        cur.execute(
            """UPDATE debtors_contactpoint SET last_reassigned_check_at = %s
               WHERE office_id = %s AND kind = 'phone' AND phone_type = 'mobile'""",
            [AT - timedelta(days=1), office.id],
        )
    return office


def _clear(office):
    """What earlier runs left: their messages, decisions, ledger rows and events."""
    from django.db import connection

    from recovery import tenancy

    with tenancy.office_context(office.id), connection.cursor() as cur:
        for sql in (
            """DELETE FROM compliance_contactattempt WHERE office_id = %(o)s AND decision_id IN
               (SELECT id FROM compliance_decision
                WHERE office_id = %(o)s AND message_id IS NOT NULL)""",
            "DELETE FROM compliance_decision WHERE office_id = %(o)s AND message_id IS NOT NULL",
            """DELETE FROM accounts_event WHERE office_id = %(o)s
               AND kind IN ('message_sent', 'message_blocked') AND occurred_at = %(at)s""",
            "DELETE FROM campaigns_message WHERE office_id = %(o)s",
        ):
            cur.execute(sql, {"o": office.id, "at": AT})


def plan(office, messages):
    """N planned messages due at AT, half email half SMS, one per debtor and channel,
    each allowed by the gate at AT (asked without recording). Returns their ids."""
    from accounts.models import Account
    from campaigns.dispatch import DEFAULT_TEXT
    from campaigns.models import Message
    from compliance.content import content_flags
    from compliance.gate import Attempt, evaluate
    from debtors.models import ContactPoint
    from recovery import tenancy

    _clear(office)
    wanted = {"email": messages - messages // 2, "sms": messages // 2}
    chosen = {"email": [], "sms": []}
    with tenancy.office_context(office.id):
        points = {}
        for cp in ContactPoint.objects.filter(kind__in=["email", "phone"]).order_by("id"):
            if cp.validity in ("invalid", "bounced", "returned", "disconnected"):
                continue
            if cp.kind == "email":
                points.setdefault((cp.debtor_id, "email"), cp.id)
            elif cp.phone_type == "mobile":
                points.setdefault((cp.debtor_id, "sms"), cp.id)
        accounts = Account.objects.order_by("id").values_list("id", "debtor_id")
        for channel in ("email", "sms"):
            content = content_flags(" ".join(DEFAULT_TEXT[channel]))
            seen, candidates = set(), []
            for account_id, debtor_id in accounts:
                cp = points.get((debtor_id, channel))
                if cp and debtor_id not in seen:
                    seen.add(debtor_id)
                    candidates.append(Attempt(account_id=account_id, channel=channel, at=AT,
                                              contact_point_id=cp, content=content))  # fmt: skip
            for start in range(0, len(candidates), 2000):
                batch = candidates[start : start + 2000]
                outcomes = evaluate(batch, record=False)
                chosen[channel] += [a for a, o in zip(batch, outcomes, strict=True)
                                    if o.outcome == "allow"]  # fmt: skip
                if len(chosen[channel]) >= wanted[channel]:
                    break
            if len(chosen[channel]) < wanted[channel]:
                raise SystemExit(
                    f"bench dispatch: only {len(chosen[channel])} {channel} messages of the "
                    f"{wanted[channel]} wanted are allowed in {office.slug}; use more accounts"
                )
        debtor_of = dict(accounts)
        # Email and SMS alternate in the outbox order, so every batch has both.
        picked = [chosen[c][: wanted[c]] for c in ("email", "sms")]
        order = [a for pair in zip(*picked, strict=False) for a in pair]
        order += picked[0][len(picked[1]) :]
        rows = [
            Message(office_id=office.id, account_id=a.account_id, debtor_id=debtor_of[a.account_id],
                    contact_point_id=a.contact_point_id, channel=a.channel,
                    due_at=AT - timedelta(minutes=1), status=Message.Status.PLANNED)
            for a in order
        ]  # fmt: skip
        made = Message.objects.bulk_create(rows, batch_size=2000)
    from bench.runtime import analyze

    analyze(*ANALYZED)
    return [m.id for m in made]


# What a dispatch pass reads: the outbox, the accounts and debtors it joins, and every
# table the gate's facts come from (an office generated before the generator analyzed
# its tables has none of their statistics either).
ANALYZED = (
    "campaigns_message", "accounts_account", "debtors_debtor", "debtors_contactpoint",
    "debtors_contactpreference", "debtors_circumstance", "debtors_consent", "compliance_hold",
    "compliance_contactattempt", "compliance_dispute", "compliance_validationnotice",
    "compliance_decision", "accounts_event",
)  # fmt: skip


def statuses(office):
    from collections import Counter

    from campaigns.models import Message
    from recovery import tenancy

    with tenancy.office_context(office.id):
        return Counter(Message.objects.values_list("status", flat=True))


def planned_left(office_id):
    from campaigns.models import Message
    from recovery import tenancy

    with tenancy.office_context(office_id):
        return Message.objects.filter(status=Message.Status.PLANNED).count()


# --- the fake, the workers ------------------------------------------------------------
def start_fake():
    from bench import dispatch_fake

    ctx = multiprocessing.get_context("fork")
    ports = ctx.Queue()
    proc = ctx.Process(target=dispatch_fake.serve, args=(ports,), daemon=True)
    proc.start()
    return proc, f"http://127.0.0.1:{ports.get(timeout=30)}"


def fake_counts(url):
    import json
    from urllib.request import urlopen

    with urlopen(f"{url}/counts", timeout=30) as answer:  # noqa: S310 (our local fake)
        return json.loads(answer.read())


def worker_env(*, database_url, redis_url, fake_url):
    from django.conf import settings

    env = {k: v for k, v in os.environ.items() if k not in ("RECOVERY_TESTING", "DEBUG")}
    env.update({"DJANGO_SETTINGS_MODULE": SETTINGS_MODULE, "DATABASE_URL": database_url,
                "REDIS_URL": redis_url, "BENCH_FAKE_URL": fake_url})  # fmt: skip
    # The workers read what this process wrote: the same keys, wherever they came from
    # (.env, the environment, or a test run's throwaway ones; a fresh CI clone has no .env).
    env.update(
        SECRET_KEY=settings.SECRET_KEY,
        FIELD_ENCRYPTION_KEYS=",".join(settings.FIELD_ENCRYPTION_KEYS),
        BLIND_INDEX_KEY=settings.BLIND_INDEX_KEY,
    )
    return env


def start_workers(env, *, workers, queue, log_path, imports=("bench.dispatch_worker",)):
    from bench.runtime import BASE_DIR

    args = [str(BASE_DIR / ".venv" / "bin" / "celery"), "-A", "recovery", "worker",
            *(f"-I{module}" for module in imports), "-P", "prefork", "-c", str(workers),
            "-Q", queue,
            "-l", "warning", "--without-gossip", "--without-mingle", "--without-heartbeat",
            "-n", f"{queue}@%h"]  # fmt: skip
    log = open(log_path, "ab")  # noqa: SIM115 (the worker writes to it until stopped)
    return subprocess.Popen(args, cwd=BASE_DIR, env=env, stdout=log, stderr=log,
                            start_new_session=True)  # fmt: skip


def stop_workers(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def tree_cpu(pid):
    """User + system CPU seconds of a process and its children (from /proc)."""
    total, todo = 0.0, [pid]
    tick = os.sysconf("SC_CLK_TCK")
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except OSError:
            continue
    return total


def wait_for(what, check, *, timeout, proc=None, log_path=None, failed=None):
    deadline = time.monotonic() + timeout
    while not check():
        if failed is not None and (error := failed()):
            raise RuntimeError(f"a task failed waiting for {what}: {error}; see {log_path}")
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the workers exited ({proc.returncode}) waiting for {what}; "
                               f"see {log_path}")  # fmt: skip
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}; see {log_path}")
        time.sleep(0.02)


# --- the baseline -----------------------------------------------------------------------
SMS_BODY = (
    "Hi Rosa, this is Bench Recovery about your Northwind Bank account NW-0000001. "
    "Options and payment: https://recovery.example/p/abcdefghijklmnopqrstuvwxyz/"
)
EMAIL_BODY = "Hello Rosa,\n\n" + "This is a reminder about your account. " * 12


def _baseline_part(share, fake_url, start, results):
    """One process's share of the SDK calls: (sms, email) counts; one client each."""
    from django.conf import settings
    from django.core.mail import EmailMessage, get_connection
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    sms, email = share
    client = Client(TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN,
                    http_client=TwilioHttpClient(timeout=20))  # fmt: skip
    client.api.base_url = fake_url
    connection = get_connection(EMAIL_BACKEND, api_url=f"{fake_url}/",
                                server_token=POSTMARK_SERVER_TOKEN)  # fmt: skip
    connection.open()
    start.wait()
    cpu = time.process_time()
    pid = os.getpid()
    for i in range(max(sms, email)):
        if i < sms:
            client.messages.create(
                to="+12125550100", body=SMS_BODY,
                messaging_service_sid=TWILIO_MESSAGING_SERVICE_SID,
                status_callback=f"https://recovery.example/webhooks/twilio/status/?m=b{pid}-{i}",
                validity_period=3600,
            )  # fmt: skip
        if i < email:
            message = EmailMessage(subject="About your account", body=EMAIL_BODY,
                                   from_email=settings.DEFAULT_FROM_EMAIL,
                                   to=["rosa@example.example"], connection=connection)  # fmt: skip
            message.metadata = {"office_id": "0", "message_id": f"b{pid}-{i}"}
            message.tags = ["collection"]
            message.send()
    connection.close()
    results.put(time.process_time() - cpu)


def baseline(*, sms, email, workers, fake_url):
    """Wall seconds and SDK CPU seconds for `sms` + `email` calls over `workers` processes."""
    ctx = multiprocessing.get_context("fork")
    start, results = ctx.Event(), ctx.Queue()
    shares = [(sms // workers + (i < sms % workers), email // workers + (i < email % workers))
              for i in range(workers)]  # fmt: skip
    procs = [ctx.Process(target=_baseline_part, args=(s, fake_url, start, results)) for s in shares]
    from django.db import connections

    connections.close_all()  # not shared with the children
    for proc in procs:
        proc.start()
    time.sleep(1.0)  # every child has its client ready
    started = time.perf_counter()
    start.set()
    for proc in procs:
        proc.join()
    wall = time.perf_counter() - started
    if any(p.exitcode != 0 for p in procs):
        raise RuntimeError("a baseline process failed")
    return wall, sum(results.get(timeout=10) for _ in procs)


# --- the run ----------------------------------------------------------------------------
def run(*, messages, workers, database_url, app_url, redis_url, say=_say, log_dir=None):
    """Plan, dispatch with real workers, then the baseline. Returns a dict of figures."""
    import redis
    from django.db import connection

    log_dir = log_dir or tempfile.gettempdir()
    accounts = max(200, messages * 3)
    office = office_for(accounts, say)
    ids = plan(office, messages)
    say(f"[setup] {len(ids):,} messages planned in {office.slug}, due {AT:%Y-%m-%d %H:%M} UTC")
    fake, fake_url = start_fake()
    stats, run_id = redis.Redis.from_url(redis_url), f"bench:dispatch:{uuid.uuid4().hex}"
    queue = f"bench-dispatch-{os.getpid()}"
    log_path = os.path.join(log_dir, f"{queue}.log")
    env = worker_env(database_url=app_url, redis_url=redis_url, fake_url=fake_url)
    from recovery.celery import app

    proc = start_workers(env, workers=workers, queue=queue, log_path=log_path)
    try:
        with app.connection_for_write(redis_url) as conn:

            def failed():
                return (stats.hget(run_id, "error") or b"").decode()

            def send(name, args, n=1):
                for _ in range(n):
                    app.send_task(name, args=args, queue=queue, connection=conn)

            send("bench.dispatch_warm", [run_id], n=workers * 2)
            wait_for("the workers to warm up", lambda: int(stats.hget(run_id, "warm") or 0)
                     >= workers * 2, timeout=120, proc=proc, log_path=log_path)  # fmt: skip
            cpu_before = tree_cpu(proc.pid)
            load = os.getloadavg()[0]
            started = time.perf_counter()
            enqueued, rounds = 0, 0
            while True:
                n = math.ceil(planned_left(office.id) / BATCH)
                if n == 0:
                    break
                rounds += 1
                if rounds > 20:
                    raise RuntimeError("messages still planned after 20 rounds")
                send("bench.dispatch_round", [office.id, AT.isoformat(), run_id, BATCH], n=n)
                enqueued += n
                wait_for("the dispatch tasks", lambda e=enqueued: int(
                    stats.hget(run_id, "tasks") or 0) >= e, timeout=600, proc=proc,
                    log_path=log_path, failed=failed)  # fmt: skip
            wall = time.perf_counter() - started
            worker_cpu = tree_cpu(proc.pid) - cpu_before
    finally:
        stop_workers(proc)
    figures = {k.decode(): float(v) for k, v in stats.hgetall(run_id).items()}
    stats.delete(run_id)
    counts = fake_counts(fake_url)
    ours = {c: {k: n for k, n in counts[c].items() if not k.startswith("b")} for c in counts}
    product_sent = {c: sum(ours[c].values()) for c in ours}
    base_wall, base_cpu = baseline(sms=product_sent["sms"], email=product_sent["email"],
                                   workers=workers, fake_url=fake_url)  # fmt: skip
    counts = fake_counts(fake_url)
    fake.kill()
    fake.join(timeout=10)  # reaped: no zombie left in the calling process
    connection.close()
    calls = sum(product_sent.values())
    return {
        "messages": len(ids),
        "ids": ids,
        "office": office,
        "wall": wall,
        "load": load,
        "tasks": enqueued,
        "figures": figures,
        "provider_calls": ours,
        "statuses": dict(statuses(office)),
        "worker_cpu": worker_cpu,
        "baseline_wall": base_wall,
        "baseline_cpu_per_call": base_cpu / max(1, calls),
        "baseline_calls": sum(sum(n.values()) for n in counts.values()) - calls,
    }


def summary(result, workers):
    f, n = result["figures"], result["messages"]
    sent = int(f.get("sent", 0))
    rate = n / result["wall"]
    base = result["baseline_calls"] / result["baseline_wall"]
    own_cpu = (f.get("cpu", 0) - f.get("sdk_cpu", 0)) / max(1, sent)
    return (
        rate,
        base,
        own_cpu,
        (
            f"bench dispatch: {rate:,.0f} messages/s "
            f"(baseline {base:,.0f}, ratio {rate / base:.2f}) "
            f"messages={n} workers={workers} cpu_per_message={own_cpu * 1e6:,.0f}µs"
        ),
    )


def problems(result):
    """What is wrong with the run's outcome: a message not sent, or sent twice."""
    found = []
    calls = result["provider_calls"]
    twice = [k for c in calls for k, n in calls[c].items() if n != 1]
    if twice:
        found.append(f"{len(twice)} messages reached the provider more than once: {twice[:5]}")
    reached = {int(k) for c in calls for k in calls[c]}
    missing = set(result["ids"]) - reached
    if missing:
        found.append(f"{len(missing)} messages never reached the provider")
    if result["statuses"] != {"sent": result["messages"]}:
        found.append(f"statuses {result['statuses']}, expected all sent")
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench dispatch",
                                     description=__doc__.split("\n")[0])  # fmt: skip
    parser.add_argument("--messages", type=int, help=f"planned messages (full {FULL_SCALE:,})")
    parser.add_argument("--scale", type=float, help="fraction of full scale")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (and baseline)")
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL))
    args = parser.parse_args(argv)
    if args.messages is None:
        scale = args.scale if args.scale is not None else float(os.environ.get("BENCH_SCALE", "1"))
        args.messages = max(BATCH, round(FULL_SCALE * scale))

    from bench import runtime

    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
    os.environ["REDIS_URL"] = args.redis_url
    url = runtime.setup(args.database_url or os.environ.get("BENCH_DATABASE_URL")
                        or DEFAULT_DATABASE_URL, say=_say)  # fmt: skip
    from bench.server import app_database_url

    result = run(messages=args.messages, workers=args.workers, database_url=url,
                 app_url=app_database_url(url), redis_url=args.redis_url)  # fmt: skip
    rate, base, own_cpu, line = summary(result, args.workers)
    f = result["figures"]
    sent = max(1, int(f.get("sent", 0)))
    _say(f"[dispatch] {result['tasks']} tasks; counts "
         f"{ {k: int(v) for k, v in f.items() if k not in ('cpu', 'sdk_cpu', 'warm', 'tasks')} }; "
         f"wall {result['wall']:.2f}s, load average {result['load']:.2f}")  # fmt: skip
    _say(f"[dispatch] CPU per message: in tasks {f.get('cpu', 0) / sent * 1e6:,.0f}µs, of it "
         f"SDK calls {f.get('sdk_cpu', 0) / sent * 1e6:,.0f}µs; whole worker tree (with Celery) "
         f"{result['worker_cpu'] / sent * 1e6:,.0f}µs; baseline SDK CPU per call "
         f"{result['baseline_cpu_per_call'] * 1e6:,.0f}µs")  # fmt: skip
    found = problems(result)
    for problem in found:
        _say(f"[dispatch] PROBLEM: {problem}")
    _say(line)
    return 1 if found else 0
