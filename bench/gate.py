"""bench gate: compliance decisions for N planned messages, decisions saved.

The product: `compliance.gate.evaluate` over the batch (every rule, decisions written).
The baseline, in the same run on the same data: the same facts queries with no rule
logic, plus PostgreSQL COPY of exactly the decision rows the product wrote. Also
reports the queries per batch, which must not grow with the batch.

    python -m bench gate --messages 100000      (or --scale 0.01)
"""

import argparse
import csv
import io
import json
import os
import time
from collections import Counter

FULL_SCALE = 100_000
BATCH = 1_000
DECISION_COLUMNS = [
    "office_id", "message_id", "action", "contact_point_id", "planned_for", "account_id",
    "debtor_id", "outcome", "defer_until", "rule_ids", "explanation", "disclosures",
    "decided_at",
]  # fmt: skip


def _office(messages, say):
    """A generated office with one account per two messages (reused between runs)."""
    from bench.generate import generate
    from recovery.models import Office

    slug = f"bench-gate-{messages}"
    office = Office.objects.filter(slug=slug).first()
    if office is None:
        say(f"[setup] generating {slug} ({max(50, messages // 2):,} accounts)")
        generate(accounts=max(50, messages // 2), office_slug=slug, progress=say)
        office = Office.objects.get(slug=slug)
    _notices(office, say)
    return office


def _notices(office, say):
    """Validation notices for nine accounts in ten (set-based, once)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT 1 FROM compliance_validationnotice WHERE office_id = %s LIMIT 1",
                    [office.id])  # fmt: skip
        if cur.fetchone():
            return
        cur.execute(
            """
            INSERT INTO compliance_validationnotice
                (office_id, account_id, channel, sent_at, assumed_received_on, period_ends_on)
            SELECT office_id, id, 'letter', placed_at + interval '3 days',
                   (placed_at + interval '10 days')::date, (placed_at + interval '40 days')::date
            FROM accounts_account WHERE office_id = %s AND id %% 10 <> 0
            """,
            [office.id],
        )
        say(f"[setup] {cur.rowcount:,} validation notices")


def _attempts(office, messages):
    from datetime import UTC, datetime

    from accounts.models import Account
    from compliance.facts import Attempt
    from debtors.models import ContactPoint

    at = datetime(2026, 11, 17, 16, 0, tzinfo=UTC)  # a Tuesday, 11:00 in New York
    accounts = list(
        Account.objects.filter(office=office).order_by("id").values_list("id", "debtor_id")
    )
    points = {}
    for cp_id, debtor_id, kind in ContactPoint.objects.filter(
        office=office, kind__in=["email", "phone"]
    ).values_list("id", "debtor_id", "kind"):
        points.setdefault((debtor_id, kind), cp_id)
    attempts = []
    for i in range(messages):
        account_id, debtor_id = accounts[(i // 2) % len(accounts)]
        channel = "email" if i % 2 == 0 else "sms"
        cp = points.get((debtor_id, "email" if channel == "email" else "phone"))
        attempts.append(Attempt(account_id=account_id, channel=channel, at=at,
                                contact_point_id=cp))  # fmt: skip
    return attempts


def _copy_decisions(decisions):
    from django.db import connection

    buf = io.StringIO()
    writer = csv.writer(buf)
    for d in decisions:
        writer.writerow([
            d.office_id, d.message_id or "", d.action, d.contact_point_id or "",
            d.planned_for.isoformat() if d.planned_for else "", d.account_id or "",
            d.debtor_id or "", d.outcome, d.defer_until.isoformat() if d.defer_until else "",
            json.dumps(d.rule_ids), d.explanation, json.dumps(d.disclosures),
            d.decided_at.isoformat(),
        ])  # fmt: skip
    buf.seek(0)
    with connection.cursor() as cur:
        columns = ", ".join(DECISION_COLUMNS)
        cur.cursor.copy_expert(
            f"COPY compliance_decision ({columns}) FROM STDIN WITH (FORMAT csv)", buf
        )


def run(messages, say=print):
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from compliance.facts import load_facts
    from compliance.gate import evaluate
    from compliance.models import Decision
    from recovery import tenancy

    office = _office(messages, say)
    with transaction.atomic():
        with tenancy.office_context(office.id):
            attempts = _attempts(office, messages)
            batches = [attempts[i : i + BATCH] for i in range(0, len(attempts), BATCH)]
            # Warm both paths once (ZIP and area-code tables, imports) outside the clock.
            evaluate(batches[0][:50], record=False)
            load_facts(batches[0][:50], office=office)
            # Product: every rule, decisions written.
            decisions, queries = [], []
            started = time.perf_counter()
            for n, batch in enumerate(batches):
                if n < 2:  # count queries on two batches (capturing slows the rest)
                    with CaptureQueriesContext(connection) as ctx:
                        outcomes = evaluate(batch, record=True)
                    queries.append(len(ctx.captured_queries))
                else:
                    outcomes = evaluate(batch, record=True)
                decisions.extend(o.decision_id for o in outcomes)
            product = time.perf_counter() - started
            # Baseline: the same facts queries, no rules, then COPY of the same rows
            # (fetching those rows back to build the COPY is not counted).
            written = list(Decision.objects.filter(pk__in=decisions).order_by("pk"))
            started = time.perf_counter()
            for batch in batches:
                load_facts(batch, office=office)
            _copy_decisions(written)
            baseline = time.perf_counter() - started
            outcomes_count = dict(
                Counter(Decision.objects.filter(pk__in=decisions).values_list("outcome", flat=True))
            )
        transaction.set_rollback(True)  # leave the bench database as it was
    return {
        "messages": messages,
        "product_s": product,
        "baseline_s": baseline,
        "queries": queries,
        "outcomes": outcomes_count,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench gate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--messages", type=int, help=f"planned messages (full {FULL_SCALE:,})")
    parser.add_argument("--scale", type=float, help="fraction of full scale")
    parser.add_argument("--database-url")
    args = parser.parse_args(argv)
    if args.messages is None:
        scale = args.scale if args.scale is not None else float(os.environ.get("BENCH_SCALE", "1"))
        args.messages = max(BATCH, round(FULL_SCALE * scale))

    from bench import runtime

    runtime.setup(args.database_url, say=print)
    result = run(args.messages)
    rate = result["messages"] / result["product_s"]
    base = result["messages"] / result["baseline_s"]
    q = sorted(set(result["queries"]))
    print(f"[gate] outcomes {result['outcomes']}; queries per batch of {BATCH}: {q}")
    print(
        f"bench gate: {rate:,.0f} decisions/s (baseline {base:,.0f}, ratio {rate / base:.2f}) "
        f"messages={result['messages']} queries_per_batch={max(q)}",
        flush=True,
    )
    return 0 if len(q) == 1 else 1
