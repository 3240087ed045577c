"""The re-audit: every sent attempt judged again by the rules in force when it was sent.

It reports the violation rate twice: on the facts known at send time (must be zero: the
gate worked; this is the "compliance violation rate" KPI, with upheld complaints added)
and on the facts known now (a STOP or dispute that arrived before a send but was
recorded after it shows up only here, and tells the office where intake is slow).
"""

from collections import Counter
from dataclasses import dataclass, field

from compliance.facts import Attempt
from compliance.gate import evaluate
from compliance.models import Complaint, ContactAttempt

BATCH = 2000


@dataclass
class Figure:
    attempts: int = 0
    violations: int = 0
    by_rule: Counter = field(default_factory=Counter)
    examples: list = field(default_factory=list)

    @property
    def rate(self):
        return self.violations / self.attempts if self.attempts else 0.0


@dataclass
class AuditResult:
    known_at_send: Figure
    known_now: Figure
    upheld_complaints: int

    @property
    def violation_rate(self):
        """The KPI: violations on facts known at send time plus upheld complaints."""
        total = self.known_at_send.attempts
        bad = self.known_at_send.violations + self.upheld_complaints
        return bad / total if total else 0.0


def _attempt(row):
    return Attempt(
        account_id=row.account_id,
        channel=row.channel,
        at=row.occurred_at,
        contact_point_id=row.contact_point_id,
        content=frozenset(row.content_flags or ()),
        ledger_id=row.pk,
    )


def _tally(figure, rows, outcomes):
    for row, outcome in zip(rows, outcomes, strict=True):
        figure.attempts += 1
        if outcome.allowed:
            continue
        figure.violations += 1
        figure.by_rule.update(outcome.rule_ids)
        if len(figure.examples) < 20:
            figure.examples.append(
                (row.pk, row.account_id, row.channel, row.occurred_at, outcome.explanation)
            )


def audit(*, since=None, until=None):
    """Re-audit the contact ledger of the office in context."""
    rows_qs = ContactAttempt.objects.filter(debtor_initiated=False, account__isnull=False)
    if since:
        rows_qs = rows_qs.filter(occurred_at__gte=since)
    if until:
        rows_qs = rows_qs.filter(occurred_at__lt=until)
    at_send, now = Figure(), Figure()
    batch = []
    for row in rows_qs.order_by("occurred_at", "id").iterator(chunk_size=BATCH):
        batch.append(row)
        if len(batch) == BATCH:
            _run(batch, at_send, now)
            batch = []
    if batch:
        _run(batch, at_send, now)
    complaints = Complaint.objects.filter(outcome=Complaint.Outcome.UPHELD)
    if since:
        complaints = complaints.filter(received_at__gte=since)
    if until:
        complaints = complaints.filter(received_at__lt=until)
    return AuditResult(known_at_send=at_send, known_now=now, upheld_complaints=complaints.count())


def _run(rows, at_send, now):
    attempts = [_attempt(r) for r in rows]
    _tally(at_send, rows, evaluate(attempts, record=False, known_at="attempt"))
    _tally(now, rows, evaluate(attempts, record=False))
