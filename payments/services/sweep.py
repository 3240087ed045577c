"""The daily round of plans and promises, run per office by beat:

1. tell autopay debtors before each debit (F-EFT: date and amount, N business days
   ahead, with how to cancel); no debit without that notice;
2. charge the autopay installments that are due, off-session, with our own
   idempotency key per installment and attempt; a failure is retried on the policy's
   days and the debtor is told kindly, with a link to pay or reschedule;
3. a manual installment not paid by its date gets one friendly reminder; past the grace
   days the plan is broken and the account returns to its campaign;
4. promises whose date has passed unpaid are marked broken.

Every step is idempotent (dated markers on the rows), so a second run the same day
sends and charges nothing twice. Provider calls happen outside the row locks."""

import functools
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Event
from accounts.services import event_record
from campaigns.rendering import portal_link
from compliance.services import business_days_after
from payments.gateways import GatewayError, gateway_for
from payments.models import Installment, Payment, PaymentPlan, PromiseToPay, Source
from payments.selectors import policy_for_creditor
from payments.services.apply import payment_failed, payment_processing, payment_succeeded
from payments.services.notify import email_debtor
from payments.services.plans import plan_break
from recovery import tenancy
from recovery.models import Office


def _email(account, *, subject, body, content=frozenset()):
    """Gate and queue one email to the debtor; returns (sent, explanation)."""
    return email_debtor(account, subject=subject, body=body, content=content)


@functools.cache
def _policy(office_id, creditor_id):
    return policy_for_creditor(creditor_id)


def _policy_of(account):
    """The creditor's policy, read once per sweep (the cache is cleared at its start),
    not once per installment."""
    return _policy(account.office_id, account.creditor_id)


def _link(account):
    return portal_link(
        office_id=account.office_id, debtor_id=account.debtor_id, account_id=account.id
    )


def _due_installments(**filters):
    return Installment.objects.filter(
        status=Installment.Status.SCHEDULED, plan__status=PaymentPlan.Status.ACTIVE, **filters
    ).select_related("plan__account__debtor", "plan__account__creditor", "plan__payment_method")


def autopay_notices(today):
    sent = 0
    horizon = business_days_after(today, 10)
    for item in _due_installments(
        plan__autopay=True, notice_sent_at__isnull=True, due_date__lte=horizon
    ):
        account = item.plan.account
        notice_days = _policy_of(account).autopay_notice_days
        if business_days_after(today, notice_days + 2) < item.due_date:
            continue  # not yet: the notice goes out a few business days ahead
        method = item.plan.payment_method
        method_label = method.label if method else "your saved payment method"
        with transaction.atomic():
            ok, why = _email(
                account,
                subject=f"Your payment of ${item.amount:,.2f} on {item.due_date:%B %d}",
                body=(
                    f"Hello {account.debtor.first_name or account.debtor.display_name},\n\n"
                    f"As you set up, we will charge ${item.amount:,.2f} to {method_label} "
                    f"on {item.due_date:%A, %B %d, %Y} (payment {item.sequence} of "
                    f"{item.plan.installment_count}).\n\nNeed to change the date or stop "
                    f"autopay? You can do it here before then: {_link(account)}"
                ),
                content=frozenset({"eft_notice"}),
            )
            if ok:
                item.notice_sent_at = timezone.now()
                item.save(update_fields=["notice_sent_at"])
                sent += 1
            event_record(
                account=account,
                kind=Event.Kind.PLAN,
                summary=(
                    f"Autopay notice sent for {item.amount} on {item.due_date:%b %d}"
                    if ok
                    else f"Autopay notice not sent yet: {why}"
                ),
                data={"plan_id": item.plan_id, "installment": item.sequence},
            )
    return sent


def _charge_plan(today):
    """The autopay installments to charge today (read inside the office's context)."""
    ready = []
    for item in _due_installments(plan__autopay=True, notice_sent_at__isnull=False):
        if (item.next_attempt_on or item.due_date) > today:
            continue
        notice_days = _policy_of(item.plan.account).autopay_notice_days
        if business_days_after(timezone.localdate(item.notice_sent_at), notice_days) > today:
            continue  # F-EFT: the notice has not been out long enough yet
        method = item.plan.payment_method
        if method is None or method.revoked_at:
            continue
        ready.append(item)
    return ready


def autopay_charges(today, office):
    """Charge what is due: write the payment, call the gateway with no transaction
    open, then record the result; each step in its own office transaction."""
    charged = 0
    with tenancy.office_context(office.id):
        ready = _charge_plan(today)
        gateway = gateway_for(office)
    for item in ready:
        account, method = item.plan.account, item.plan.payment_method
        with tenancy.office_context(office.id):
            locked = Installment.objects.select_for_update().get(pk=item.pk)
            if locked.status != Installment.Status.SCHEDULED or locked.autopay_attempts != (
                item.autopay_attempts
            ):
                continue  # another worker got here first
            attempt = locked.autopay_attempts + 1
            payment = Payment.objects.create(
                account=account,
                debtor_id=account.debtor_id,
                installment=locked,
                amount=locked.amount - locked.paid_amount,
                currency=account.currency,
                method=Payment.Method.DEMO if gateway.is_demo else Payment.Method.CARD,
                gateway=gateway.name,
                source=Source.AUTOPAY,
                idempotency_key=f"autopay-{locked.id}-{attempt}",
            )
            locked.autopay_attempts = attempt
            locked.save(update_fields=["autopay_attempts"])
        try:
            result = gateway.charge_saved(
                payment=payment, method=method, idempotency_key=payment.idempotency_key
            )
        except GatewayError as exc:
            result = None
            why = str(exc)
        with tenancy.office_context(office.id):
            if result is not None and result.status == "succeeded":
                payment_succeeded(payment=payment, reference=result.reference)
                charged += 1
            elif result is not None and result.status == "processing":
                payment_processing(payment=payment, reference=result.reference)
            else:
                why = result.message if result is not None else why
                payment_failed(payment=payment, message=why)
                _retry_or_miss(locked, today, why)
    return charged


@transaction.atomic
def _retry_or_miss(item, today, why):
    item = Installment.objects.select_related("plan__account__debtor").get(pk=item.pk)
    account = item.plan.account
    retry_days = _policy_of(account).autopay_retry_days
    if item.autopay_attempts <= len(retry_days):
        item.next_attempt_on = item.due_date + timedelta(days=retry_days[item.autopay_attempts - 1])
        item.save(update_fields=["next_attempt_on"])
        when = f"We will try again on {item.next_attempt_on:%A, %B %d}"
    else:
        item.status = Installment.Status.MISSED
        item.save(update_fields=["status"])
        when = "We won't try again automatically"
    _email(
        account,
        subject="Your payment didn't go through — no problem, here are your options",
        body=(
            f"Hello {account.debtor.first_name or account.debtor.display_name},\n\n"
            f"The payment of ${item.amount:,.2f} due {item.due_date:%B %d} didn't go through "
            f"({why}). {when}. If it suits you better, you can pay another way or pick a new "
            f"date here: {_link(account)}\n\nIf money is tight right now, tell us: we can "
            f"adjust the plan."
        ),
    )


def missed_installments(today):
    """Manual installments past due: one kind reminder; past grace, the plan breaks."""
    broken = 0
    for item in Installment.objects.filter(
        status__in=[Installment.Status.SCHEDULED, Installment.Status.MISSED],
        plan__status=PaymentPlan.Status.ACTIVE,
        due_date__lt=today,
    ).select_related("plan__account__debtor", "plan__account__creditor"):
        if item.plan.autopay and item.status == Installment.Status.SCHEDULED:
            continue  # autopay retries first (autopay_charges)
        account = item.plan.account
        grace = _policy_of(account).grace_days
        with transaction.atomic():
            if item.reminder_sent_at is None:
                ok, why = _email(
                    account,
                    subject=f"A reminder about your {item.due_date:%B %d} payment",
                    body=(
                        f"Hello {account.debtor.first_name or account.debtor.display_name},"
                        f"\n\nWe haven't received the payment of ${item.amount:,.2f} that was "
                        f"due on {item.due_date:%B %d}. You can pay it here, or move it to a "
                        f"better date: {_link(account)}\n\nYour plan stays in place if it is "
                        f"paid by {item.due_date + timedelta(days=grace):%B %d}."
                    ),
                )
                item.status = Installment.Status.MISSED
                item.reminder_sent_at = timezone.now() if ok else None
                item.save(update_fields=["status", "reminder_sent_at"])
                event_record(
                    account=account,
                    kind=Event.Kind.PLAN,
                    summary=f"Payment {item.sequence} of {item.amount} missed"
                    + ("; reminder sent" if ok else f"; reminder not sent: {why}"),
                    data={"plan_id": item.plan_id, "installment": item.sequence},
                )
            if item.due_date + timedelta(days=grace) < today:
                plan_break(
                    plan=item.plan,
                    reason=f"payment {item.sequence} of {item.amount} due "
                    f"{item.due_date:%b %d} not paid within {grace} grace days",
                )
                broken += 1
    return broken


@transaction.atomic
def promises_due(today):
    broken = 0
    for promise in PromiseToPay.objects.filter(
        status=PromiseToPay.Status.OPEN, due_date__lt=today
    ).select_related("account"):
        promise.status = PromiseToPay.Status.BROKEN
        promise.resolved_at = timezone.now()
        promise.save(update_fields=["status", "resolved_at"])
        event_record(
            account=promise.account,
            kind=Event.Kind.PROMISE,
            summary=f"Promise to pay {promise.amount} by {promise.due_date:%b %d} not kept",
            amount=promise.amount,
            data={"promise_id": promise.id, "status": "broken"},
        )
        broken += 1
    return broken


def money_sweep(*, office_id, today=None):
    """The whole daily round for one office. Returns counts."""
    _policy.cache_clear()
    with tenancy.office_context(office_id):
        office = Office.objects.get(pk=office_id)
        today = today or office.today()
        notices = autopay_notices(today)
    charged = autopay_charges(today, office)
    with tenancy.office_context(office_id):
        broken = missed_installments(today)
        promises = promises_due(today)
    return {
        "notices": notices,
        "charged": charged,
        "plans_broken": broken,
        "promises_broken": promises,
    }
