"""The rule catalogue (../shared/COMPLIANCE.md) as small units with ids.

Each rule declares what it applies to (`applies`) and returns verdicts for one attempt
in its context (`check`): a block, a deferral to an instant, or a disclosure the
content must carry. The gate combines them: any block wins; otherwise the attempt waits
until the latest deferral, re-checked; disclosures are appended by the renderer.
Rules never query the database: the gate hands them the batch's facts.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils.functional import cached_property

from debtors.timezones import US_TIME_ZONES

COLLECTION_CHANNELS = {"email", "sms", "call", "voicemail", "letter", "payment_link"}
PHONE_CHANNELS = {"call", "voicemail"}
WRITTEN_ELECTRONIC = {"email", "sms"}


@dataclass(frozen=True)
class Verdict:
    rule: str
    kind: str  # "block", "defer", "require"
    text: str
    until: datetime | None = None
    disclosure: str = ""


def block(rule, text):
    return Verdict(rule, "block", text)


def defer(rule, until, text):
    return Verdict(rule, "defer", text, until=until)


def require(rule, disclosure, text):
    return Verdict(rule, "require", text, disclosure=disclosure)


def day_label(instant):
    return f"{instant:%b} {instant.day}"


def label(model_class, field_name, value):
    """The display label of a choice (what get_FOO_display returns, at a dict lookup's
    cost: Django's own recomputes the flattened choices on every call)."""
    return _labels(model_class, field_name).get(value, value)


_LABELS = {}


def _labels(model_class, field_name):
    key = (model_class, field_name)
    if key not in _LABELS:
        _LABELS[key] = dict(model_class._meta.get_field(field_name).flatchoices)
    return _LABELS[key]


def cap_deferral(rule, rows, cap, sentence):
    """A deferral when `rows` (oldest first, inside a rolling 7 days) already fill `cap`:
    until the oldest row that keeps the cap full drops out of the window. `sentence`
    is formatted with n, cap and since."""
    if len(rows) < cap:
        return None
    until = rows[-cap].occurred_at + timedelta(days=7)
    return defer(rule, until, sentence.format(n=len(rows), cap=cap,
                                              since=day_label(rows[0].occurred_at)))  # fmt: skip


@dataclass
class Context:
    """One attempt with the facts around it, as the rules see it."""

    attempt: object
    facts: object
    account: object
    debtor: object  # DebtorFacts
    at: datetime
    pending: list = field(default_factory=list)  # attempts allowed earlier in this batch
    # Read by nearly every rule: plain attributes, set once.
    channel: str = field(init=False)
    collection: bool = field(init=False)  # a collection attempt, not a debtor-initiated reply

    def __post_init__(self):
        self.channel = self.attempt.channel
        self.collection = self.channel in COLLECTION_CHANNELS and not self.attempt.debtor_initiated

    @property
    def office(self):
        return self.facts.office

    @property
    def policy(self):
        return self.facts.policy

    @cached_property
    def contact_point(self):
        return self.debtor.contact_points.get(self.attempt.contact_point_id)

    @cached_property
    def third_party(self):
        return self.office.collector_type == "third_party"

    @cached_property
    def consumer(self):
        return self.account.debt_type == "consumer"

    @cached_property
    def reg_f(self):
        """Regulation F's contact practices bind this office for this debt."""
        return self.consumer and (self.third_party or self.policy.first_party_follows_reg_f)

    @cached_property
    def collector_reg_f(self):
        """Rules only a third-party collector of consumer debt follows (notices,
        disclosures that it is a debt collector)."""
        return self.consumer and self.third_party

    # What was true at this attempt's instant (the facts span the whole batch), and, in
    # the audit's "known at send time" mode, only what had been recorded by then.
    def _known(self, rows):
        if not self.facts.known_at_attempt:
            return rows
        return [r for r in rows if r.recorded_at <= self.at]

    def _effective(self, rows):
        return [
            r
            for r in self._known(rows)
            if r.effective_from <= self.at and (r.effective_to is None or r.effective_to > self.at)
        ]

    @cached_property
    def _circumstances(self):
        # Five rules ask about one kind each; filter the debtor's rows once.
        current = {}
        for c in self._effective(self.debtor.circumstances):
            current.setdefault(c.kind, c)
        return current

    def circumstance(self, kind):
        return self._circumstances.get(kind) if self.debtor.circumstances else None

    @cached_property
    def holds(self):
        return self._effective(self.debtor.holds)

    @cached_property
    def preferences(self):
        return self._effective(self.debtor.preferences)

    def consent(self, channel):
        """The latest consent or opt-out for this contact point and channel, or None."""
        rows = self.facts.consents.get((self.attempt.contact_point_id, channel), [])
        current = [r for r in self._known(rows) if r.effective_from <= self.at]
        return current[-1] if current else None

    @cached_property
    def disputes(self):
        return [
            d
            for d in self._known(self.facts.disputes.get(self.account.id, []))
            if d.received_at <= self.at
            and (d.verification_sent_at is None or d.verification_sent_at > self.at)
        ]

    @cached_property
    def notices(self):
        return [n for n in self.facts.notices.get(self.account.id, []) if n.sent_at <= self.at]

    @cached_property
    def zones(self):
        return self.debtor.zones or set(US_TIME_ZONES)

    def recent(self, *, days, channels=None, account_only=False, exclude_not_connected=False):
        """Attempts in the `days` before this one (ledger plus earlier in this batch)."""
        since = self.at.timestamp() - days * 86400
        rows = []
        for row in [*self.pending, *self.debtor.attempts]:
            if row.occurred_at.timestamp() <= since or row.occurred_at > self.at:
                continue
            if channels and row.channel not in channels:
                continue
            if account_only and row.account_id != self.account.id:
                continue
            if exclude_not_connected and row.result == "not_connected":
                continue
            if row.debtor_initiated or (row.pk and row.pk == self.attempt.ledger_id):
                continue
            rows.append(row)
        return sorted(rows, key=lambda r: r.occurred_at)


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    check: object
    applies: object = None
    # The channels (actions) the rule can ever concern; None: any. Declared so the gate
    # never calls a rule for an attempt it cannot touch (the per-attempt cost of a batch
    # is the number of rules called).
    channels: frozenset | None = None

    def concerns(self, channel):
        return self.channels is None or channel in self.channels

    def __call__(self, ctx):
        if not self.concerns(ctx.channel):
            return []
        if self.applies is not None and not self.applies(ctx):
            return []
        result = self.check(ctx)
        if result is None:
            return []
        return result if isinstance(result, list) else [result]


def catalogue():
    from compliance.rules import countries, federal, overlays, tcpa

    return [*federal.RULES, *tcpa.RULES, *overlays.RULES, *countries.RULES]


GATE = "Contact gate (compliance/gate.py)"


def catalogue_listing():
    """Every catalogue row as (id, title, where it is enforced): the gate's rules, then
    those enforced where their action happens (compliance.rules.elsewhere)."""
    from compliance.rules.elsewhere import ELSEWHERE

    rows = {}
    for rule in catalogue():
        rows.setdefault(rule.id, (rule.id, rule.title, GATE))
    for row in ELSEWHERE:
        rows.setdefault(row.id, (row.id, row.title, row.where))
    return list(rows.values())


def rules_for(rules, channel):
    """The rules that may concern an attempt on `channel`, in catalogue order."""
    return [rule for rule in rules if rule.concerns(channel)]
