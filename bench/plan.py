"""bench plan: plan one day of 5 campaigns over N accounts (write the outbox).

The product: `campaigns.planner.plan_due(office_id=…)` as the beat runs it (the app
role, the office in context, row-level security in force). The baseline, in the same
run on the same enrollments: one hand-written `INSERT … SELECT` writing exactly the same
message rows (same columns, same contact point choice), plus one `UPDATE` moving the
enrollments on. Each side runs in a transaction that is rolled back, so both start from
the same state; foreign keys are checked at statement end (`SET CONSTRAINTS ALL
IMMEDIATE`), since a rollback would otherwise skip the deferred checks a commit pays.
Both sides' message rows and enrollment states are compared by count and checksum.

    python -m bench plan --accounts 1000000      (or --scale 0.1)

Setup (once per office, committed, reused by later runs): 5 active campaigns of 2–4
steps over email, SMS and letter (one A/B split, one "skip if promise open"); every
account enrolled in one campaign, at one of its steps, `next_due_at` spread over five
days around the planning instant so that about a fifth of the enrollments — one day's
worth — is due.
"""

import argparse
import os
import time
from datetime import UTC, datetime

FULL_SCALE = 1_000_000
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/recovery_bench_plan"
PREFIX = "Bench plan"
# (name, [(wait_days, channels, conditions, variants)]) — 5 campaigns, 2–4 steps each.
AB = [{"key": "A", "percent": 50}, {"key": "B", "percent": 50}]
CAMPAIGNS = [
    (
        "early",
        [
            (0, ["email"], {}, []),
            (3, ["sms"], {}, []),
            (7, ["email", "sms"], {}, []),
            (14, ["letter"], {}, []),
        ],
    ),
    ("validation", [(0, ["letter"], {}, []), (10, ["email"], {}, [])]),
    (
        "nudge",
        [
            (0, ["sms"], {}, []),
            (2, ["sms"], {"skip_if": ["promise_open"]}, []),
            (5, ["email"], {}, []),
        ],
    ),
    (
        "settlement",
        [(0, ["email", "letter"], {}, AB), (7, ["sms"], {}, []), (21, ["letter"], {}, [])],
    ),
    (
        "late",
        [
            (0, ["letter"], {}, []),
            (14, ["email", "sms"], {}, []),
            (30, ["letter"], {}, []),
            (30, ["email"], {}, []),
        ],
    ),
]
CONTACT_KIND = {"email": "email", "sms": "phone", "call": "phone", "letter": "address"}
DEAD = "('invalid', 'bounced', 'returned', 'disconnected')"
MESSAGE_COLUMNS = (
    "office_id, enrollment_id, step_id, attempt, account_id, debtor_id, contact_point_id, "
    "channel, status, due_at, variant, created_at, provider, provider_message_id, "
    "provider_status, error_code"
)


def _say(line):
    print(line, flush=True)


# --- the office and its campaigns ---------------------------------------------------
def _office(accounts, say):
    """A generated office of `accounts` accounts: `bench-plan-N`, else any office of
    exactly that size in the database, else a new one."""
    from django.db import connection

    from bench.generate import generate
    from recovery import tenancy
    from recovery.models import Office

    slug = f"bench-plan-{accounts}"
    with tenancy.all_offices("bench plan: find a generated office of the right size"):
        office = Office.objects.filter(slug=slug).first()
        if office is None:
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT office_id FROM accounts_account GROUP BY office_id "
                    "HAVING count(*) = %s ORDER BY office_id LIMIT 1",
                    [accounts],
                )
                row = cur.fetchone()
            office = Office.objects.filter(pk=row[0]).first() if row else None
    if office is None:
        say(f"[setup] generating {slug} ({accounts:,} accounts)")
        counts = generate(accounts=accounts, office_slug=slug, progress=say)
        return counts["office_id"]
    say(f"[setup] reusing office {office.slug} (id {office.id})")
    return office.id


def _campaigns(office_id, say):
    """The bench campaigns and enrollments (made once). Returns the planning instant."""
    from django.db import connection, transaction

    from campaigns.models import Campaign, Step
    from recovery import tenancy

    with tenancy.office_context(office_id):
        existing = Campaign.objects.filter(name__startswith=PREFIX).order_by("id")
        if existing.count() == len(CAMPAIGNS):
            return existing[0].activated_at
        started = time.perf_counter()
        with transaction.atomic():
            if existing.exists():
                raise RuntimeError(f"office {office_id} has partial '{PREFIX}' campaigns")
            anchor = datetime.now(UTC).replace(microsecond=0)
            for n, (name, steps) in enumerate(CAMPAIGNS):
                campaign = Campaign.objects.create(
                    name=f"{PREFIX} {name}", status="active", activated_at=anchor
                )
                ids = []
                for position, (wait, channels, conditions, variants) in enumerate(steps, 1):
                    step = Step.objects.create(
                        campaign=campaign,
                        position=position,
                        wait_days=wait,
                        channels=channels,
                        conditions=conditions,
                        variants=variants,
                    )
                    ids.append(step.id)
                # Account i goes to campaign i mod 5, at step (i / 5) mod steps; due in
                # the hour ((i * 37) mod 120) - 24 from the anchor: 25 hours in 120 due.
                with connection.cursor() as cur:
                    cur.execute(
                        """
                        INSERT INTO campaigns_enrollment
                            (office_id, campaign_id, account_id, status, next_step_id,
                             next_due_at, variant, enrolled_at, exit_reason)
                        SELECT a.office_id, %s, a.id, 'active',
                               (%s::bigint[])[1 + (a.id / 5) %% %s],
                               %s + ((a.id * 37) %% 120 - 24) * interval '1 hour',
                               '', %s - interval '20 days', ''
                        FROM accounts_account a
                        WHERE a.office_id = %s AND a.id %% 5 = %s
                        """,
                        [campaign.id, ids, len(ids), anchor, anchor, office_id, n],
                    )
    if not connection.in_atomic_block:
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE campaigns_enrollment, campaigns_message")
    say(f"[setup] 5 campaigns, enrollments in {time.perf_counter() - started:.1f}s")
    return anchor


# --- the two sides ------------------------------------------------------------------
def _steps(office_id):
    from campaigns.models import Step
    from recovery import tenancy

    with tenancy.office_context(office_id):
        return list(
            Step.objects.filter(campaign__status__in=["active", "retiring"])
            .order_by("campaign_id", "position")
            .values("id", "campaign_id", "wait_days", "channels", "conditions", "variants")
        )


def _baseline_sql(steps, office_id, now):
    """The hand-written statements and their parameters: one INSERT … SELECT for every
    step and channel, one UPDATE for every step."""
    from campaigns.builder.variants import BUCKET_SQL

    values, params = [], []
    for s in steps:
        skip = "promise_open" in (s["conditions"] or {}).get("skip_if", [])
        for channel in s["channels"]:
            values.append("(%s::bigint, %s::text, %s::text, %s::boolean)")
            params += [s["id"], channel, CONTACT_KIND[channel], skip]
    variant, variant_params = "d.variant", []
    split = [s for s in steps if s["variants"]]
    if split:
        bucket = BUCKET_SQL.format(column="d.id")
        whens = []
        for s in split:
            inner, upto = [], 0
            variant_params.append(s["id"])
            for v in s["variants"]:
                upto += int(v["percent"])
                inner.append(f"WHEN {bucket} < %s THEN %s")
                variant_params += [upto, v["key"]]
            whens.append(f"WHEN d.next_step_id = %s THEN CASE {' '.join(inner)} ELSE d.variant END")
        variant = f"CASE {' '.join(whens)} ELSE d.variant END"
    insert = f"""
        WITH sc(step_id, channel, kind, skip_promise) AS (VALUES {", ".join(values)})
        INSERT INTO campaigns_message ({MESSAGE_COLUMNS})
        SELECT d.office_id, d.id, d.next_step_id, 1, d.account_id, a.debtor_id, cp.id,
               sc.channel, 'planned', d.next_due_at, {variant}, %s, '', '', '', ''
        FROM campaigns_enrollment d
        JOIN accounts_account a ON a.id = d.account_id AND a.office_id = d.office_id
        JOIN sc ON sc.step_id = d.next_step_id
        LEFT JOIN LATERAL (
            SELECT c.id FROM debtors_contactpoint c
            WHERE c.office_id = d.office_id AND c.debtor_id = a.debtor_id
              AND c.kind = sc.kind AND c.validity NOT IN {DEAD}
              AND (sc.channel <> 'sms' OR c.phone_type <> 'landline')
            ORDER BY c.is_primary DESC, c.id LIMIT 1
        ) cp ON true
        WHERE d.office_id = %s AND d.status = 'active' AND d.next_due_at <= %s
          AND NOT (sc.skip_promise AND EXISTS (
              SELECT 1 FROM payments_promisetopay p WHERE p.office_id = d.office_id
                AND p.account_id = d.account_id AND p.status = 'open'))
        ON CONFLICT DO NOTHING
    """
    insert_params = [*params, *variant_params, now, office_id, now]
    moves, move_params = [], []
    for s, nxt in zip(steps, [*steps[1:], None], strict=True):
        nxt = nxt if nxt and nxt["campaign_id"] == s["campaign_id"] else None
        moves.append("(%s::bigint, %s::bigint, %s::int)")
        move_params += [s["id"], nxt["id"] if nxt else None, nxt["wait_days"] if nxt else None]
    update = f"""
        UPDATE campaigns_enrollment e SET
            status = CASE WHEN m.next_id IS NULL THEN 'completed' ELSE 'active' END,
            next_step_id = m.next_id,
            next_due_at = %s + m.wait * interval '1 day',
            exited_at = CASE WHEN m.next_id IS NULL THEN %s ELSE e.exited_at END,
            exit_reason = CASE WHEN m.next_id IS NULL THEN 'completed' ELSE e.exit_reason END
        FROM (VALUES {", ".join(moves)}) m(step_id, next_id, wait)
        WHERE e.office_id = %s AND e.status = 'active' AND e.next_step_id = m.step_id
          AND e.next_due_at <= %s
    """
    return [(insert, insert_params), (update, [now, now, *move_params, office_id, now])]


CHECKSUM_SQL = [
    """SELECT count(*), coalesce(sum(hashtext(concat_ws('|', enrollment_id, step_id, channel,
              contact_point_id, due_at, account_id, debtor_id, attempt, status, variant,
              created_at, provider, provider_message_id, provider_status, error_code,
              send_time_reason, letter_html))::bigint), 0)
       FROM campaigns_message WHERE office_id = %s""",
    """SELECT count(*), coalesce(sum(hashtext(concat_ws('|', id, status, next_step_id,
              next_due_at, exited_at, exit_reason, variant))::bigint), 0)
       FROM campaigns_enrollment WHERE office_id = %s""",
]


def _side(office_id, now, work):
    """Run `work()` as the app role in the office's context, in a transaction that is
    rolled back. Returns (seconds, result of work, checksums afterwards)."""
    from django.conf import settings
    from django.db import connection, transaction

    from recovery import tenancy

    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(f"SET LOCAL ROLE {connection.ops.quote_name(settings.DATABASE_APP_ROLE)}")
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with tenancy.office_context(office_id):
            started = time.perf_counter()
            result = work()
            seconds = time.perf_counter() - started
            with connection.cursor() as cur:
                sums = []
                for sql in CHECKSUM_SQL:
                    cur.execute(sql, [office_id])
                    sums.append(tuple(cur.fetchone()))
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL DEFERRED")
        transaction.set_rollback(True)
    return seconds, result, sums


def _analyze():
    """Fresh statistics on what the planning joins (stale estimates skew both sides'
    plans)."""
    from bench.runtime import analyze

    analyze("accounts_account", "debtors_contactpoint", "payments_promisetopay",
            "campaigns_enrollment", "campaigns_message")  # fmt: skip


def _vacuum():
    """Rolled-back inserts leave dead rows and index entries: clear them between sides
    (when not inside a transaction, e.g. in a test)."""
    from django.db import connection

    if not connection.in_atomic_block:
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE campaigns_message, campaigns_enrollment")


def run(accounts, repeat=1, analyze=True, say=_say):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campaigns.planner import plan_due
    from recovery import tenancy

    office_id = _office(accounts, say)
    now = _campaigns(office_id, say)
    steps = _steps(office_id)
    statements = _baseline_sql(steps, office_id, now)
    if analyze:
        _analyze()
    with tenancy.office_context(office_id), connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FILTER (WHERE next_due_at <= %s), count(*) "
            "FROM campaigns_enrollment WHERE office_id = %s AND status = 'active'",
            [now, office_id],
        )
        due, enrolled = cur.fetchone()
    say(
        f"[plan] office {office_id}: {enrolled:,} active enrollments, {due:,} due; "
        f"{len(steps)} steps"
    )

    def product():
        with CaptureQueriesContext(connection) as ctx:
            written = plan_due(office_id=office_id, now=now)
        return written, len(ctx.captured_queries)

    def baseline():
        with connection.cursor() as cur:
            cur.execute(*statements[0])
            written = cur.rowcount
            cur.execute(*statements[1])
        return written, len(statements)

    ours, base = [], []
    for _ in range(repeat):
        _vacuum()
        seconds, (written, queries), ours_sums = _side(office_id, now, product)
        ours.append(seconds)
        say(f"[plan] plan_due {seconds:.2f}s, {written:,} messages, {queries} queries")
        _vacuum()
        seconds, (base_written, _), base_sums = _side(office_id, now, baseline)
        base.append(seconds)
        say(f"[plan] hand-written SQL {seconds:.2f}s, {base_written:,} messages")
    _vacuum()
    return {
        "accounts": accounts,
        "enrolled": enrolled,
        "due": due,
        "product_s": min(ours),
        "baseline_s": min(base),
        "written": written,
        "baseline_written": base_written,
        "queries": queries,
        "steps": len(steps),
        "match": ours_sums == base_sums,
        "sums": (ours_sums, base_sums),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench plan", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--accounts", type=int, help=f"accounts (full {FULL_SCALE:,})")
    parser.add_argument("--scale", type=float, help="fraction of full scale")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; the best of each side")
    parser.add_argument(
        "--no-analyze", action="store_true", help="keep the tables' statistics as they are"
    )
    parser.add_argument("--database-url")
    args = parser.parse_args(argv)
    if args.accounts is None:
        scale = args.scale if args.scale is not None else float(os.environ.get("BENCH_SCALE", "1"))
        args.accounts = max(100, round(FULL_SCALE * scale))
    url = args.database_url or os.environ.get("BENCH_PLAN_DATABASE_URL") or DEFAULT_DATABASE_URL

    from bench import runtime

    runtime.setup(url, say=_say)
    r = run(args.accounts, repeat=max(1, args.repeat), analyze=not args.no_analyze)
    if not r["match"]:
        print(f"[plan] MISMATCH: product {r['sums'][0]} baseline {r['sums'][1]}", flush=True)
    ratio = r["product_s"] / r["baseline_s"]
    print(
        f"bench plan: {r['product_s']:.2f} s (baseline {r['baseline_s']:.2f}, "
        f"ratio {ratio:.2f}) accounts={r['accounts']} due={r['due']} "
        f"messages={r['written']} queries={r['queries']} match={r['match']}",
        flush=True,
    )
    return 0 if r["match"] else 1
