"""The verbs that change accounts: post to the ledger, reverse, change status, record a
timeline event. Only this module writes balances or ledger rows.

Invariant: for every account, each cached balance equals the sum of its ledger rows'
component (principal, interest, fees). `ledger_post` keeps it by locking the account row
and updating the cache in the same transaction as the insert.
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


def event_record(
    *, account, kind, summary, actor=None, data=None, amount=None, channel="", occurred_at=None
):
    return Event.objects.create(
        account=account,
        debtor_id=account.debtor_id,
        kind=kind,
        summary=summary,
        actor=actor,
        data=data or {},
        amount=amount,
        channel=channel,
        occurred_at=occurred_at or timezone.now(),
    )


@transaction.atomic
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
    """Append one ledger row and move the cached balances by the same amounts."""
    principal = _money(principal, "principal")
    interest = _money(interest, "interest")
    fees = _money(fees, "fees")
    if kind not in Transaction.Kind.values:
        raise ValidationError({"kind": f"Unknown ledger entry kind {kind!r}."})
    if principal == interest == fees == ZERO:
        raise ValidationError("A ledger entry must move at least one balance.")
    locked = Account.objects.select_for_update().get(pk=account.pk)
    entry = Transaction.objects.create(
        account=locked,
        kind=kind,
        principal=principal,
        interest=interest,
        fees=fees,
        currency=locked.currency,
        effective_date=effective_date or timezone.localdate(),
        memo=memo,
        created_by=created_by,
        payment=payment,
        reverses=reverses,
    )
    collected = ZERO
    total = principal + interest + fees
    if kind == Transaction.Kind.PAYMENT:
        collected = -total
    elif kind == Transaction.Kind.REVERSAL and reverses and reverses.kind == "payment":
        collected = -total
    Account.objects.filter(pk=locked.pk).update(
        principal_balance=F("principal_balance") + principal,
        interest_balance=F("interest_balance") + interest,
        fees_balance=F("fees_balance") + fees,
        total_collected=F("total_collected") + collected,
    )
    account.refresh_from_db(
        fields=["principal_balance", "interest_balance", "fees_balance", "total_collected"]
    )
    return entry


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


@transaction.atomic
def account_transition(*, account, status, actor=None, reason=""):
    """Move an account along its lifecycle; refuses a transition the lifecycle forbids."""
    current = account.status
    if status == current:
        return account
    if status not in STATUS_TRANSITIONS[AccountStatus(current)]:
        raise ValidationError(
            f"An account that is {AccountStatus(current).label.lower()} cannot become "
            f"{AccountStatus(status).label.lower()}."
        )
    now = timezone.now()
    account.status = status
    account.status_changed_at = now
    account.resolved_at = now if status in RESOLVED_STATUSES else None
    account.save(update_fields=["status", "status_changed_at", "resolved_at"])
    event_record(
        account=account,
        kind=Event.Kind.STATUS_CHANGED,
        actor=actor,
        summary=f"{AccountStatus(current).label} → {AccountStatus(status).label}",
        data={"from": current, "to": status, "reason": reason},
    )
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
