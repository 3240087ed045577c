"""Autopay: the debtor saves a payment method and authorises the debits (F-EFT); the
authorisation's words, time and address are kept as evidence. Stripe saves the method
through a Checkout Session in setup mode; the demo gateway through its own page. The
plan is charged by the daily sweep (payments.services.sweep), never before the notice."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Event
from accounts.services import event_record
from payments.gateways import GatewayError, gateway_for
from payments.models import PaymentMethod, PaymentPlan


def authorisation_text(plan, office):
    return (
        f"I authorise {office.name} to debit {plan.installment_amount} from the payment "
        f"method I save now, {plan.get_frequency_display().lower()}, on each due date of "
        f"my payment plan ({plan.installment_count} payments from {plan.start_date:%B %d, %Y})."
        f" I will be told before each debit and can cancel autopay at any time."
    )


@dataclass(frozen=True)
class SetupStart:
    plan: PaymentPlan
    redirect_url: str


def autopay_setup_start(*, plan, success_url, cancel_url):
    """Send the debtor to save a payment method for this plan."""
    if plan.status not in (PaymentPlan.Status.ACTIVE, PaymentPlan.Status.PROPOSED):
        raise ValidationError("Autopay can only be set up on a plan that is in place.")
    gateway = gateway_for(plan.account.office)
    try:
        url = gateway.setup(plan=plan, success_url=success_url, cancel_url=cancel_url)
    except GatewayError as exc:
        raise ValidationError(f"The card page could not be opened: {exc}") from exc
    return SetupStart(plan=plan, redirect_url=url)


@transaction.atomic
def autopay_attach(*, plan, gateway, method_reference, label, customer_reference="", ip=None):
    """Keep the saved method with the authorisation and switch the plan to autopay."""
    plan = PaymentPlan.objects.select_for_update().select_related("account__office").get(pk=plan.pk)
    if (
        plan.autopay
        and plan.payment_method
        and plan.payment_method.method_reference == (method_reference)
    ):
        return plan.payment_method  # a replayed confirmation
    method = PaymentMethod.objects.create(
        debtor_id=plan.account.debtor_id,
        gateway=gateway,
        customer_reference=customer_reference,
        method_reference=method_reference,
        label=label[:60],
        authorisation_text=authorisation_text(plan, plan.account.office),
        authorisation_ip=ip,
    )
    plan.autopay = True
    plan.payment_method = method
    plan.save(update_fields=["autopay", "payment_method"])
    event_record(
        account=plan.account,
        kind=Event.Kind.PLAN,
        summary=f"Autopay set up with {method.label}; the debtor authorised the debits",
        data={"plan_id": plan.id, "payment_method_id": method.id},
    )
    return method


@transaction.atomic
def autopay_cancel(*, plan, actor=None, source="portal"):
    """The debtor (or an agent for them) stops autopay; the plan stays, paid by hand."""
    plan = PaymentPlan.objects.select_for_update().select_related("account").get(pk=plan.pk)
    if not plan.autopay:
        return plan
    if plan.payment_method_id:
        PaymentMethod.objects.filter(pk=plan.payment_method_id).update(revoked_at=timezone.now())
    plan.autopay = False
    plan.save(update_fields=["autopay"])
    event_record(
        account=plan.account,
        kind=Event.Kind.PLAN,
        actor=actor,
        summary="Autopay cancelled; the plan continues with payments made by hand",
        data={"plan_id": plan.id, "source": source},
    )
    return plan
