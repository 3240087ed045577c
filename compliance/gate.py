"""The one door every contact attempt passes: `evaluate(attempts)`.

Used by everything that contacts a debtor (the campaign dispatcher, an agent's call or
payment link, the portal's confirmations), at plan time and again at send time. A batch
costs a constant number of queries. Each attempt gets a decision — allow, defer until an
instant, or block — with the rule ids that shaped it, a sentence for people, and the
disclosures its content must carry; decisions are stored (F-RETAIN).

With `reserve=True` (send time) the debtors' rows are locked for the transaction and
every allowed attempt is written to the contact ledger at once, so two workers gating
the same debtor cannot both take the last slot under a cap.
"""

import json
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from compliance.facts import Attempt, load_facts
from compliance.models import ContactAttempt, Decision
from compliance.rules import Context, catalogue, rules_for
from recovery import tenancy
from recovery.models import Office

__all__ = ["Attempt", "Outcome", "evaluate"]

_MAX_DEFER_ROUNDS = 6


@dataclass
class Outcome:
    attempt: Attempt
    outcome: str
    rule_ids: list
    explanation: str
    defer_until: datetime | None = None
    disclosures: list = field(default_factory=list)
    decision_id: int | None = None
    # An allowed attempt's contact-ledger row, as the rules count it (with
    # reserve=True it is written to the ledger with the decision's id).
    _planned: object = None

    _row: tuple | None = None

    @property
    def decision(self):
        """The stored decision, as written (no query; batch code uses `decision_id`)."""
        if self.decision_id is None:
            return None
        decision = Decision(id=self.decision_id, **dict(zip(_DECISION_COLUMNS, self._row,
                                                            strict=True)))  # fmt: skip
        decision._state.adding = False
        return decision

    @property
    def allowed(self):
        return self.outcome == Decision.Outcome.ALLOW


def evaluate(attempts, *, reserve=False, record=True, known_at=None, rules=None, accounts=None):
    """Decide a batch of attempts for the office in context. Returns one Outcome each,
    in the order given.

    accounts: {id: Account with its debtor}, read by the caller in this transaction
    after locking the debtors (see `load_facts`); with reserve=True the caller must
    hold those locks.

    known_at: None decides on everything recorded now; "attempt" decides each attempt
    only on what had been recorded by its own instant (the audit's "known at send time").
    """
    office_id = tenancy.current_office_id()
    if office_id is None:
        raise tenancy.NoOfficeSelected("compliance.evaluate needs an office in context")
    attempts = list(attempts)
    if not attempts:
        return []
    rules = rules or catalogue()
    with transaction.atomic():
        office = Office.objects.get(pk=office_id)
        facts = load_facts(attempts, office=office, known_at=known_at, lock_debtors=reserve,
                           accounts=accounts)  # fmt: skip
        pending_by_debtor = {}
        outcomes = {}
        by_channel = {}  # the rules that may concern each channel, chosen once per batch
        for index in sorted(range(len(attempts)), key=lambda i: attempts[i].at):
            attempt = attempts[index]
            account = facts.accounts.get(attempt.account_id)
            if account is None:
                raise ValueError(f"Account {attempt.account_id} is not in this office")
            debtor = facts.debtors[account.debtor_id]
            pending = pending_by_debtor.setdefault(account.debtor_id, [])
            channel_rules = by_channel.get(attempt.channel)
            if channel_rules is None:
                channel_rules = by_channel[attempt.channel] = rules_for(rules, attempt.channel)
            outcome = _decide(attempt, facts, account, debtor, pending, channel_rules)
            outcomes[index] = outcome
            if outcome.allowed and attempt.ledger_id is None:
                # (A re-audited attempt is in the contact ledger already.)
                outcome._planned = _Planned.of(attempt, account)
                pending.append(outcome._planned)
        ordered = [outcomes[i] for i in range(len(attempts))]
        if record:
            _store(office_id, ordered, facts)
        if reserve:
            _reserve(office_id, ordered)
    return ordered


def _decide(attempt, facts, account, debtor, pending, rules):
    ctx = Context(
        attempt=attempt, facts=facts, account=account, debtor=debtor, at=attempt.at, pending=pending
    )
    verdicts = _verdicts(ctx, rules)
    blocks = [v for v in verdicts if v.kind == "block"]
    disclosures = [{"rule": v.rule, "text": v.disclosure} for v in verdicts if v.kind == "require"]
    if blocks:
        return Outcome(
            attempt, Decision.Outcome.BLOCK, _ids(blocks), " ".join(_unique(v.text for v in blocks))
        )
    defers = [v for v in verdicts if v.kind == "defer"]
    if defers:
        until, shaping = _settle(ctx, rules, defers)
        return Outcome(
            attempt,
            Decision.Outcome.DEFER,
            _ids(shaping),
            " ".join(_unique(v.text for v in shaping)),
            defer_until=until,
            disclosures=disclosures,
        )
    ids = _ids([v for v in verdicts if v.kind == "require"])
    if attempt.debtor_initiated:
        ids.insert(0, "F-RESPONSE")
        text = "Allowed once as a direct response to the debtor's own action (F-RESPONSE)."
    else:
        text = "Allowed: no rule stands in the way."
    return Outcome(attempt, Decision.Outcome.ALLOW, ids, text, disclosures=disclosures)


def _verdicts(ctx, rules):
    """Every rule's verdicts on one attempt. (Rule.__call__ inlined: `rules` were chosen
    for the attempt's channel already, and this loop is the gate's per-attempt cost.)"""
    verdicts = []
    for rule in rules:
        if rule.applies is not None and not rule.applies(ctx):
            continue
        result = rule.check(ctx)
        if result is None:
            continue
        if isinstance(result, list):
            verdicts.extend(result)
        else:
            verdicts.append(result)
    return verdicts


def _settle(ctx, rules, defers):
    """The earliest instant at which every deferring rule is satisfied at once."""
    shaping = list(defers)
    until = max(v.until for v in defers)
    for _ in range(_MAX_DEFER_ROUNDS):
        later = replace(ctx, at=until)
        again = [v for v in _verdicts(later, rules) if v.kind in ("defer", "block")]
        if not again:
            return until, shaping
        shaping.extend(v for v in again if v.rule not in {s.rule for s in shaping})
        candidates = [v.until for v in again if v.kind == "defer" and v.until > until]
        if not candidates:
            break
        until = max(candidates)
    return until, shaping


def _ids(verdicts):
    return _unique(v.rule for v in verdicts)


def _unique(items):
    return list(dict.fromkeys(items))


@dataclass(slots=True)
class _Planned:
    """An attempt allowed earlier in this batch, as the caps count it (the fields of a
    ContactAttempt the rules read). A model instance costs more than deciding the
    attempt, so one is built only when the row is written (reserve=True)."""

    debtor_id: int
    account_id: int
    contact_point_id: int | None
    channel: str
    occurred_at: datetime
    debtor_initiated: bool
    content_flags: list
    result: str = ContactAttempt.Result.ATTEMPTED
    pk: None = None

    @classmethod
    def of(cls, attempt, account):
        return cls(account.debtor_id, account.id, attempt.contact_point_id, attempt.channel,
                   attempt.at, attempt.debtor_initiated, sorted(attempt.content))  # fmt: skip


def _ledger_row(office_id, planned, decision_id):
    return ContactAttempt(
        office_id=office_id,
        debtor_id=planned.debtor_id,
        account_id=planned.account_id,
        contact_point_id=planned.contact_point_id,
        channel=planned.channel,
        occurred_at=planned.occurred_at,
        debtor_initiated=planned.debtor_initiated,
        content_flags=planned.content_flags,
        decision_id=decision_id,
    )


_DECISION_COLUMNS = (
    "office_id", "message_id", "action", "contact_point_id", "planned_for", "account_id",
    "debtor_id", "outcome", "defer_until", "rule_ids", "explanation", "disclosures",
    "decided_at",
)  # fmt: skip


def _copy_decisions(rows):
    """PostgreSQL: ids from the sequence, COPY into a temporary staging table, then one
    INSERT … SELECT. (COPY cannot write to a table with row-level security; the staging
    table has none, and the INSERT is checked by the policy like any other.)"""
    import csv
    import io
    import json

    columns = ", ".join(("id", *_DECISION_COLUMNS))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('compliance_decision', 'id')) "
            "FROM generate_series(1, %s)",
            [len(rows)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS decision_staging "
            "(LIKE compliance_decision INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for pk, row in zip(ids, rows, strict=True):
            writer.writerow(
                (pk, *row[:9], json.dumps(row[9]), row[10], json.dumps(row[11]), row[12])
            )
        buffer.seek(0)
        cursor.cursor.copy_expert(
            f"COPY decision_staging ({columns}) FROM STDIN WITH (FORMAT csv)", buffer
        )
        cursor.execute(
            f"INSERT INTO compliance_decision ({columns}) "  # noqa: S608 - constants only
            f"SELECT {columns} FROM decision_staging; DELETE FROM decision_staging"
        )
    return ids


def _store(office_id, outcomes, facts):
    """Write the decisions in one statement. (Row-level security forbids COPY here, and
    building model instances for bulk_create costs more than the rules themselves.)"""
    now = timezone.now()
    rows = [
        (
            office_id,
            o.attempt.message_id,
            o.attempt.channel,
            o.attempt.contact_point_id,
            o.attempt.at,
            o.attempt.account_id,
            facts.accounts[o.attempt.account_id].debtor_id,
            o.outcome,
            o.defer_until,
            o.rule_ids,
            o.explanation,
            o.disclosures,
            now,
        )
        for o in outcomes
    ]
    if connection.vendor == "postgresql":
        ids = _copy_decisions(rows)
    else:
        objs = Decision.objects.bulk_create(
            Decision(**dict(zip(_DECISION_COLUMNS, r, strict=True))) for r in rows
        )
        ids = [d.pk for d in objs]
    for outcome, pk, row in zip(outcomes, ids, rows, strict=True):
        outcome.decision_id = pk
        outcome._row = row


def _reserve(office_id, outcomes):
    """Write the allowed attempts to the contact ledger: on PostgreSQL one INSERT of
    arrays (no model instance per row; the policy checks it like any other INSERT)."""
    taken = [(o._planned, o.decision_id) for o in outcomes if o._planned is not None]
    if not taken:
        return
    if connection.vendor != "postgresql":
        ContactAttempt.objects.bulk_create(_ledger_row(office_id, p, d) for p, d in taken)
        return
    columns = (
        [p.debtor_id for p, _ in taken],
        [p.account_id for p, _ in taken],
        [p.contact_point_id for p, _ in taken],
        [p.channel for p, _ in taken],
        [p.result for p, _ in taken],
        [p.occurred_at for p, _ in taken],
        [d for _, d in taken],
        [p.debtor_initiated for p, _ in taken],
        [json.dumps(p.content_flags) for p, _ in taken],
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO compliance_contactattempt (office_id, debtor_id, account_id, "
            "contact_point_id, channel, result, occurred_at, decision_id, debtor_initiated, "
            "content_flags) SELECT %s, * FROM unnest(%s::bigint[], %s::bigint[], "
            "%s::bigint[], %s::text[], %s::text[], %s::timestamptz[], %s::bigint[], "
            "%s::boolean[], %s::jsonb[])",
            [office_id, *columns],
        )
