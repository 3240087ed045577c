"""Payment plans and promises to pay: create within policy (or propose for approval),
generate exact schedules, keep, break, complete, change.

A schedule's installments always sum to the plan's total to the cent; the rounding
goes to the last one. A plan inside the policy starts at once; a debtor's custom
proposal waits for an agent, and anything outside the policy for a manager."""

import math
from datetime import timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import ZERO, Account, AccountStatus, Event
from accounts.services import account_transition, event_record
from campaigns.exits import enrollments_exit, enrollments_resume
from payments.models import Installment, PaymentPlan, PromiseToPay, Source
from payments.selectors import (
    FREQUENCY_LABEL,
    PERIODS_PER_MONTH,
    installments_for,
    policy_for,
)
from recovery.models import Membership, Role, WorkItem

PLAN_EXIT = "plan_active"
MANAGER_ROLES = {Role.MANAGER, Role.ADMIN}


def schedule_dates(start_date, count, frequency):
    if frequency == "weekly":
        return [start_date + timedelta(weeks=i) for i in range(count)]
    if frequency == "biweekly":
        return [start_date + timedelta(weeks=2 * i) for i in range(count)]
    if frequency == "monthly":
        # Same day each month, the month's last day when it has fewer days.
        return [start_date + relativedelta(months=i) for i in range(count)]
    raise ValidationError({"frequency": f"Unknown frequency {frequency!r}."})


def policy_problems(*, account, total, count, frequency, first_amount, kind):
    """What in a proposed plan the office's policy does not allow (empty: within it)."""
    policy = policy_for(account)
    problems = []
    if frequency not in policy.frequencies:
        problems.append(f"{FREQUENCY_LABEL.get(frequency, frequency)} payments are not offered")
    most = int(policy.max_months * PERIODS_PER_MONTH.get(frequency, 1))
    if count > most:
        problems.append(f"longer than {policy.max_months} months ({count} payments)")
    if first_amount < policy.minimum_installment:
        problems.append(f"installments under the minimum of {policy.minimum_installment}")
    if kind == PaymentPlan.Kind.SETTLEMENT:
        floor = account.balance * (1 - policy.max_settlement_discount)
        if total < floor:
            problems.append(
                f"a settlement discount over {policy.max_settlement_discount:.0%} of the balance"
            )
    return problems


def _validate_shape(account, *, count, frequency, start_date, total):
    if not account.is_open or account.balance <= ZERO:
        raise ValidationError("There is no open balance to put in a plan.")
    if account.status == AccountStatus.DISPUTED:
        raise ValidationError("The account is disputed: resolve the dispute before a plan.")
    if PaymentPlan.objects.filter(account=account, status__in=["proposed", "active"]).exists():
        raise ValidationError("This account already has a plan; change or cancel it first.")
    if count < 1:
        raise ValidationError({"count": "A plan needs at least one payment."})
    if frequency not in PERIODS_PER_MONTH:
        raise ValidationError({"frequency": "Choose weekly, every two weeks or monthly."})
    today = account.office.today()
    if start_date < today:
        raise ValidationError({"start_date": "The first payment date cannot be in the past."})
    if start_date > today + timedelta(days=45):
        raise ValidationError({"start_date": "The first payment must be within 45 days."})
    if total <= ZERO or total > account.balance:
        raise ValidationError({"total": f"The plan total must be between 0 and {account.balance}."})
    if total < count * Decimal("0.01"):
        raise ValidationError({"count": f"{total} cannot be split into {count} payments."})


def _installments(plan):
    amounts = installments_for(plan.total_amount, plan.installment_count)
    dates = schedule_dates(plan.start_date, plan.installment_count, plan.frequency)
    Installment.objects.bulk_create(
        [
            Installment(plan=plan, office_id=plan.office_id, sequence=i + 1, due_date=d, amount=a)
            for i, (d, a) in enumerate(zip(dates, amounts, strict=True))
        ]
    )


def _activate(plan, *, actor):
    plan.status = PaymentPlan.Status.ACTIVE
    plan.save(update_fields=["status", "approved_by"])
    _installments(plan)
    account = plan.account
    if account.status != AccountStatus.IN_PLAN:
        account_transition(
            account=account, status=AccountStatus.IN_PLAN, actor=actor, reason=f"Plan {plan.id}"
        )
    enrollments_exit(account=account, reason=PLAN_EXIT)
    event_record(
        account=account,
        kind=Event.Kind.PLAN,
        actor=actor,
        summary=f"Plan started: {plan.installment_count} × {plan.installment_amount} "
        f"{FREQUENCY_LABEL[plan.frequency]} from {plan.start_date:%b %d, %Y}"
        + (" with autopay" if plan.autopay else ""),
        amount=plan.total_amount,
        data={"plan_id": plan.id, "status": "active", "kind": plan.kind},
    )


@transaction.atomic
def plan_create(
    *,
    account,
    installment_amount=None,
    count,
    frequency,
    start_date,
    autopay=False,
    payment_method=None,
    source=Source.AGENT,
    actor=None,
    total=None,
    note="",
):
    """A plan for the whole balance (or, with `total`, a settlement for less). Within
    policy it starts now; outside it, only staff may ask, and a manager must approve."""
    account = Account.objects.select_for_update().get(pk=account.pk)
    total = account.balance if total is None else Decimal(total)
    _validate_shape(account, count=count, frequency=frequency, start_date=start_date, total=total)
    amounts = installments_for(total, count)
    if installment_amount is not None and Decimal(installment_amount) != amounts[0]:
        raise ValidationError(
            {"installment_amount": f"{count} payments of this balance are {amounts[0]} each."}
        )
    kind = PaymentPlan.Kind.SETTLEMENT if total < account.balance else PaymentPlan.Kind.PLAN
    problems = policy_problems(
        account=account,
        total=total,
        count=count,
        frequency=frequency,
        first_amount=amounts[0],
        kind=kind,
    )
    if problems and source == Source.PORTAL:
        raise ValidationError(
            "This plan is outside what we can set up online ("
            + "; ".join(problems)
            + "). Send it as a proposal instead and an agent will review it."
        )
    if autopay and payment_method is None:
        raise ValidationError("Autopay needs a saved payment method.")
    plan = PaymentPlan.objects.create(
        account=account,
        kind=kind,
        source=source,
        total_amount=total,
        balance_at_start=account.balance,
        installment_amount=amounts[0],
        installment_count=count,
        frequency=frequency,
        start_date=start_date,
        autopay=autopay,
        payment_method=payment_method,
        within_policy=not problems,
        note=note,
        created_by=actor,
    )
    if problems:
        _ask_approval(plan, problems, manager=True)
        return plan
    _activate(plan, actor=actor)
    return plan


def _ask_approval(plan, problems, *, manager):
    who = "A manager" if manager else "An agent"
    WorkItem.objects.create(
        kind=WorkItem.Kind.APPROVAL if manager else WorkItem.Kind.REVIEW,
        account=plan.account,
        subject=f"plan:{plan.id}",
        title=f"{who} to review plan {plan.id}: {plan.installment_count} × "
        f"{plan.installment_amount} {FREQUENCY_LABEL[plan.frequency]}",
        detail=("Outside policy: " + "; ".join(problems)) if problems else plan.note,
        due_at=timezone.now() + timedelta(days=1),
    )
    event_record(
        account=plan.account,
        kind=Event.Kind.PLAN,
        summary=f"Plan proposed ({plan.get_source_display().lower()}): "
        f"{plan.installment_count} × {plan.installment_amount} "
        f"{FREQUENCY_LABEL[plan.frequency]}" + (" — outside policy" if problems else ""),
        amount=plan.total_amount,
        data={"plan_id": plan.id, "status": "proposed", "problems": problems},
    )


@transaction.atomic
def plan_propose(
    *, account, installment_amount, frequency, start_date, note="", source=Source.PORTAL, actor=None
):
    """The debtor's own offer: what they can pay and how often. It goes to an agent's
    queue (a manager's, when it is outside policy) and starts once approved."""
    account = Account.objects.select_for_update().get(pk=account.pk)
    amount = Decimal(installment_amount)
    if amount <= ZERO:
        raise ValidationError({"installment_amount": "Enter the amount you can pay each time."})
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({"installment_amount": "Use at most two decimal places."})
    total = account.balance
    count = max(1, math.ceil(total / amount))
    _validate_shape(account, count=count, frequency=frequency, start_date=start_date, total=total)
    amounts = installments_for(total, count)
    problems = policy_problems(
        account=account,
        total=total,
        count=count,
        frequency=frequency,
        first_amount=amounts[0],
        kind=PaymentPlan.Kind.PLAN,
    )
    plan = PaymentPlan.objects.create(
        account=account,
        source=source,
        total_amount=total,
        balance_at_start=total,
        installment_amount=amounts[0],
        installment_count=count,
        frequency=frequency,
        start_date=start_date,
        within_policy=not problems,
        note=note[:2000],
        created_by=actor,
    )
    _ask_approval(plan, problems, manager=bool(problems))
    return plan


@transaction.atomic
def plan_approve(*, plan, actor):
    plan = PaymentPlan.objects.select_for_update().select_related("account").get(pk=plan.pk)
    if plan.status != PaymentPlan.Status.PROPOSED:
        raise ValidationError("Only a proposed plan can be approved.")
    if not plan.within_policy:
        role = (
            Membership.objects.filter(user=actor, office_id=plan.office_id, is_active=True)
            .values_list("role", flat=True)
            .first()
        )
        if role not in MANAGER_ROLES:
            raise ValidationError("This plan is outside policy: a manager must approve it.")
    today = plan.account.office.today()
    if plan.start_date < today:
        plan.start_date = today + timedelta(days=1)
        plan.save(update_fields=["start_date"])
    plan.approved_by = actor
    _activate(plan, actor=actor)
    _close_review(plan)
    return plan


def _close_review(plan):
    WorkItem.objects.filter(subject=f"plan:{plan.id}", status=WorkItem.Status.OPEN).update(
        status=WorkItem.Status.DONE, completed_at=timezone.now()
    )


@transaction.atomic
def plan_decline(*, plan, actor, reason):
    plan = PaymentPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status != PaymentPlan.Status.PROPOSED:
        raise ValidationError("Only a proposed plan can be declined.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why, so the debtor can be told."})
    _end(plan, PaymentPlan.Status.CANCELLED, f"Declined: {reason}", actor=actor)
    _close_review(plan)
    return plan


def _end(plan, status, reason, *, actor=None):
    plan.status = status
    plan.ended_at = timezone.now()
    plan.end_reason = reason[:200]
    plan.save(update_fields=["status", "ended_at", "end_reason"])
    plan.installments.filter(status=Installment.Status.SCHEDULED).update(
        status=Installment.Status.CANCELLED
    )
    event_record(
        account=plan.account,
        kind=Event.Kind.PLAN,
        actor=actor,
        summary=f"Plan {plan.get_status_display().lower()}: {reason}",
        data={"plan_id": plan.id, "status": status},
    )


@transaction.atomic
def plan_cancel(*, plan, actor=None, reason, source=Source.AGENT):
    """The debtor or an agent ends an active plan early; collection resumes gently."""
    plan = PaymentPlan.objects.select_for_update().select_related("account").get(pk=plan.pk)
    if not plan.is_open:
        raise ValidationError("This plan has already ended.")
    was_active = plan.status == PaymentPlan.Status.ACTIVE
    _end(plan, PaymentPlan.Status.CANCELLED, reason, actor=actor)
    if was_active:
        _back_to_collection(plan, actor=actor, reason=f"Plan {plan.id} cancelled")
    return plan


def _back_to_collection(plan, *, actor, reason):
    account = Account.objects.select_for_update().get(pk=plan.account_id)
    if account.status == AccountStatus.IN_PLAN:
        account_transition(account=account, status=AccountStatus.ACTIVE, actor=actor, reason=reason)
    enrollments_resume(account=account, reason=PLAN_EXIT)


@transaction.atomic
def plan_break(*, plan, reason):
    """Missed past the grace days: the plan is broken and the account goes back to the
    campaign it was in."""
    plan = PaymentPlan.objects.select_for_update().select_related("account").get(pk=plan.pk)
    if plan.status != PaymentPlan.Status.ACTIVE:
        return plan
    _end(plan, PaymentPlan.Status.BROKEN, reason)
    _back_to_collection(plan, actor=None, reason=f"Plan {plan.id} broken")
    return plan


def plan_complete_if_done(*, plan, actor=None):
    plan = PaymentPlan.objects.select_for_update().select_related("account").get(pk=plan.pk)
    if plan.status != PaymentPlan.Status.ACTIVE:
        return plan
    if plan.installments.exclude(status__in=["paid", "cancelled"]).exists():
        return plan
    plan.status = PaymentPlan.Status.COMPLETED
    plan.ended_at = timezone.now()
    plan.save(update_fields=["status", "ended_at"])
    account = Account.objects.select_for_update().get(pk=plan.account_id)
    event_record(
        account=account,
        kind=Event.Kind.PLAN,
        actor=actor,
        summary="Plan completed: every payment kept. Thank you!",
        amount=plan.total_amount,
        data={"plan_id": plan.id, "status": "completed"},
    )
    if plan.kind == PaymentPlan.Kind.SETTLEMENT:
        from payments.services.apply import _settle

        last = plan.installments.order_by("-sequence").first().payments.order_by("-id").first()
        _settle(last, account, actor=actor)
    return plan


@transaction.atomic
def promise_create(*, account, amount, due_date, actor=None, source=Source.AGENT):
    from payments.services.checkout import parse_amount

    amount = parse_amount(amount)
    if due_date < account.office.today():
        raise ValidationError({"due_date": "A promise is for today or a later date."})
    if amount > account.balance:
        raise ValidationError({"amount": f"That is more than the balance of {account.balance}."})
    promise = PromiseToPay.objects.create(
        account=account, amount=amount, due_date=due_date, source=source, created_by=actor
    )
    event_record(
        account=account,
        kind=Event.Kind.PROMISE,
        actor=actor,
        summary=f"Promise to pay {amount} by {due_date:%b %d, %Y}",
        amount=amount,
        data={"promise_id": promise.id, "status": "open"},
    )
    return promise
