"""`python -m bench generate`: build one realistic office on PostgreSQL.

    python -m bench generate --accounts 1000000
    python -m bench generate --scale 0.01          # 10,000 accounts

From Python (e.g. a test, inside Django's open transaction):

    from bench.generate import generate
    counts = generate(accounts=200, seed=1, office_slug="bench-test")

How it goes: the parent creates the office, its staff, creditors and placements through
the ORM, decides which accounts share a debtor, numbers accounts and debtors, and then
hands chunks of accounts to worker processes (fork) that build every row as CSV text.
The parent streams each chunk with `COPY` into a temporary staging table per target
table and moves it with `INSERT … SELECT` (the one place where rows enter the real
tables: `Loader.load`), so the load keeps working once the tables have row-level
security. Everything runs in one transaction on Django's connection: a failed run leaves
no half-built office behind. See bench/README.md for the data and the payment model.
"""

import argparse
import collections
import datetime as dt
import io
import multiprocessing
import os
import resource
import sys
import time
from random import Random

from bench import data
from bench.chunk import Chunk
from bench.rows import mix
from bench.world import SPACES, World

FULL_SCALE = 1_000_000
DEFAULT_SEED = 20240601
ADVISORY_LOCK = 0x62656E6368  # "bench": one generator per database at a time

# Each generated table: key, model, and the columns the generator writes, in CSV order.
# Columns not listed get the model field's default (or NULL when the field allows it).
TABLES = [
    ("debtor", "debtors.Debtor",
     "id office_id kind first_name middle_name last_name business_name date_of_birth "
     "ssn_last4 dob_bidx ssn_last4_bidx last_name_bidx match_bidx language created_at"),
    ("contactpoint", "debtors.ContactPoint",
     "id office_id debtor_id kind value phone_type line1 line2 city state postal_code "
     "country is_work is_primary validity source candidate_timezones timezone_source "
     "email_qualification email_qualified_at last_consent_at created_at"),
    ("consent", "debtors.Consent",
     "id office_id debtor_id contact_point_id channel kind source method effective_from "
     "effective_to recorded_at"),
    ("account", "accounts.Account",
     "id office_id creditor_id placement_id debtor_id creditor_reference office_reference "
     "original_creditor original_account_last4 debt_type governing_law_state currency "
     "origination_date charge_off_date last_payment_date itemization_date "
     "itemization_amount interest_since_itemization fees_since_itemization "
     "payments_since_itemization credits_since_itemization principal_balance "
     "interest_balance fees_balance total_placed total_collected interest_type "
     "interest_rate status status_changed_at assigned_agent_id tags placed_at resolved_at"),
    ("plan", "payments.PaymentPlan",
     "id office_id account_id status total_amount installment_amount installment_count "
     "frequency start_date autopay created_at ended_at"),
    ("installment", "payments.Installment",
     "id office_id plan_id sequence due_date amount paid_amount status"),
    ("payment", "payments.Payment",
     "id office_id account_id debtor_id installment_id amount currency method gateway "
     "gateway_reference status idempotency_key created_at received_at recorded_by_id"),
    ("transaction", "accounts.Transaction",
     "id office_id account_id kind principal interest fees currency effective_date "
     "posted_at reverses_id payment_id memo created_by_id"),
    ("event", "accounts.Event",
     "id office_id account_id debtor_id kind occurred_at actor_id summary data amount "
     "channel"),
    ("hold", "compliance.Hold",
     "id office_id kind scope debtor_id account_id source reason effective_from "
     "effective_to set_by_id"),
    ("dispute", "compliance.Dispute",
     "id office_id account_id debtor_id received_at received_via is_partial reason "
     "within_validation_period status verification_sent_at hold_id"),
]  # fmt: skip

# The one query that proves the ledger invariant: cached balances, total placed and
# total collected equal the sums of each account's ledger rows.
MISMATCH_SQL = """
SELECT count(*) FROM accounts_account a
LEFT JOIN (
    SELECT account_id,
           sum(principal) AS p, sum(interest) AS i, sum(fees) AS f,
           sum(principal + interest + fees) FILTER (WHERE kind = 'charge') AS placed,
           -sum(principal + interest + fees) FILTER (
               WHERE kind = 'payment' OR (kind = 'reversal' AND payment_id IS NOT NULL)
           ) AS collected
    FROM accounts_transaction WHERE office_id = %(office)s GROUP BY account_id
) l ON l.account_id = a.id
WHERE a.office_id = %(office)s
  AND (a.principal_balance, a.interest_balance, a.fees_balance, a.total_placed,
       a.total_collected)
      IS DISTINCT FROM
      (coalesce(l.p, 0), coalesce(l.i, 0), coalesce(l.f, 0), coalesce(l.placed, 0),
       coalesce(l.collected, 0))
"""


# --- loading ------------------------------------------------------------------------
class Loader:
    """COPY into a temporary staging table, then INSERT … SELECT into the real one.

    `COPY FROM` is refused on tables with row-level security, INSERT … SELECT is not; a
    staging table also lets columns the generator does not write take their model
    defaults. Staging tables are TEMP (private to this session, no WAL)."""

    def __init__(self, cursor):
        from django.apps import apps
        from django.db import connection

        self.cursor = cursor
        self.raw = cursor.cursor  # the driver's cursor, for COPY
        self.specs = {}
        for key, label, columns in TABLES:
            model = apps.get_model(label)
            table = model._meta.db_table
            cols = columns.split()
            fields = {f.column: f for f in model._meta.concrete_fields}
            unknown = [c for c in cols if c not in fields]
            if unknown:
                raise RuntimeError(f"bench: {table} has no column(s) {unknown}")
            fill_cols, fill_vals = [], []
            for column, field in fields.items():
                if column in cols or field.null or field.primary_key:
                    continue
                if field.has_db_default():
                    continue
                if not field.has_default() and not field.empty_strings_allowed:
                    raise RuntimeError(
                        f"bench: {table}.{column} is NOT NULL without a default; "
                        "teach bench/story.py and bench/chunk.py to write it"
                    )
                fill_cols.append(column)
                fill_vals.append(field.get_db_prep_save(field.get_default(), connection))
            stage = f"bench_stage_{key}"
            col_list = ", ".join(cols)
            cursor.execute(f"DROP TABLE IF EXISTS {stage}")
            cursor.execute(
                f"CREATE TEMP TABLE {stage} AS SELECT {col_list} FROM {table} WITH NO DATA"
            )
            targets = ", ".join(cols + fill_cols)
            values = ", ".join(cols + ["%s"] * len(fill_cols))
            self.specs[key] = (
                table,
                stage,
                f"COPY {stage} ({col_list}) FROM STDIN WITH (FORMAT csv)",
                f"INSERT INTO {table} ({targets}) SELECT {values} FROM {stage}",
                fill_vals,
                f"TRUNCATE {stage}",
            )
        self.seconds = collections.Counter()

    def load(self, key, text):
        """The one place rows enter a real table. `text` is CSV (UTF-8 bytes)."""
        if not text:
            return
        _table, _stage, copy_sql, insert_sql, params, truncate_sql = self.specs[key]
        t = time.perf_counter()
        if hasattr(self.raw, "copy_expert"):  # psycopg2
            self.raw.copy_expert(copy_sql, io.BytesIO(text), size=1 << 20)
        else:  # psycopg 3
            with self.raw.copy(copy_sql) as copy:
                copy.write(text)
        self.cursor.execute(insert_sql, params)
        self.cursor.execute(truncate_sql)
        self.seconds[key] += time.perf_counter() - t

    def close(self):
        for _table, stage, *_rest in self.specs.values():
            self.cursor.execute(f"DROP TABLE IF EXISTS {stage}")

    def table(self, key):
        return self.specs[key][0]


def _bypass_fk_triggers(cursor, tables):
    """Switch this transaction to `session_replication_role = replica`, which skips the
    per-row foreign-key triggers (about half of the load time), when that is safe: the
    role may set it (superuser, or GRANT SET ON PARAMETER) and no target table has a
    trigger of its own that replica mode would skip too. Returns (on, why not)."""
    from django.db import DatabaseError, transaction

    cursor.execute(
        "SELECT string_agg(DISTINCT tgrelid::regclass::text, ', ') FROM pg_trigger "
        "WHERE tgrelid = ANY(%s::regclass[]) AND NOT tgisinternal",
        [tables],
    )
    own = cursor.fetchone()[0]
    if own:
        return False, f"tables with triggers of their own: {own}"
    try:
        with transaction.atomic():  # a savepoint: a refusal must not end the transaction
            cursor.execute("SET LOCAL session_replication_role = replica")
    except DatabaseError as exc:
        return False, f"this role may not set session_replication_role ({exc.__class__.__name__})"
    return True, ""


def _analyze_loaded(cursor):
    """Statistics that know the rows just loaded (ANALYZE counts this transaction's own
    rows), for the checks below and for every bench that measures this office: with
    stale ones (autovacuum off, or not run yet) the planner expects a few dozen rows
    per office, and the foreign-key check alone ran for minutes at 60,000 accounts."""
    from django.apps import apps

    tables = ", ".join(apps.get_model(label)._meta.db_table for _key, label, _c in TABLES)
    cursor.execute(f"ANALYZE {tables}")


def _orphans(cursor, office_id):
    """Rows of the office whose foreign keys point nowhere (or into another office):
    the set-based check that replaces the skipped per-row triggers. {table: count}"""
    from django.apps import apps

    from recovery.tenancy import TenantModel

    found = {}
    cursor.execute("SET LOCAL work_mem = '256MB'")
    for _key, label, _columns in TABLES:
        model = apps.get_model(label)
        joins, conds = [], []
        for n, field in enumerate(model._meta.concrete_fields):
            if not field.is_relation or field.column == "office_id":
                continue
            target = field.related_model
            col = field.target_field.column
            source = target._meta.db_table
            if issubclass(target, TenantModel):
                source = f"(SELECT {col} FROM {source} WHERE office_id = %(office)s)"
            joins.append(f"LEFT JOIN {source} p{n} ON p{n}.{col} = c.{field.column}")
            conds.append(f"(c.{field.column} IS NOT NULL AND p{n}.{col} IS NULL)")
        if not conds:
            continue
        cursor.execute(
            f"SELECT count(*) FROM {model._meta.db_table} c {' '.join(joins)} "
            f"WHERE c.office_id = %(office)s AND ({' OR '.join(conds)})",
            {"office": office_id},
        )
        count = cursor.fetchone()[0]
        if count:
            found[model._meta.db_table] = count
    return found


def _sequence(cursor, table):
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    return cursor.fetchone()[0]


def _reserve(cursor, table, n):
    """Claim `n` consecutive ids from a table's sequence; returns the first."""
    seq = _sequence(cursor, table)
    cursor.execute("SELECT nextval(%s)", [seq])
    first = cursor.fetchone()[0]
    if n > 1:
        _advance(cursor, seq, first + n - 1)
    return first


_MAY_SETVAL = {}  # (database, user, sequence) -> whether this role may setval it


def _advance(cursor, seq, last):
    """Move a sequence to `last` (ids up to it are in use). `setval` needs UPDATE on the
    sequence; a role with only USAGE (the app role) draws the values one by one."""
    key = (cursor.db.settings_dict.get("NAME"), cursor.db.settings_dict.get("USER"), seq)
    if key not in _MAY_SETVAL:
        cursor.execute("SELECT has_sequence_privilege(%s, 'UPDATE')", [seq])
        _MAY_SETVAL[key] = cursor.fetchone()[0]
    if _MAY_SETVAL[key]:
        cursor.execute(f"SELECT setval(%s, GREATEST(%s, last_value)) FROM {seq}", [seq, last])
        return
    cursor.execute(
        f"SELECT count(*) FROM (SELECT nextval(%s) AS v FROM {seq}, "
        "generate_series(1, GREATEST(%s - last_value, 0))) s WHERE v > %s",
        [seq, last, last],
    )
    if cursor.fetchone()[0]:
        raise RuntimeError(f"bench: {seq} was used by another session during the run")


# --- workers ------------------------------------------------------------------------
# Set by the parent before the pool forks; the children inherit them.
_WORLD = None
_SHARED = None  # (next ids per space, turn, condition, abort flag) across processes
_LOCAL = None  # next ids per space when running in-process


def _take_ids(index, counts):
    """Ids for one chunk, handed out in chunk order so that a run is reproducible."""
    if _SHARED is None:
        base = dict(_LOCAL)
        for space in SPACES:
            _LOCAL[space] += counts[space]
        return base
    counters, turn, cond, abort = _SHARED
    with cond:
        ok = cond.wait_for(lambda: turn.value == index or abort.value, timeout=1800)
        if abort.value or not ok:
            raise RuntimeError(f"bench: chunk {index} gave up waiting for its ids")
        base = {}
        for k, space in enumerate(SPACES):
            base[space] = counters[k]
            counters[k] += counts[space]
        turn.value = index + 1
        cond.notify_all()
    return base


def _build(task):
    index, a0, a1 = task
    try:
        chunk = Chunk(index, a0, a1)
        chunk.simulate(_WORLD)
        counts = chunk.counts()
        base = _take_ids(index, counts)
        texts = {k: v.encode() for k, v in chunk.render(_WORLD, base).items() if v}
    except BaseException:
        if _SHARED is not None:
            _counters, _turn, cond, abort = _SHARED
            with cond:
                abort.value = 1
                cond.notify_all()
        raise
    counts["account"] = chunk.n_accounts
    counts["debtor"] = len(chunk.debtors)
    return index, texts, counts, base


# --- the office ---------------------------------------------------------------------
def _as_of_ts(as_of):
    if as_of is None:
        as_of = dt.datetime.now(dt.UTC).date()
    elif isinstance(as_of, str):
        as_of = dt.date.fromisoformat(as_of)
    return int(dt.datetime(as_of.year, as_of.month, as_of.day, tzinfo=dt.UTC).timestamp())


def _staff(office, n_agents):
    from recovery.models import Membership, Role, User

    people = [("manager", Role.MANAGER), ("supervisor", Role.SUPERVISOR),
              ("compliance", Role.COMPLIANCE)]  # fmt: skip
    people += [(f"agent{k:02d}", Role.AGENT) for k in range(1, n_agents + 1)]
    users = []
    for name, _role in people:
        user = User(email=f"{name}@{office.slug}.bench.example", full_name=name.title())
        user.set_unusable_password()
        users.append(user)
    users = User.objects.bulk_create(users)
    Membership.objects.bulk_create(
        Membership(user=u, office=office, role=role)
        for u, (_n, role) in zip(users, people, strict=True)
    )
    return [u.id for u, (_n, role) in zip(users, people, strict=True) if role == Role.AGENT]


def _creditors(office):
    from decimal import Decimal

    from accounts.models import Creditor

    rows = Creditor.objects.bulk_create(
        Creditor(
            office=office,
            name=c["name"],
            reference=c["reference"],
            contingency_fee_rate=Decimal(c["fee_rate"]),
            remittance_frequency=c["remittance"],
            remittance_email=f"remittance@{c['reference'].lower()}.example",
            allocation_order=c["allocation"],
        )
        for c in data.CREDITORS
    )
    return [dict(c, id=row.id) for c, row in zip(data.CREDITORS, rows, strict=True)]


def _placements(office, creditors, n, as_of_ts, seed, imported_by):
    """Monthly placements per creditor over five years, growing with the office; `n`
    accounts shared out by weight. Returns World placement tuples in time order."""
    from accounts.models import Placement

    r = Random(mix(seed, 3))
    months = 60
    as_of_date = dt.datetime.fromtimestamp(as_of_ts, dt.UTC).date()
    cells = []
    for ci, c in enumerate(creditors):
        for m in range(months):
            back = months - m  # calendar months before as-of's month
            year, month0 = divmod(as_of_date.year * 12 + as_of_date.month - 1 - back, 12)
            day = dt.date(year, month0 + 1, 2 + 3 * ci)
            ts = int(
                dt.datetime(day.year, day.month, day.day, 14 + ci % 5, tzinfo=dt.UTC).timestamp()
            )
            if ts >= as_of_ts:
                continue
            weight = c["share"] * (0.6 + 0.8 * m / (months - 1)) * r.uniform(0.75, 1.25)
            cells.append([ts, ci, weight, 0])
    total = sum(c[2] for c in cells)
    assigned = 0
    for c in cells:
        c[3] = int(n * c[2] / total)
        assigned += c[3]
    by_remainder = sorted(cells, key=lambda c: (-(n * c[2] / total - c[3]), c[0], c[1]))
    for c in by_remainder[: n - assigned]:
        c[3] += 1
    cells = sorted((c for c in cells if c[3]), key=lambda c: (c[0], c[1]))
    rows = []
    for ts, ci, _w, count in cells:
        when = dt.datetime.fromtimestamp(ts, dt.UTC)
        rows.append(
            Placement(
                office=office,
                creditor_id=creditors[ci]["id"],
                reference=f"{creditors[ci]['reference']}-{when:%Y-%m}",
                placed_at=when,
                file_sha256=f"{mix(seed, 4, ts, ci):016x}" * 4,
                account_count=count,
                status=Placement.Status.IMPORTED,
                imported_by_id=imported_by,
            )
        )
    rows = Placement.objects.bulk_create(rows)
    out, first = [], 0
    for row, (ts, ci, _w, count) in zip(rows, cells, strict=True):
        out.append((row.id, ci, ts, first, count))
        first += count
    return out


# --- the generator ------------------------------------------------------------------
def generate(
    *,
    accounts,
    seed=DEFAULT_SEED,
    office_slug=None,
    workers=None,
    chunk_size=None,
    as_of=None,
    fk_triggers=None,
    progress=None,
):
    """Build one office with `accounts` accounts on Django's default connection (which
    must be PostgreSQL), inside one transaction (a savepoint when one is already open).

    `fk_triggers`: None (default) skips PostgreSQL's per-row foreign-key triggers when
    that is allowed and safe (see `_bypass_fk_triggers`) and then checks every foreign
    key set-based at the end; True keeps the triggers. Returns a dict of row counts per
    table plus `office_id`, `mismatches` (ledger) and `orphans` (foreign keys)."""
    global _WORLD, _SHARED, _LOCAL
    from django.db import connection, transaction

    from debtors.timezones import zones_for_phone
    from recovery import tenancy
    from recovery.crypto import blind_index, encrypt
    from recovery.models import Office

    if connection.vendor != "postgresql":
        raise RuntimeError("bench.generate needs PostgreSQL (COPY)")
    if accounts < 1:
        raise ValueError("accounts must be at least 1")
    say = progress or (lambda line: None)
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if accounts >= 20_000 else 0
    if chunk_size is None:
        chunk_size = 5_000 if accounts >= 40_000 else max(500, -(-accounts // 8))
    as_of_ts = _as_of_ts(as_of)
    started = time.perf_counter()
    stamp = dt.datetime.now(dt.UTC)
    slug = office_slug or f"bench-{stamp:%Y%m%d-%H%M%S}"

    # Warm what the workers share, so each child does not build it again.
    encrypt("warm-up")
    blind_index("warm-up")
    zones_for_phone("+12125550100")

    cpu0 = _cpu_seconds()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
        backend_cpu0 = _process_cpu_seconds(backend)
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK])
        cursor.execute("SET LOCAL synchronous_commit = off")
        office = Office.objects.create(
            name=f"Bench Recovery Office {stamp:%Y-%m-%d %H:%M}",
            slug=slug,
            licensed_states=sorted(data.STATE_POPULATION),
            public_email=f"help@{slug}.bench.example",
            mailing_address="PO Box 1000, Columbus, OH 43215",
        )
        with tenancy.office_context(office.id):
            n_agents = max(3, min(40, accounts // 25_000))
            agents = _staff(office, n_agents)
            creditors = _creditors(office)
            placements = _placements(office, creditors, accounts, as_of_ts, seed, None)
            world = World(
                seed=seed,
                office_id=office.id,
                as_of_ts=as_of_ts,
                creditors=creditors,
                placements=placements,
                agents=agents,
            )
            world.build_structure()
            loader = Loader(cursor)
            world.account_base = _reserve(cursor, loader.table("account"), accounts)
            world.debtor_base = _reserve(cursor, loader.table("debtor"), world.n_debtors)
            sequences = {s: _sequence(cursor, loader.table(s)) for s in SPACES}
            starts = {s: _reserve(cursor, loader.table(s), 1) for s in SPACES}
            say(
                f"[{time.perf_counter() - started:7.1f}s] office {office.slug} (id {office.id}): "
                f"{accounts:,} accounts, {world.n_debtors:,} debtors, {len(placements)} "
                f"placements, {len(creditors)} creditors, {len(agents)} agents; "
                f"workers={workers} chunk={chunk_size}"
            )
            bypass, why = False, "asked for"
            if not fk_triggers:
                tables = [loader.table(key) for key, _label, _cols in TABLES]
                bypass, why = _bypass_fk_triggers(cursor, tables)
            if not bypass:
                # Check each statement's rows when it ends, not all at commit.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            say(
                f"[{time.perf_counter() - started:7.1f}s] foreign keys: "
                + ("checked set-based after the load" if bypass else f"per-row triggers ({why})")
            )

            tasks = [
                (k, a0, min(a0 + chunk_size, accounts))
                for k, a0 in enumerate(range(0, accounts, chunk_size))
            ]
            totals = collections.Counter()
            last_said = [time.perf_counter()]

            def take(result):
                index, texts, counts, base = result
                for key, _label, _cols in TABLES:
                    loader.load(key, texts.pop(key, b""))
                for space in SPACES:
                    if counts[space]:  # keep each sequence past the ids now in use
                        _advance(cursor, sequences[space], base[space] + counts[space] - 1)
                totals.update(counts)
                now = time.perf_counter()
                if index == len(tasks) - 1 or now - last_said[0] >= 10:
                    last_said[0] = now
                    done = totals["account"]
                    say(
                        f"[{now - started:7.1f}s] accounts {done:,}/{accounts:,} "
                        f"({100 * done / accounts:.0f}%) debtors {totals['debtor']:,} "
                        f"contact points {totals['contactpoint']:,} "
                        f"transactions {totals['transaction']:,} "
                        f"payments {totals['payment']:,} events {totals['event']:,} "
                        f"rss {_rss_mb()[0]:.0f} MB"
                    )

            _WORLD = world
            if workers:
                ctx = multiprocessing.get_context("fork")
                counters = ctx.RawArray("q", [starts[s] for s in SPACES])
                _SHARED = (counters, ctx.RawValue("i", 0), ctx.Condition(), ctx.RawValue("i", 0))
                pool = ctx.Pool(workers)
                try:
                    pending = collections.deque()
                    queue = iter(tasks)
                    for task in queue:
                        pending.append(pool.apply_async(_build, (task,)))
                        if len(pending) > workers:
                            break
                    while pending:
                        result = pending.popleft().get()
                        task = next(queue, None)
                        if task is not None:
                            pending.append(pool.apply_async(_build, (task,)))
                        take(result)
                    pool.close()
                except BaseException:
                    pool.terminate()
                    raise
                finally:
                    pool.join()
                    _SHARED = _WORLD = None
            else:
                _LOCAL = dict(starts)
                for task in tasks:
                    take(_build(task))
                _LOCAL = None
            _WORLD = None

            _analyze_loaded(cursor)
            t = time.perf_counter()
            cursor.execute(
                """
                UPDATE accounts_placement p SET total_placed = s.total, account_count = s.n
                FROM (SELECT placement_id, sum(total_placed) AS total, count(*) AS n
                      FROM accounts_account WHERE office_id = %(office)s
                      GROUP BY placement_id) s
                WHERE p.id = s.placement_id AND p.office_id = %(office)s
                """,
                {"office": office.id},
            )
            cursor.execute(MISMATCH_SQL, {"office": office.id})
            mismatches = cursor.fetchone()[0]
            say(
                f"[{time.perf_counter() - started:7.1f}s] ledger check "
                f"({time.perf_counter() - t:.1f}s): {mismatches} account(s) whose cached "
                "balances differ from their ledger"
            )
            orphans = {}
            if bypass:
                t = time.perf_counter()
                cursor.execute("SET LOCAL session_replication_role = origin")
                orphans = _orphans(cursor, office.id)
                say(
                    f"[{time.perf_counter() - started:7.1f}s] foreign key check "
                    f"({time.perf_counter() - t:.1f}s): "
                    + (f"ORPHANS {orphans}" if orphans else "no orphan rows")
                )
                if orphans:
                    raise RuntimeError(f"bench: rows with dangling foreign keys: {orphans}")
            else:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's default again
            loader.close()
        backend_cpu = _process_cpu_seconds(backend)
    secs = ", ".join(f"{k} {v:.0f}s" for k, v in loader.seconds.most_common())
    say(f"[{time.perf_counter() - started:7.1f}s] committed; load time by table: {secs}")
    own, children = (b - a for a, b in zip(cpu0, _cpu_seconds(), strict=True))
    pg = "n/a" if None in (backend_cpu, backend_cpu0) else f"{backend_cpu - backend_cpu0:.0f}s"
    say(f"cpu: this process {own:.0f}s, workers {children:.0f}s, postgres backend {pg}")
    counts = {key: totals[key] for key, _label, _cols in TABLES}
    counts.update(
        office_id=office.id,
        office_slug=office.slug,
        creditors=len(creditors),
        placements=len(placements),
        agents=len(agents),
        workers=workers,
        fk_triggers=not bypass,
        mismatches=mismatches,
        orphans=sum(orphans.values()),
    )
    return counts


def _cpu_seconds():
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


def _process_cpu_seconds(pid):
    """CPU seconds of a local process (the PostgreSQL backend), or None if not visible."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _rss_mb():
    """(this process, largest child process) peak resident memory in MB, by getrusage.
    Children count once they have ended (workers at the end of the run)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return own / 1024, child / 1024


# --- command line -------------------------------------------------------------------
def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench generate", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--accounts", type=int, help=f"number of accounts (full scale {FULL_SCALE:,})"
    )
    parser.add_argument("--scale", type=float, help="fraction of full scale (e.g. 0.01)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--office-slug", help="slug of the new office (default bench-<timestamp>)")
    parser.add_argument("--workers", type=int, help="worker processes (default: 2, 0 below 20k)")
    parser.add_argument("--chunk-size", type=int, help="accounts per chunk")
    parser.add_argument(
        "--fk-triggers",
        action="store_true",
        help="keep PostgreSQL's per-row foreign-key triggers during the load",
    )
    parser.add_argument(
        "--as-of", help="the generated office's 'today', YYYY-MM-DD (default today, UTC)"
    )
    parser.add_argument(
        "--database-url", help="default: $BENCH_DATABASE_URL or the local recovery_bench"
    )
    args = parser.parse_args(argv)
    if args.accounts is None:
        scale = args.scale if args.scale is not None else float(os.environ.get("BENCH_SCALE", "1"))
        args.accounts = max(1, round(FULL_SCALE * scale))

    from bench import runtime

    t = time.perf_counter()
    runtime.setup(args.database_url, say=_say)
    _say(f"[setup] database ready in {time.perf_counter() - t:.1f}s")

    started = time.perf_counter()
    counts = generate(
        accounts=args.accounts,
        seed=args.seed,
        office_slug=args.office_slug,
        workers=args.workers,
        chunk_size=args.chunk_size,
        as_of=args.as_of,
        fk_triggers=args.fk_triggers or None,
        progress=_say,
    )
    seconds = time.perf_counter() - started
    own, child = _rss_mb()
    workers = counts["workers"]
    # Peak memory: this process plus its largest child, by getrusage; the workers run side
    # by side, so the bound with every worker at that peak is printed too.
    peak = own + child
    bound = f" (with all {workers} workers at that peak: {own + child * workers:.0f} MB)"
    _say(
        f"peak rss: this process {own:.0f} MB, largest child {child:.0f} MB; sum {peak:.0f} MB"
        + (bound if workers > 1 else "")
    )
    rows = ", ".join(f"{k}={counts[k]:,}" for k, _label, _cols in TABLES)
    _say(f"rows: {rows}; mismatches={counts['mismatches']}")
    print(
        f"bench generate: {seconds:.1f} s (baseline -, ratio -) accounts={counts['account']} "
        f"events={counts['event']} peak_rss={peak:.0f} MB",
        flush=True,
    )
    return 1 if counts["mismatches"] else 0


def _say(line):
    print(line, flush=True)


if __name__ == "__main__":
    sys.exit(main())
