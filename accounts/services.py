"""The verbs that change accounts: post to the ledger, reverse, change status, record a
timeline event. Only this module writes balances or ledger rows.

Invariant: for every account, each cached balance equals the sum of its ledger rows'
component (principal, interest, fees). `ledger_post` keeps it by locking the account row
and updating the cache in the same transaction as the insert; `ledger_stage` and
`ledger_write` do the same for many rows at once, on accounts the caller has locked.
"""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from accounts.models import (
    STATUS_TRANSITIONS,
    ZERO,
    Account,
    AccountStatus,
    Creditor,
    Event,
    Note,
    Transaction,
)
from recovery import tenancy

CENT = Decimal("0.01")
RESOLVED_STATUSES = {AccountStatus.PAID, AccountStatus.SETTLED}


def _money(value, field):
    if isinstance(value, float):
        raise TypeError(f"{field}: money is never a float; pass a Decimal or a string")
    amount = Decimal(value)
    if amount != amount.quantize(CENT):
        raise ValidationError({field: "Amounts have at most two decimal places."})
    return amount


SUMMARY_MAX = Event._meta.get_field("summary").max_length


def summary_fit(text):
    """A timeline summary that fits its column: a long reason is cut with an ellipsis,
    never refused (the whole text, where it matters, is kept elsewhere)."""
    text = " ".join(str(text).split())
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1] + "…"


def event_stage(
    *, account, kind, summary, actor=None, data=None, amount=None, channel="", occurred_at=None
):
    """The timeline event `event_record` would write, unsaved (for a bulk write)."""
    return Event(
        office_id=account.office_id,
        account=account,
        debtor_id=account.debtor_id,
        kind=kind,
        summary=summary_fit(summary),
        actor=actor,
        data=data or {},
        amount=amount,
        channel=channel,
        occurred_at=occurred_at or timezone.now(),
    )


def event_record(**fields):
    """Write one timeline event (the fields of `event_stage`)."""
    event = event_stage(**fields)
    event.save(force_insert=True)
    return event


def _entry(account, kind, principal, interest, fees, *, payment, reverses, **fields):
    """A checked ledger row for `account` (unsaved) and what it adds to the account's
    total collected."""
    principal = _money(principal, "principal")
    interest = _money(interest, "interest")
    fees = _money(fees, "fees")
    if kind not in Transaction.Kind.values:
        raise ValidationError({"kind": f"Unknown ledger entry kind {kind!r}."})
    if principal == interest == fees == ZERO:
        raise ValidationError("A ledger entry must move at least one balance.")
    collected = ZERO
    total = principal + interest + fees
    if kind == Transaction.Kind.PAYMENT:
        collected = -total
    elif kind == Transaction.Kind.REVERSAL and (
        (reverses is not None and reverses.kind == Transaction.Kind.PAYMENT)
        or (reverses is None and payment is not None)  # a partial refund of a payment
    ):
        collected = -total
    entry = Transaction(
        office_id=account.office_id,
        account=account,
        kind=kind,
        principal=principal,
        interest=interest,
        fees=fees,
        payment=payment,
        reverses=reverses,
        **fields,
    )
    return entry, collected


def ledger_post(
    *,
    account,
    kind,
    principal=ZERO,
    interest=ZERO,
    fees=ZERO,
    memo="",
    effective_date=None,
    created_by=None,
    payment=None,
    reverses=None,
):
    """Append one ledger row and move the cached balances by the same amounts.

    Checked first; then three statements in the caller's transaction (no savepoint of
    its own: no caller goes on after a failed post): the UPDATE of the balances takes
    the account's row lock, so posts to one account are serial, and `account` is
    refreshed from it."""
    entry, collected = _entry(
        account, kind, principal, interest, fees, payment=payment, reverses=reverses,
        memo=memo, effective_date=effective_date or timezone.localdate(), created_by=created_by,
    )  # fmt: skip
    with transaction.atomic(savepoint=False):
        Account.objects.filter(pk=account.pk).update(
            principal_balance=F("principal_balance") + entry.principal,
            interest_balance=F("interest_balance") + entry.interest,
            fees_balance=F("fees_balance") + entry.fees,
            total_collected=F("total_collected") + collected,
        )
        account.refresh_from_db(fields=["principal_balance", "interest_balance", "fees_balance",
                                        "total_collected", "currency"])  # fmt: skip
        entry.currency = account.currency
        entry.save(force_insert=True)
        return entry


def ledger_stage(
    *, account, kind, principal=ZERO, interest=ZERO, fees=ZERO, memo="", effective_date=None,
    created_by=None, payment=None, reverses=None,
):  # fmt: skip
    """The row `ledger_post` would append, unsaved, with `account`'s cached balances
    moved by it in memory; `ledger_write` writes both. For a caller that posts many
    rows at once and holds the account's row lock (`select_for_update`) in its
    transaction, so the balances in memory are the balances in the table."""
    entry, collected = _entry(
        account, kind, principal, interest, fees, payment=payment, reverses=reverses,
        memo=memo, effective_date=effective_date or timezone.localdate(), created_by=created_by,
        currency=account.currency,
    )  # fmt: skip
    account.principal_balance += entry.principal
    account.interest_balance += entry.interest
    account.fees_balance += entry.fees
    account.total_collected += collected
    return entry


STAGED_FIELDS = (
    "principal_balance", "interest_balance", "fees_balance", "total_collected",
    "status", "status_changed_at", "resolved_at",
)  # fmt: skip


def ledger_write(*, accounts, entries=(), events=()):
    """Write what was staged (`ledger_stage`, `status_stage`, `event_stage`): each
    account's balances and status as they are in memory, the ledger rows and the
    timeline events; three statements however many rows. The accounts are locked by the
    caller, in this transaction, and all belong to the office in context."""
    from portal import pagecache
    from recovery.bulk import rows_set

    accounts = list({a.pk: a for a in accounts}.values())
    with transaction.atomic(savepoint=False):
        rows_set(Account, accounts, STAGED_FIELDS)
        Transaction.objects.bulk_create(entries)
        Event.objects.bulk_create(events)
    if accounts:
        pagecache.forget_many(accounts[0].office_id, {a.debtor_id for a in accounts})


@transaction.atomic
def ledger_reverse(*, entry, memo="", created_by=None):
    """Post the exact opposite of an entry. An entry can be reversed once."""
    if entry.kind == Transaction.Kind.REVERSAL:
        raise ValidationError("A reversal cannot itself be reversed; post an adjustment.")
    if Transaction.objects.filter(reverses=entry).exists():
        raise ValidationError("This entry has already been reversed.")
    return ledger_post(
        account=entry.account,
        kind=Transaction.Kind.REVERSAL,
        principal=-entry.principal,
        interest=-entry.interest,
        fees=-entry.fees,
        memo=memo or f"Reversal of entry {entry.pk}",
        created_by=created_by,
        payment=entry.payment,
        reverses=entry,
    )


def ledger_sums(account):
    """The balances the ledger says the account has (for checks and reconciliation)."""
    sums = Transaction.objects.filter(account=account).aggregate(
        principal=Sum("principal"), interest=Sum("interest"), fees=Sum("fees")
    )
    # SQLite sums decimals as floats; every row is whole cents, so cents are exact.
    return {k: (v or ZERO).quantize(CENT) for k, v in sums.items()}


def account_ledger_mismatches():
    """Accounts of the current office whose cached balances differ from their ledger."""
    sums = (
        Transaction.objects.values("account_id")
        .annotate(p=Sum("principal"), i=Sum("interest"), f=Sum("fees"))
        .order_by()
    )
    by_account = {row["account_id"]: row for row in sums}
    mismatches = []
    for acc in Account.objects.only(
        "id", "principal_balance", "interest_balance", "fees_balance"
    ).iterator():
        row = by_account.get(acc.id, {"p": ZERO, "i": ZERO, "f": ZERO})
        ledger = tuple(Decimal(row[k] or ZERO).quantize(CENT) for k in ("p", "i", "f"))
        if (acc.principal_balance, acc.interest_balance, acc.fees_balance) != ledger:
            mismatches.append(acc.id)
    return mismatches


@transaction.atomic
def account_open(
    *, account, principal, interest=ZERO, fees=ZERO, actor=None, effective_date: date | None = None
):
    """Opening ledger entries and the 'placed' event for a newly placed account."""
    ledger_post(
        account=account,
        kind=Transaction.Kind.CHARGE,
        principal=principal,
        interest=interest,
        fees=fees,
        memo="Balance at placement",
        effective_date=effective_date,
        created_by=actor,
    )
    Account.objects.filter(pk=account.pk).update(
        total_placed=_money(principal, "principal")
        + _money(interest, "interest")
        + _money(fees, "fees")
    )
    account.refresh_from_db(fields=["total_placed"])
    event_record(
        account=account,
        kind=Event.Kind.PLACED,
        actor=actor,
        summary=f"Placed by {account.creditor.name}",
        data={"placement_id": account.placement_id},
        amount=account.total_placed,
    )
    return account


@transaction.atomic
def account_open_bulk(*, accounts, actor=None, effective_date: date | None = None, batch_size=2000):
    """Insert many new accounts with exactly the rows `account_open` writes for each —
    the opening charge, cached balances equal to it, total placed, the "placed" event —
    in three bulk inserts instead of a handful of queries per account.

    Each account arrives unsaved, its opening amounts set on `principal_balance`,
    `interest_balance` and `fees_balance`. Returns the saved accounts.
    """
    office_id = tenancy.current_office_id()
    if office_id is None:
        # bulk_create skips TenantModel.save(), so the first wall is checked here.
        raise tenancy.NoOfficeSelected("account_open_bulk needs an office in context")
    now = timezone.now()
    effective_date = effective_date or timezone.localdate()
    for account in accounts:
        if account.pk is not None:
            raise ValueError("account_open_bulk opens new accounts only")
        if account.office_id is None:
            account.office_id = office_id
        elif account.office_id != office_id:
            raise tenancy.NoOfficeSelected("Refusing to open an account of another office")
        parts = [
            _money(getattr(account, f"{name}_balance"), name)
            for name in ("principal", "interest", "fees")
        ]
        if not any(parts):
            raise ValidationError("A ledger entry must move at least one balance.")
        account.principal_balance, account.interest_balance, account.fees_balance = parts
        account.total_placed = sum(parts, ZERO)
        account.total_collected = ZERO
    accounts = Account.objects.bulk_create(accounts, batch_size=batch_size)
    Transaction.objects.bulk_create(
        [
            Transaction(
                office_id=a.office_id,
                account=a,
                kind=Transaction.Kind.CHARGE,
                principal=a.principal_balance,
                interest=a.interest_balance,
                fees=a.fees_balance,
                currency=a.currency,
                effective_date=effective_date,
                posted_at=now,
                memo="Balance at placement",
                created_by=actor,
            )
            for a in accounts
        ],
        batch_size=batch_size,
    )
    Event.objects.bulk_create(
        [
            Event(
                office_id=a.office_id,
                account=a,
                debtor_id=a.debtor_id,
                kind=Event.Kind.PLACED,
                actor=actor,
                summary=f"Placed by {a.creditor.name}",
                data={"placement_id": a.placement_id},
                amount=a.total_placed,
                occurred_at=now,
            )
            for a in accounts
        ],
        batch_size=batch_size,
    )
    return accounts


# The columns `account_open_staged` writes (the rest take their model defaults).
OPENING_TABLES = {
    "account": ("accounts.Account", (
        "id", "office_id", "creditor_id", "placement_id", "debtor_id", "creditor_reference",
        "office_reference", "original_creditor", "original_account_last4", "debt_type",
        "governing_law_state", "currency", "origination_date", "charge_off_date",
        "last_payment_date", "itemization_date", "itemization_amount", "principal_balance",
        "interest_balance", "fees_balance", "total_placed", "total_collected", "interest_type",
        "interest_rate", "status", "status_changed_at", "placed_at",
    )),
    "transaction": ("accounts.Transaction", (
        "id", "office_id", "account_id", "kind", "principal", "interest", "fees", "currency",
        "effective_date", "posted_at", "memo", "created_by_id",
    )),
    "event": ("accounts.Event", (
        "id", "office_id", "account_id", "debtor_id", "kind", "occurred_at", "actor_id",
        "summary", "data", "amount", "channel",
    )),
}  # fmt: skip


def account_open_staged(*, staging, accounts, creditor, actor=None, effective_date=None):
    """`account_open_bulk` for PostgreSQL's COPY path (`accounts.staging.Staging`, built
    with `OPENING_TABLES`): the same rows — account, opening charge, "placed" event —
    for new accounts of one creditor, each given as a dict of Account column values with
    its `id` drawn already. Runs inside the caller's transaction. Returns the total
    placed."""
    import json

    office_id = tenancy.current_office_id()
    if office_id is None:
        raise tenancy.NoOfficeSelected("account_open_staged needs an office in context")
    now = timezone.now()
    effective_date = effective_date or timezone.localdate()
    ids = staging.reserve_ids({"transaction": len(accounts), "event": len(accounts)})
    summary = f"Placed by {creditor.name}"
    actor_id = actor.pk if actor else None
    account_rows, ledger_rows, event_rows = [], [], []
    total = ZERO
    columns = OPENING_TABLES["account"][1]
    for a, ledger_id, event_id in zip(accounts, ids["transaction"], ids["event"], strict=True):
        if a.setdefault("office_id", office_id) != office_id:
            raise tenancy.NoOfficeSelected("Refusing to open an account of another office")
        parts = [_money(a[f"{name}_balance"], name) for name in ("principal", "interest", "fees")]
        if not any(parts):
            raise ValidationError("A ledger entry must move at least one balance.")
        placed = sum(parts, ZERO)
        total += placed
        a.update(
            creditor_id=creditor.pk, total_placed=placed, total_collected=ZERO,
            status=a.get("status") or AccountStatus.NEW,
        )  # fmt: skip
        account_rows.append(tuple(a[c] for c in columns))
        ledger_rows.append(
            (ledger_id, office_id, a["id"], Transaction.Kind.CHARGE.value, *parts,
             a["currency"], effective_date, now, "Balance at placement", actor_id)
        )  # fmt: skip
        event_rows.append(
            (event_id, office_id, a["id"], a["debtor_id"], Event.Kind.PLACED.value, now,
             actor_id, summary, json.dumps({"placement_id": a["placement_id"]}), placed, "")
        )  # fmt: skip
    staging.load("account", account_rows)
    staging.load("transaction", ledger_rows)
    staging.load("event", event_rows)
    return total


def status_stage(*, account, status, actor=None, reason="", at=None):
    """Move `account` along its lifecycle in memory (refusing a transition the lifecycle
    forbids) and return the timeline event that says so, unsaved; None when the account
    has that status already. `ledger_write` or `account_transition` writes both."""
    current = account.status
    if status == current:
        return None
    if status not in STATUS_TRANSITIONS[AccountStatus(current)]:
        raise ValidationError(
            f"An account that is {AccountStatus(current).label.lower()} cannot become "
            f"{AccountStatus(status).label.lower()}."
        )
    at = at or timezone.now()
    account.status = status
    account.status_changed_at = at
    account.resolved_at = at if status in RESOLVED_STATUSES else None
    return event_stage(
        account=account,
        kind=Event.Kind.STATUS_CHANGED,
        actor=actor,
        summary=f"{AccountStatus(current).label} → {AccountStatus(status).label}",
        data={"from": current, "to": status, "reason": reason},
        occurred_at=at,
    )


@transaction.atomic
def account_transition(*, account, status, actor=None, reason=""):
    """Move an account along its lifecycle; refuses a transition the lifecycle forbids."""
    event = status_stage(account=account, status=status, actor=actor, reason=reason)
    if event is None:
        return account
    account.save(update_fields=["status", "status_changed_at", "resolved_at"])
    event.save(force_insert=True)
    return account


@transaction.atomic
def creditor_create(*, name, reference, **fields):
    """A new client of the office in context. References are unique in an office."""
    creditor = Creditor(name=name, reference=reference, **fields)
    creditor.full_clean(exclude=["office"])
    if Creditor.objects.filter(reference__iexact=creditor.reference).exists():
        raise ValidationError({"reference": "Another creditor of this office has this reference."})
    creditor.save()
    return creditor


ALLOCATION_COMPONENTS = ("fees", "interest", "principal")


@transaction.atomic
def creditor_update(*, creditor, **fields):
    """Change a client's terms. The allocation order must name each balance component
    once; the fee rate is a share between 0 and 1."""
    order = fields.get("allocation_order")
    if order is not None and sorted(order) != sorted(ALLOCATION_COMPONENTS):
        raise ValidationError(
            {"allocation_order": "Put fees, interest and principal in order, each once."}
        )
    for name, value in fields.items():
        setattr(creditor, name, value)
    creditor.full_clean(exclude=["office"])
    if (
        Creditor.objects.filter(reference__iexact=creditor.reference)
        .exclude(pk=creditor.pk)
        .exists()
    ):
        raise ValidationError({"reference": "Another creditor of this office has this reference."})
    creditor.save()
    return creditor


@transaction.atomic
def account_recall(*, account, reason, actor=None):
    """The creditor takes an account back: it leaves collection for good (the lifecycle
    allows no way out of "recalled"), with the creditor's reason on the timeline. An
    account already paid, settled or closed cannot be recalled; one already recalled
    is refused too, so a second recall is never recorded as if it changed anything."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": "Say why the creditor recalls the account."})
    locked = Account.objects.select_for_update().get(pk=account.pk)
    if locked.status == AccountStatus.RECALLED:
        raise ValidationError("This account has already been recalled.")
    account_transition(account=locked, status=AccountStatus.RECALLED, actor=actor, reason=reason)
    account.refresh_from_db(fields=["status", "status_changed_at", "resolved_at"])
    return account


@transaction.atomic
def note_add(*, account, body, author):
    body = body.strip()
    if not body:
        raise ValidationError({"body": "Write something before saving the note."})
    note = Note.objects.create(account=account, body=body, author=author)
    event_record(
        account=account,
        kind=Event.Kind.NOTE,
        actor=author,
        summary="Note added",
        data={"note_id": note.pk},
    )
    return note
