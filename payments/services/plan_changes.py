"""Changing a plan that is under way: move one payment, skip one to the end, or lower
the payments for hardship. Each change says who made it and why, on the timeline; a
change outside the policy is refused (or, for a hardship reduction by staff, marks the
plan as outside policy for a manager to see)."""

import math
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import ZERO, Event
from accounts.services import event_record
from payments.models import Installment, PaymentPlan, Source
from payments.selectors import FREQUENCY_LABEL, policy_for
from payments.services.plans import schedule_dates

MAX_SKIPS = 2


def _reason(reason, what):
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": f"Say why {what}."})
    return reason


def _record(plan, *, actor, summary, source, **data):
    event_record(
        account=plan.account,
        kind=Event.Kind.PLAN,
        actor=actor,
        summary=summary,
        data={"plan_id": plan.id, "source": source, **data},
    )


def _locked_installment(installment):
    installment = (
        Installment.objects.select_for_update()
        .select_related("plan__account__office")
        .get(pk=installment.pk)
    )
    if installment.plan.status != PaymentPlan.Status.ACTIVE:
        raise ValidationError("Only a plan that is under way can be changed.")
    if installment.status != Installment.Status.SCHEDULED:
        raise ValidationError("Only a payment that is still due can be changed.")
    return installment


@transaction.atomic
def installment_reschedule(*, installment, due_date, actor=None, reason, source=Source.AGENT):
    """Move one payment to another date, at most the policy's grace (or two weeks)
    after its date."""
    installment = _locked_installment(installment)
    plan = installment.plan
    reason = _reason(reason, "the payment moves")
    latest = installment.due_date + timedelta(days=max(policy_for(plan.account).grace_days, 14))
    if due_date < plan.account.office.today() or due_date > latest:
        raise ValidationError({"due_date": f"Choose a date between today and {latest:%b %d, %Y}."})
    old = installment.due_date
    installment.due_date = due_date
    installment.notice_sent_at = None  # an autopay debit is announced again (F-EFT)
    installment.next_attempt_on = None
    installment.save(update_fields=["due_date", "notice_sent_at", "next_attempt_on"])
    _record(
        plan,
        actor=actor,
        source=source,
        installment=installment.sequence,
        summary=f"Payment {installment.sequence} moved from {old:%b %d} to "
        f"{due_date:%b %d}: {reason}",
    )
    return installment


@transaction.atomic
def installment_skip(*, installment, actor=None, reason, source=Source.AGENT):
    """Skip one payment: it moves to one period after the last payment, so the plan ends
    a little later and nothing is owed twice. At most two skips per plan."""
    installment = _locked_installment(installment)
    plan = installment.plan
    reason = _reason(reason, "the payment is skipped")
    skips = plan.account.events.filter(
        kind=Event.Kind.PLAN, data__plan_id=plan.id, data__change="skip"
    ).count()
    if skips >= MAX_SKIPS:
        raise ValidationError(f"This plan has had its {MAX_SKIPS} skips already.")
    last = plan.installments.order_by("-due_date").values_list("due_date", flat=True).first()
    [_, new_date] = schedule_dates(last, 2, plan.frequency)
    old = installment.due_date
    installment.due_date = new_date
    installment.notice_sent_at = None
    installment.next_attempt_on = None
    installment.save(update_fields=["due_date", "notice_sent_at", "next_attempt_on"])
    _record(
        plan,
        actor=actor,
        source=source,
        installment=installment.sequence,
        change="skip",
        summary=f"Payment {installment.sequence} of {installment.amount} due {old:%b %d} "
        f"skipped; now due {new_date:%b %d, %Y}: {reason}",
    )
    return installment


@transaction.atomic
def plan_reduce(*, plan, installment_amount, actor=None, reason, source=Source.AGENT):
    """Lower the payments for hardship: what is still due is spread over more payments
    of the new amount, from the next due date, at the same frequency. Below the policy's
    minimum the plan is marked outside policy (a manager sees it on the account)."""
    plan = PaymentPlan.objects.select_for_update().select_related("account__office").get(pk=plan.pk)
    if plan.status != PaymentPlan.Status.ACTIVE:
        raise ValidationError("Only a plan that is under way can be changed.")
    reason = _reason(reason, "the payments are lowered")
    amount = Decimal(str(installment_amount))
    if amount <= ZERO or amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({"installment_amount": "Enter an amount like 40.00."})
    due = list(plan.installments.filter(status=Installment.Status.SCHEDULED).order_by("due_date"))
    if not due:
        raise ValidationError("Every payment of this plan is already made.")
    remaining = sum((i.amount - i.paid_amount for i in due), ZERO)
    if amount >= due[0].amount:
        raise ValidationError({"installment_amount": f"Enter less than {due[0].amount}."})
    count = math.ceil(remaining / amount)
    policy = policy_for(plan.account)
    outside = amount < policy.minimum_installment
    if outside and source == Source.PORTAL:
        raise ValidationError(
            {
                "installment_amount": f"The smallest payment we can set up online is "
                f"{policy.minimum_installment}; ask us and an agent will look at it."
            }
        )
    Installment.objects.filter(pk__in=[i.pk for i in due]).update(
        status=Installment.Status.CANCELLED
    )
    first_sequence = plan.installments.order_by("-sequence").values_list("sequence", flat=True)[0]
    # The amount the debtor can pay, each time; the last payment takes what is left.
    amounts = [amount] * (count - 1) + [remaining - amount * (count - 1)]
    dates = schedule_dates(due[0].due_date, count, plan.frequency)
    Installment.objects.bulk_create(
        [
            Installment(
                office_id=plan.office_id,
                plan=plan,
                sequence=first_sequence + n + 1,
                due_date=d,
                amount=a,
            )
            for n, (d, a) in enumerate(zip(dates, amounts, strict=True))
        ]
    )
    old = (plan.installment_amount, plan.installment_count)
    plan.installment_amount = amounts[0]
    plan.installment_count = plan.installments.exclude(status="cancelled").count()
    plan.within_policy = plan.within_policy and not outside
    plan.save(update_fields=["installment_amount", "installment_count", "within_policy"])
    _record(
        plan,
        actor=actor,
        source=source,
        change="reduce",
        summary=f"Payments lowered for hardship from {old[0]} to {amounts[0]} "
        f"{FREQUENCY_LABEL[plan.frequency]} ({count} left): {reason}"
        + (" — below the policy's minimum" if outside else ""),
    )
    return plan
