"""Everything the rules need to know about a batch of contact attempts, loaded in a
constant number of queries (no query per attempt).

`load_facts` answers "what was known at `as_of`": records with effective dates are
filtered by them, and rows recorded after `as_of` are left out when `known_at` is given
(the audit replays what was known at send time).
"""

from collections import defaultdict, namedtuple
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q

from accounts.models import Account
from compliance.models import (
    ContactAttempt,
    Dispute,
    ErasureRequest,
    Hold,
    OfficePolicy,
    ValidationNotice,
)
from compliance.rules.countries import in_eu
from debtors.models import Circumstance, Consent, ContactPoint, ContactPreference, Debtor
from debtors.timezones import debtor_candidate_states, debtor_candidate_zones
from recovery.lookups import array
from recovery.models import Office

LOOKBACK = timedelta(days=31)

_ROW_TYPES = {}


def row_type(model, *properties):
    """A read-only row with every field attribute of `model` (and `pk`, and the named
    properties of the model class, which must read only those fields): what the rules
    read of a record, at a tuple's cost. A batch reads hundreds of contact points and
    ledger rows, and building model instances of them cost more than the rules did.
    Rows are equal when they are of the same record, as model instances are."""
    row = _ROW_TYPES.get(model)
    if row is None:
        names = [f.attname for f in model._meta.concrete_fields]
        base = namedtuple(f"{model.__name__}Row", names)
        pk = names.index(model._meta.pk.attname)
        namespace = {
            "__slots__": (),
            "_meta": model._meta,  # choices' labels (rules.label) read the model's fields
            "pk": property(lambda self: self[pk]),
            "__eq__": lambda self, other: type(other) is type(self) and other[pk] == self[pk],
            "__hash__": lambda self: hash(self[pk]),
            **{name: model.__dict__[name] for name in properties},
        }
        row = _ROW_TYPES[model] = type(base.__name__, (base,), namespace)
    return row


def rows(queryset, row=None):
    """The queryset's records as `row_type` rows, in its order."""
    row = row or row_type(queryset.model)
    return map(row._make, queryset.values_list(*row._fields))


@dataclass
class Attempt:
    """One contact attempt (or action) to decide."""

    account_id: int
    channel: str  # email, sms, call, voicemail, letter, payment_link, legal, postcard
    at: datetime
    contact_point_id: int | None = None
    message_id: int | None = None
    # A direct, immediate answer to something the debtor just did (F-RESPONSE).
    debtor_initiated: bool = False
    # Content flags from the template: threatens_suit, overshadows, validation_notice,
    # final_notice, verification, scra_review.
    content: frozenset = frozenset()
    # When re-auditing a sent attempt: its own contact-ledger row, left out of the counts.
    ledger_id: int | None = None


@dataclass
class DebtorFacts:
    debtor: Debtor
    contact_points: dict = field(default_factory=dict)
    zones: set = field(default_factory=set)
    states: set = field(default_factory=set)
    circumstances: list = field(default_factory=list)
    preferences: list = field(default_factory=list)
    holds: list = field(default_factory=list)
    attempts: list = field(default_factory=list)  # ContactAttempt rows, recent first
    erasures: list = field(default_factory=list)  # ErasureRequest rows (EU-GDPR)


@dataclass
class Facts:
    office: Office
    policy: OfficePolicy
    accounts: dict
    debtors: dict
    consents: dict  # (contact_point_id, channel) -> [Consent, oldest first]
    disputes: dict  # account_id -> [Dispute not resolved or withdrawn]
    notices: dict  # account_id -> [ValidationNotice]
    ever_contacted: set  # account ids with any earlier collection communication
    known_at_attempt: bool = False  # rules see only what was recorded by each attempt
    # account_id -> [ContactAttempt: conversations and messages sent, oldest first], for
    # the accounts of a batch that furnishes to credit bureaus (F-PASSIVE); any age.
    furnishing: dict = field(
        default_factory=dict
    )  # rules see only what was recorded by each attempt
    # contact_point_id -> [ContactAttempt, oldest first], any age, for the third parties'
    # contact points a batch reaches (F-3P: a location inquiry once per third party).
    third_party: dict = field(default_factory=dict)


def _effective(qs, earliest, latest):
    """Rows in effect at some moment of [earliest, latest]; the rules pick per attempt."""
    return qs.filter(effective_from__lte=latest).filter(
        Q(effective_to__isnull=True) | Q(effective_to__gt=earliest)
    )


def load_facts(attempts, *, office, known_at=None, lock_debtors=False, accounts=None):
    """`accounts`: the batch's accounts with their debtors, when the caller has read them
    in this transaction after locking those debtors (the dispatcher's claim does both);
    they are then not read, nor locked, again."""
    as_of = max(a.at for a in attempts)
    earliest = min(a.at for a in attempts)
    account_ids = {a.account_id for a in attempts}
    if accounts is not None:
        accounts = {i: accounts[i] for i in account_ids if i in accounts}
        debtors = {a.debtor_id: DebtorFacts(debtor=a.debtor) for a in accounts.values()}
        debtor_ids = sorted(debtors)
    else:
        accounts = {a.id: a for a in Account.objects.filter(id__any=array(account_ids))}
        debtor_ids = sorted({a.debtor_id for a in accounts.values()})
        # No rule reads the encrypted identifiers; loading them costs a Fernet decrypt.
        debtor_qs = (
            Debtor.objects.filter(id__any=array(debtor_ids))
            .defer("date_of_birth", "ssn_last4")
            .order_by("id")
        )
        if lock_debtors:
            # Serialises gates on the same debtor: two workers cannot both take a cap's
            # last slot (the second waits, then counts the first one's attempt).
            debtor_qs = debtor_qs.select_for_update()
        debtors = {d.id: DebtorFacts(debtor=d) for d in debtor_qs}

    # One array parameter for every query below (recovery.lookups).
    debtor_array, account_array = array(debtor_ids), array(account_ids)

    def recorded(qs):
        # "attempt": filtered per attempt by the rules' context instead.
        if known_at is None or known_at == "attempt":
            return qs
        return qs.filter(recorded_at__lte=known_at)

    point_row = row_type(ContactPoint, "is_third_party")
    for cp in rows(ContactPoint.objects.filter(debtor_id__any=debtor_array), point_row):
        debtors[cp.debtor_id].contact_points[cp.id] = cp
    for facts in debtors.values():
        points = facts.contact_points.values()
        facts.zones = debtor_candidate_zones(points)
        facts.states = debtor_candidate_states(points)

    circumstances = _effective(
        Circumstance.objects.filter(debtor_id__any=debtor_array), earliest, as_of
    )
    for c in recorded(circumstances):
        debtors[c.debtor_id].circumstances.append(c)
    prefs = ContactPreference.objects.filter(debtor_id__any=debtor_array)
    for p in recorded(_effective(prefs, earliest, as_of)):
        debtors[p.debtor_id].preferences.append(p)
    holds = Hold.objects.filter(debtor_id__any=debtor_array)
    for h in recorded(_effective(holds, earliest, as_of)):
        debtors[h.debtor_id].holds.append(h)

    # Erased or not, a request restricts processing for good (EU-GDPR). Asked only where
    # the GDPR can apply (a batch of a US office's US debtors costs no query for it).
    eu_debtors = [d.debtor.pk for d in debtors.values() if in_eu(office, d.contact_points.values())]
    if eu_debtors:
        erasures = ErasureRequest.objects.filter(debtor_id__any=eu_debtors, received_at__lte=as_of)
        for r in recorded(erasures):
            debtors[r.debtor_id].erasures.append(r)

    attempts_qs = ContactAttempt.objects.filter(
        debtor_id__any=debtor_array, occurred_at__gte=earliest - LOOKBACK, occurred_at__lte=as_of
    ).order_by("-occurred_at")
    for row in rows(attempts_qs):
        debtors[row.debtor_id].attempts.append(row)

    consents = {}
    consent_qs = recorded(
        Consent.objects.filter(debtor_id__any=debtor_array, effective_from__lte=as_of)
    ).order_by("effective_from", "id")
    for c in rows(consent_qs):
        consents.setdefault((c.contact_point_id, c.channel), []).append(c)

    disputes = defaultdict(list)
    dispute_qs = recorded(
        Dispute.objects.filter(account_id__any=account_array, received_at__lte=as_of).exclude(
            status__in=[Dispute.Status.RESOLVED, Dispute.Status.WITHDRAWN]
        )
    )
    for d in dispute_qs:
        disputes[d.account_id].append(d)

    notices = defaultdict(list)
    notice_qs = ValidationNotice.objects.filter(account_id__any=account_array, sent_at__lte=as_of)
    for n in rows(notice_qs):
        notices[n.account_id].append(n)

    ever = set(
        ContactAttempt.objects.filter(account_id__any=account_array, occurred_at__lt=as_of)
        .exclude(debtor_initiated=True)
        .values_list("account_id", flat=True)
        .distinct()
    )
    furnishing = _furnishing_history(attempts, as_of)
    third_party = _third_party_history(attempts, debtors, as_of)
    return Facts(
        office=office,
        policy=policy_in_force(office, as_of),
        accounts=accounts,
        debtors=debtors,
        consents=consents,
        disputes=disputes,
        notices=notices,
        ever_contacted=ever,
        known_at_attempt=known_at == "attempt",
        furnishing=furnishing,
        third_party=third_party,
    )


# A message "placed" to the debtor about the debt (F-PASSIVE): written channels.
PASSIVE_MESSAGE_CHANNELS = ("email", "sms", "letter", "payment_link")


def _furnishing_history(attempts, as_of):
    """Conversations and messages of any age on the accounts a batch furnishes (one
    query, only when the batch furnishes)."""
    account_ids = {a.account_id for a in attempts if a.channel == "furnish"}
    if not account_ids:
        return {}
    rows = defaultdict(list)
    qs = ContactAttempt.objects.filter(
        account_id__any=array(account_ids), occurred_at__lte=as_of
    ).filter(
        Q(result=ContactAttempt.Result.CONVERSATION)
        | Q(channel__in=PASSIVE_MESSAGE_CHANNELS, debtor_initiated=False)
    )
    for row in qs.order_by("occurred_at", "id"):
        rows[row.account_id].append(row)
    return rows


def _third_party_history(attempts, debtors, as_of):
    """Earlier attempts on the third parties' contact points a batch reaches (one query,
    only when it reaches one)."""
    points = {
        cp.id
        for facts in debtors.values()
        for cp in facts.contact_points.values()
        if cp.is_third_party
    }
    wanted = {a.contact_point_id for a in attempts} & points
    if not wanted:
        return {}
    rows = defaultdict(list)
    qs = ContactAttempt.objects.filter(contact_point_id__any=wanted, occurred_at__lte=as_of)
    for row in qs.order_by("occurred_at", "id"):
        rows[row.contact_point_id].append(row)
    return rows


def policy_in_force(office, as_of):
    policy = (
        OfficePolicy.objects.filter(effective_from__lte=as_of).order_by("-effective_from").first()
    )
    return policy or OfficePolicy(office=office)
