"""A payment's effect on the books: applying it when the money arrives, taking it back
when it is refunded, charged back or returned. Each runs in one transaction, locks the
payment and then the debtor's accounts in id order, and is a no-op when repeated, so a
webhook delivered twice or out of order changes nothing the second time."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import ZERO, Account, AccountStatus, Event, Transaction
from accounts.services import (
    event_record,
    event_stage,
    ledger_stage,
    ledger_write,
    status_stage,
)
from compliance.models import Dispute
from payments.allocation import COMPONENTS, AccountBalances, allocate
from payments.models import Installment, Payment, PaymentPlan, PromiseToPay
from recovery.bulk import rows_set
from recovery.lookups import array
from recovery.models import WorkItem

PAID_LIKE = {AccountStatus.PAID, AccountStatus.SETTLED}
DISPUTING = (Dispute.Status.OPEN, Dispute.Status.VERIFIED)


def _locked(payment):
    """The payment locked, its account and office read with it. Only the payment: the
    accounts are locked after it, in id order (`_debtor_accounts`), by whoever moves
    their balances, so two payments of one debtor never wait on each other crosswise.

    The payment locks here are FOR NO KEY UPDATE: no id changes, so a row that points
    at the locked one (a timeline event inserted by a delivery callback, a gateway
    event) does not wait for us, and cannot close a cycle with us."""
    return (
        Payment.objects.select_for_update(of=("self",), no_key=True)
        .select_related("account__office")
        .get(pk=payment.pk)
    )


def _debtor_accounts(*debtor_ids):
    """The debtors' accounts, locked in id order (the one lock order for payments);
    their creditors are read, not locked."""
    return {
        a.id: a
        for a in Account.objects.select_for_update(of=("self",), no_key=True)
        .filter(debtor_id__any=array(debtor_ids))
        .select_related("creditor")
        .order_by("id")
    }


def _disputed(accounts):
    return set(
        Dispute.objects.filter(
            account_id__any=array(list(accounts)), status__in=DISPUTING
        ).values_list("account_id", flat=True)
    )


def _balances(accounts, disputed):
    return [
        AccountBalances(
            account_id=a.id,
            balances={
                "principal": a.principal_balance,
                "interest": a.interest_balance,
                "fees": a.fees_balance,
            },
            order=tuple(a.creditor.allocation_order or ()),
            disputed=a.id in disputed or a.status == AccountStatus.DISPUTED,
            opened_on=a.placed_at,
        )
        for a in accounts
    ]


@transaction.atomic
def payment_processing(*, payment, reference=""):
    """The debtor paid by bank debit (ACH): the money is on its way, not yet here."""
    payment = _locked(payment)
    if payment.status != Payment.Status.PENDING:
        return payment
    payment.status = Payment.Status.PROCESSING
    payment.gateway_reference = reference or payment.gateway_reference
    payment.save(update_fields=["status", "gateway_reference"])
    event_record(
        account=payment.account,
        kind=Event.Kind.PAYMENT,
        summary=f"Bank payment of {payment.amount} started; it takes a few days to clear",
        amount=payment.amount,
        data={"payment_id": payment.id, "status": "processing"},
    )
    return payment


@transaction.atomic
def payment_succeeded(*, payment, reference="", received_at=None, actor=None):
    """The money arrived: apply it to the ledger, move statuses, keep plans and
    promises, queue the receipt. Repeating it is a no-op."""
    return payments_succeeded([(payment, reference)], received_at=received_at, actor=actor)[0]


SUCCEEDED_FIELDS = ["status", "unapplied_amount", "gateway_reference", "received_at"]


def _payments_locked(ids):
    """{id: payment} locked in id order (FOR NO KEY UPDATE), account and office read."""
    locked = {
        p.id: p
        for p in Payment.objects.select_for_update(of=("self",), no_key=True)
        .select_related("account__office")
        .filter(pk__any=array(list(ids)))
        .order_by("id")
    }
    if len(locked) != len(set(ids)):
        raise Payment.DoesNotExist(f"payments not found: {sorted(set(ids) - set(locked))}")
    return locked


@transaction.atomic
def payments_succeeded(arrived, *, received_at=None, actor=None, locked=None):
    """`payment_succeeded` for many payments of the office in context, in the order
    given ([(payment or its id, reference)]): their locked rows, in that order. Repeating one is a
    no-op. The payments are locked in id order, then all their debtors' accounts in id
    order, and applied in memory, one after another; then every balance, ledger row,
    timeline event and payment is written in one statement per table. A payment for
    a plan's installment, and every other payment of its debtor, goes one at a time
    after the rest (keeping the plan can settle the account). `locked`: the payments,
    locked by the caller already (`_payments_locked`)."""
    ids = [getattr(payment, "pk", payment) for payment, _ in arrived]
    locked = locked if locked is not None else _payments_locked(ids)
    todo, alone, seen = [], [], set()
    by_plan = {locked[i].account.debtor_id for i in ids if locked[i].installment_id}
    for payment_id, reference in zip(ids, (reference for _, reference in arrived), strict=True):
        payment = locked[payment_id]
        if payment.account.debtor_id in by_plan:
            alone.append((payment, reference))
        elif payment.pk not in seen:  # the same payment twice: the second is a no-op
            seen.add(payment.pk)
            if payment.status in OPEN:
                todo.append((payment, reference))
    received_at = received_at or timezone.now()
    if todo:
        _succeed(todo, received_at=received_at, actor=actor)
    for payment, reference in alone:
        if payment.status in OPEN:  # the locked row, as an earlier one here left it
            _succeed([(payment, reference)], received_at=received_at, actor=actor)
    return [locked[i] for i in ids]


OPEN = (Payment.Status.PENDING, Payment.Status.PROCESSING)


def _succeed(todo, *, received_at, actor):
    accounts = _debtor_accounts(*{payment.account.debtor_id for payment, _ in todo})
    disputed = _disputed(accounts)
    by_debtor = {}
    for account in accounts.values():
        by_debtor.setdefault(account.debtor_id, []).append(account)
    entries, events, paid, work = [], [], [], []
    for payment, reference in todo:
        own = {a.id: a for a in by_debtor.get(payment.account.debtor_id, ())}
        allocation = allocate(
            payment.amount,
            _balances(own.values(), disputed),
            direction=payment.direction or None,
            primary_id=None if payment.direction else payment.account_id,
        )
        today = payment.account.office.today()
        for account_id, parts in allocation.applied.items():
            entries.append(
                ledger_stage(
                    account=own[account_id],
                    kind=Transaction.Kind.PAYMENT,
                    **{c: -parts.get(c, ZERO) for c in COMPONENTS},
                    memo=f"Payment {payment.id} ({payment.get_method_display()})",
                    effective_date=today,
                    created_by=actor,
                    payment=payment,
                )
            )
            applied = sum(parts.values(), ZERO)
            events.append(
                event_stage(
                    account=own[account_id],
                    kind=Event.Kind.PAYMENT,
                    actor=actor,
                    summary=f"Payment of {applied} received ({payment.get_method_display()})",
                    amount=applied,
                    channel=payment.source,
                    data={"payment_id": payment.id, "parts": {k: str(v) for k, v in parts.items()}},
                )
            )
        payment.status = Payment.Status.SUCCEEDED
        payment.unapplied_amount = allocation.unapplied
        payment.gateway_reference = reference or payment.gateway_reference
        payment.received_at = received_at
        touched = set(allocation.applied)
        if payment.settles_account:
            more_entries, more_events = _settle_staged(
                payment, own[payment.account_id], actor=actor
            )
            entries += more_entries
            events += more_events
            touched.add(payment.account_id)
        for account_id in allocation.applied:
            account = own[account_id]
            if account.balance == ZERO and account.status not in PAID_LIKE:
                reason = "Paid in full"
                events.append(
                    status_stage(
                        account=account, status=AccountStatus.PAID, actor=actor, reason=reason
                    )
                )
        if allocation.unapplied > ZERO:
            work.append(
                WorkItem(
                    office_id=payment.office_id,
                    kind=WorkItem.Kind.REVIEW,
                    account_id=payment.account_id,
                    title=f"Refund an overpayment of {allocation.unapplied} (payment {payment.id})",
                    detail="More was paid than is owed. The difference is held as a credit; "
                    "refund it to the debtor.",
                    due_at=timezone.now() + timezone.timedelta(days=2),
                )
            )
        touched.add(payment.account_id)  # statuses as moved above, on the locked rows
        paid.append((payment, set(allocation.applied), touched))
    written = [payment for payment, _, _ in paid]
    moved = {e.account_id for e in entries} | {
        e.account_id for e in events if e.kind == Event.Kind.STATUS_CHANGED
    }
    ledger_write(accounts=[accounts[i] for i in sorted(moved)], entries=entries, events=events)
    rows_set(Payment, written, SUCCEEDED_FIELDS)
    WorkItem.objects.bulk_create(work)
    _promises_kept({i for _, applied, _ in paid for i in applied})
    for payment in written:
        if payment.installment_id:
            _installment_paid(payment, actor=actor)
    _letters_queue(paid, accounts)


def _letters_queue(paid, accounts):
    """After the commit: a receipt for each payment, a paid-in-full or settled letter
    for each account it closed (one task for the lot)."""
    from payments.tasks import payment_letters

    if not paid:
        return
    office_id = paid[0][0].office_id
    receipts = [payment.id for payment, _, _ in paid]
    letters = [account_id for _, _, touched in paid for account_id in sorted(touched)
               if accounts[account_id].status in PAID_LIKE]  # fmt: skip
    transaction.on_commit(lambda: payment_letters.delay(office_id, receipts, letters))


def _settle_staged(payment, account, *, actor):
    """What forgiving the rest of a settled account takes: its ledger rows and events."""
    rest = {
        "principal": account.principal_balance,
        "interest": account.interest_balance,
        "fees": account.fees_balance,
    }
    entries, events = [], []
    if any(v > ZERO for v in rest.values()):
        entries.append(
            ledger_stage(
                account=account,
                kind=Transaction.Kind.ADJUSTMENT,
                **{c: -max(v, ZERO) for c, v in rest.items()},
                memo=f"Settled: balance forgiven after payment {payment.id}",
                created_by=actor,
                payment=payment,
            )
        )
    event = status_stage(
        account=account,
        status=AccountStatus.SETTLED,
        actor=actor,
        reason=f"Settled in full by payment {payment.id}",
    )
    if event is not None:
        events.append(event)
    return entries, events


def _settle(payment, account, *, actor):
    """Forgive what a settlement leaves and mark the account settled (the account is
    locked by the caller)."""
    entries, events = _settle_staged(payment, account, actor=actor)
    ledger_write(accounts=[account], entries=entries, events=events)


def _promises_kept(account_ids):
    """An open promise is kept once the payments since it was made reach its amount."""
    from django.db.models import Sum

    open_promises = PromiseToPay.objects.filter(
        account_id__any=array(sorted(account_ids)), status="open"
    ).select_related("account")
    for promise in open_promises.order_by("account_id", "id") if account_ids else ():
        account = promise.account
        paid = (
            Transaction.objects.filter(
                account=account, kind=Transaction.Kind.PAYMENT, posted_at__gte=promise.created_at
            ).aggregate(s=Sum("principal") + Sum("interest") + Sum("fees"))["s"]
            or ZERO
        )
        if -paid >= promise.amount:
            promise.status = PromiseToPay.Status.KEPT
            promise.resolved_at = timezone.now()
            promise.save(update_fields=["status", "resolved_at"])
            event_record(
                account=account,
                kind=Event.Kind.PROMISE,
                summary=f"Promise to pay {promise.amount} by {promise.due_date} kept",
                amount=promise.amount,
                data={"promise_id": promise.id, "status": "kept"},
            )


def _installment_paid(payment, *, actor):
    from payments.services.plans import plan_complete_if_done

    installment = Installment.objects.select_for_update().get(pk=payment.installment_id)
    installment.paid_amount += payment.amount - payment.unapplied_amount
    if installment.paid_amount >= installment.amount:
        installment.status = Installment.Status.PAID
    installment.save(update_fields=["paid_amount", "status"])
    plan_complete_if_done(plan=installment.plan, actor=actor)


@transaction.atomic
def payment_failed(*, payment, message=""):
    """The payment did not go through (declined, expired, ACH failed before clearing).
    A payment that had already been applied is reversed instead."""
    payment = _locked(payment)
    if payment.status == Payment.Status.SUCCEEDED:
        return payment_reverse(payment=payment, reason=message or "Payment failed", kind="failed")
    if payment.status not in OPEN:
        return payment
    payment.status = Payment.Status.FAILED
    payment.failure_message = message[:300]
    payment.save(update_fields=["status", "failure_message"])
    event_record(
        account=payment.account,
        kind=Event.Kind.PAYMENT,
        summary=f"Payment of {payment.amount} did not go through"
        + (f": {message}" if message else ""),
        amount=payment.amount,
        data={"payment_id": payment.id, "status": "failed"},
    )
    return payment


def _net_applied(payment_ids):
    """What of each payment still sits in each account's ledger, by component:
    {payment id: {account id: {component: amount}}}, one query for all."""
    net = {payment_id: {} for payment_id in payment_ids}
    for row in (
        Transaction.objects.filter(payment_id__any=array(list(payment_ids)))
        .select_related("reverses")
        .exclude(kind=Transaction.Kind.ADJUSTMENT)
        .order_by("id")
    ):
        if row.kind == Transaction.Kind.REVERSAL and row.reverses_id is not None:
            # A reversal of the settlement adjustment is not money going back.
            if row.reverses.kind == Transaction.Kind.ADJUSTMENT:
                continue
        parts = net[row.payment_id].setdefault(row.account_id, dict.fromkeys(COMPONENTS, ZERO))
        for c in COMPONENTS:
            parts[c] -= getattr(row, c)
    return net


def _open_adjustments(payment_ids):
    """The settlement adjustments of each payment not reversed yet: {payment id: [rows]}."""
    found = {payment_id: [] for payment_id in payment_ids}
    for row in Transaction.objects.filter(
        payment_id__any=array(list(payment_ids)),
        kind=Transaction.Kind.ADJUSTMENT,
        reversed_by__isnull=True,
    ).order_by("id"):
        found[row.payment_id].append(row)
    return found


REVERSED_FIELDS = ["unapplied_amount", "refunded_amount", "status", "failure_message"]


@transaction.atomic
def payment_reverse(*, payment, reason, kind="refund", amount=None, actor=None):
    """Take money back out of the books: a refund (whole or part), a chargeback, a
    returned check, a bank debit that failed after all. `amount` None means all of it.
    The credit (unapplied money) goes first, then the ledger, principal first. The
    ledger rows, events and balances are written together (`ledger_write`): the same
    statements however many of the debtor's accounts the payment touched."""
    payment = _locked(payment)
    if payment.status != Payment.Status.SUCCEEDED:
        return payment
    amount = payment.amount - payment.refunded_amount if amount is None else Decimal(amount)
    if amount <= ZERO:
        return payment
    accounts = _debtor_accounts(payment.account.debtor_id)
    entries, events = _reversal_staged(
        payment, amount, kind=kind, reason=reason, actor=actor, accounts=accounts,
        net=_net_applied([payment.pk])[payment.pk],
        adjustments=_open_adjustments([payment.pk])[payment.pk],
    )  # fmt: skip
    payment.save(update_fields=REVERSED_FIELDS)
    moved = {e.account_id for e in entries} | {e.account_id for e in events}
    ledger_write(accounts=[accounts[i] for i in sorted(moved)], entries=entries, events=events)
    if payment.installment_id and kind != "refund":
        installment = Installment.objects.select_for_update().get(pk=payment.installment_id)
        installment.paid_amount = max(installment.paid_amount - amount, ZERO)
        if installment.paid_amount < installment.amount and installment.status == "paid":
            installment.status = Installment.Status.SCHEDULED
            installment.next_attempt_on = payment.account.office.today()
        installment.save(update_fields=["paid_amount", "status", "next_attempt_on"])
        plan = installment.plan
        if plan.status == PaymentPlan.Status.COMPLETED:
            plan.status = PaymentPlan.Status.ACTIVE
            plan.ended_at = None
            plan.save(update_fields=["status", "ended_at"])
    return payment


def _reversal_staged(payment, amount, *, kind, reason, actor, accounts, net, adjustments):
    """Take `amount` of a succeeded payment back, in memory: the payment's fields, the
    balances of its debtor's `accounts` (locked), what is left in `net` and
    `adjustments` (for a later reversal of the same payment); returns the ledger rows
    and timeline events to write."""
    outstanding = payment.amount - payment.refunded_amount
    if amount > outstanding:
        raise ValidationError(
            f"Only {outstanding} of this payment is left to take back, not {amount}."
        )
    entries, events = [], []
    from_credit = min(payment.unapplied_amount, amount)
    left = amount - from_credit
    for account_id, parts in sorted(net.items()):
        if left <= ZERO:
            break
        back = {}
        for c in reversed(COMPONENTS):  # principal, interest, fees
            take = min(parts[c], left)
            if take > ZERO:
                back[c] = take
                parts[c] -= take
                left -= take
        if not back:
            continue
        account = accounts[account_id]
        entries.append(
            ledger_stage(
                account=account,
                kind=Transaction.Kind.REVERSAL,
                **back,
                memo=f"{kind.title()}: payment {payment.id} — {reason}"[:200],
                created_by=actor,
                payment=payment,
            )
        )
        taken = sum(back.values(), ZERO)
        events.append(
            event_stage(
                account=account,
                kind=Event.Kind.REVERSAL,
                actor=actor,
                summary=f"{_REVERSAL_LABEL[kind]} of {taken}: {reason}",
                amount=taken,
                data={"payment_id": payment.id, "kind": kind},
            )
        )
    payment.unapplied_amount -= from_credit
    payment.refunded_amount += amount
    if payment.refunded_amount == payment.amount:
        payment.status = Payment.Status.REFUNDED if kind == "refund" else Payment.Status.REVERSED
        payment.failure_message = reason[:300]
        for adjustment in adjustments:  # the settlement undone (each row reversed once)
            entries.append(
                ledger_stage(
                    account=accounts[adjustment.account_id],
                    kind=Transaction.Kind.REVERSAL,
                    principal=-adjustment.principal,
                    interest=-adjustment.interest,
                    fees=-adjustment.fees,
                    memo=f"Settlement undone: {reason}"[:200],
                    payment=payment,
                    reverses=adjustment,
                )
            )
        adjustments.clear()
    for account in accounts.values():
        if account.status in PAID_LIKE and account.balance > ZERO:
            events.append(
                status_stage(
                    account=account,
                    status=AccountStatus.ACTIVE,
                    actor=actor,
                    reason=f"Payment {payment.id} taken back: {reason}"[:200],
                )
            )
    return entries, events


@transaction.atomic
def payments_apply(events, *, reason="Refunded", actor=None):
    """What a gateway reports for many payments of the office in context, as one at a
    time in this order would leave them. `events`, in arrival order: ("succeeded",
    payment id, reference) or ("refunded", payment id, total refunded so far,
    reference). A refunded payment still pending is first applied (a refund says it was
    paid); then the refund takes back what its total adds to what was refunded before.
    Returns, per event, None for a success and what a refund added (zero: nothing).

    Every payment is locked in id order, then all their debtors' accounts in id order,
    before anything moves: the one lock order of every drain. Events of different
    debtors do not touch each other's books, so they are applied in phases: a debtor's
    events start a new phase where their kind changes (a refund after a success after a
    refund…), and each phase applies its successes together, then its refunds together.
    A batch whose debtors have one kind of event each is one phase."""
    ids = [event[1] for event in events]
    locked = _payments_locked(ids)
    _debtor_accounts(*{p.account.debtor_id for p in locked.values()})  # every lock, in order
    phases, last = [], {}
    for kind, payment_id, *_ in events:
        debtor_id = locked[payment_id].account.debtor_id
        phase, before = last.get(debtor_id, (0, kind))
        phase += before != kind
        last[debtor_id] = (phase, kind)
        phases.append(phase)
    results = [None] * len(events)
    for phase in sorted(set(phases)):
        now = [(i, event) for i, event in enumerate(events) if phases[i] == phase]
        refunds = [(i, event) for i, event in now if event[0] == "refunded"]
        successes = [(event[1], event[2]) for _, event in now if event[0] == "succeeded"]
        successes += [(e[1], e[3]) for _, e in refunds if locked[e[1]].status in OPEN]
        if successes:
            payments_succeeded(successes, locked=locked, actor=actor)
        if refunds:
            taken = _refunds_apply(
                [(e[1], e[2]) for _, e in refunds], locked, reason=reason, actor=actor
            )
            for (i, _), amount in zip(refunds, taken, strict=True):
                results[i] = amount
    return results


def _refunds_apply(refunds, locked, *, reason, actor):
    """[(payment id, total refunded so far)] of `locked` payments whose accounts this
    transaction has locked: what each adds, applied together."""
    accounts = _debtor_accounts(*{locked[i].account.debtor_id for i, _ in refunds})  # as now
    by_debtor = {}
    for account in accounts.values():
        by_debtor.setdefault(account.debtor_id, {})[account.id] = account
    ids = [i for i in dict.fromkeys(i for i, _ in refunds)
           if locked[i].status == Payment.Status.SUCCEEDED]  # fmt: skip
    net, adjustments = _net_applied(ids), _open_adjustments(ids)
    entries, events, taken, moved = [], [], [], {}
    for payment_id, total in refunds:
        payment = locked[payment_id]
        delta = total - payment.refunded_amount
        taken.append(max(delta, ZERO))
        if delta <= ZERO or payment.status != Payment.Status.SUCCEEDED:
            continue
        more_entries, more_events = _reversal_staged(
            payment, delta, kind="refund", reason=reason, actor=actor,
            accounts=by_debtor[payment.account.debtor_id], net=net[payment_id],
            adjustments=adjustments[payment_id],
        )  # fmt: skip
        entries += more_entries
        events += more_events
        moved[payment_id] = payment
    changed = {e.account_id for e in entries} | {e.account_id for e in events}
    ledger_write(accounts=[accounts[i] for i in sorted(changed)], entries=entries, events=events)
    rows_set(Payment, moved.values(), REVERSED_FIELDS)
    return taken


_REVERSAL_LABEL = {
    "refund": "Refund",
    "chargeback": "Chargeback",
    "returned": "Returned payment",
    "failed": "Bank payment failed",
}


def payment_refund(*, payment, amount=None, reason, actor=None):
    """Give money back (a mistake, a credit). A Stripe payment is refunded at Stripe and
    the ledger follows its charge.refunded event (applied once, like every event); any
    other payment is taken off the ledger now. Returns True when the ledger moved now."""
    from payments.gateways import GatewayError, gateway_for

    left = payment.amount - payment.refunded_amount
    if payment.status != Payment.Status.SUCCEEDED or left <= ZERO:
        raise ValidationError("Only a payment that went through can be refunded.")
    if amount is not None and amount > left:
        raise ValidationError({"amount": f"At most {left} is left to refund."})
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the money goes back."})
    gateway = gateway_for(payment.account.office)
    if payment.gateway == Payment.Gateway.STRIPE and not gateway.is_demo:
        try:
            gateway.refund(payment=payment, amount=amount or left)
        except GatewayError as exc:
            raise ValidationError(f"Stripe refused the refund: {exc}") from exc
        return False
    payment_reverse(payment=payment, amount=amount, kind="refund", reason=reason, actor=actor)
    return True
