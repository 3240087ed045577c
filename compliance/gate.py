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

from dataclasses import dataclass, field, replace
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from compliance.facts import Attempt, load_facts
from compliance.models import ContactAttempt, Decision
from compliance.rules import Context, catalogue
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
    decision: Decision | None = None
    contact: ContactAttempt | None = None  # the contact-ledger row of an allowed attempt

    @property
    def allowed(self):
        return self.outcome == Decision.Outcome.ALLOW


def evaluate(attempts, *, reserve=False, record=True, known_at=None, rules=None):
    """Decide a batch of attempts for the office in context. Returns one Outcome each,
    in the order given.

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
        facts = load_facts(attempts, office=office, known_at=known_at, lock_debtors=reserve)
        pending_by_debtor = {}
        outcomes = {}
        for index in sorted(range(len(attempts)), key=lambda i: attempts[i].at):
            attempt = attempts[index]
            account = facts.accounts.get(attempt.account_id)
            if account is None:
                raise ValueError(f"Account {attempt.account_id} is not in this office")
            debtor = facts.debtors[account.debtor_id]
            pending = pending_by_debtor.setdefault(account.debtor_id, [])
            outcome = _decide(attempt, facts, account, debtor, pending, rules)
            outcomes[index] = outcome
            if outcome.allowed and attempt.ledger_id is None:
                # (A re-audited attempt is in the contact ledger already.)
                outcome.contact = _ledger_row(office_id, attempt, account)
                pending.append(outcome.contact)
        ordered = [outcomes[i] for i in range(len(attempts))]
        if record:
            _store(office_id, ordered, facts)
        if reserve:
            _reserve(ordered)
    return ordered


def _decide(attempt, facts, account, debtor, pending, rules):
    ctx = Context(
        attempt=attempt, facts=facts, account=account, debtor=debtor, at=attempt.at, pending=pending
    )
    verdicts = [v for rule in rules for v in rule(ctx)]
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


def _settle(ctx, rules, defers):
    """The earliest instant at which every deferring rule is satisfied at once."""
    shaping = list(defers)
    until = max(v.until for v in defers)
    for _ in range(_MAX_DEFER_ROUNDS):
        later = replace(ctx, at=until)
        again = [v for rule in rules for v in rule(later) if v.kind in ("defer", "block")]
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
    seen, out = set(), []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def _ledger_row(office_id, attempt, account):
    return ContactAttempt(
        office_id=office_id,
        debtor_id=account.debtor_id,
        account_id=account.id,
        contact_point_id=attempt.contact_point_id,
        channel=attempt.channel,
        occurred_at=attempt.at,
        debtor_initiated=attempt.debtor_initiated,
        content_flags=sorted(attempt.content),
    )


def _store(office_id, outcomes, facts):
    now = timezone.now()
    decisions = [
        Decision(
            office_id=office_id,
            message_id=o.attempt.message_id,
            action=o.attempt.channel,
            account_id=o.attempt.account_id,
            debtor_id=facts.accounts[o.attempt.account_id].debtor_id,
            contact_point_id=o.attempt.contact_point_id,
            planned_for=o.attempt.at,
            outcome=o.outcome,
            defer_until=o.defer_until,
            rule_ids=o.rule_ids,
            explanation=o.explanation,
            disclosures=o.disclosures,
            decided_at=now,
        )
        for o in outcomes
    ]
    for outcome, decision in zip(outcomes, Decision.objects.bulk_create(decisions), strict=True):
        outcome.decision = decision


def _reserve(outcomes):
    rows = []
    for outcome in outcomes:
        if outcome.contact is not None:
            if outcome.decision is not None:
                outcome.contact.decision_id = outcome.decision.pk
            rows.append(outcome.contact)
    ContactAttempt.objects.bulk_create(rows)
