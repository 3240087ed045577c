"""Money pages for staff: the account page's payment card and its actions, plan review,
the plan policy. The public endpoints are in payments/public_views.py."""

import logging

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import selectors as account_selectors
from accounts.models import Account, Creditor
from compliance.views.base import add_errors, office_today
from payments import forms, selectors, services
from payments.gateways import gateway_for
from payments.models import Payment, PaymentPlan, PlanPolicy, Source
from payments.services import offers as offer_services
from recovery.access import MANAGERS, STAFF_ROLES, SUPERVISORS, office_view

logger = logging.getLogger(__name__)


def account_money_context(request, account):
    """What the account page's payments card needs (accounts.views adds it)."""
    today = office_today(request)
    plan = selectors.open_plan(account)
    return {
        "payments": account.payments.order_by("-created_at")[:20],
        "plan": plan,
        # In date order: a skipped or moved payment shows where it now falls.
        "installments": sorted(plan.installments.all(), key=lambda i: (i.due_date, i.sequence))
        if plan
        else [],
        "promises": account.promises.filter(status="open").order_by("due_date"),
        "pay_options": selectors.pay_options(account, today),
        "plan_options": selectors.plan_options(account, today),
        "gateway": gateway_for(request.office),
        "can_act_money": request.membership.role in STAFF_ROLES,
        "can_refund": request.membership.role in MANAGERS,
        "can_lower_plan": request.membership.role in SUPERVISORS,
    }


def _account(request, account_id):
    try:
        return account_selectors.account_get(membership=request.membership, account_id=account_id)
    except Account.DoesNotExist:
        raise Http404("No such account") from None


def _back(request, account):
    url = reverse("account_detail", args=[request.office.slug, account.pk])
    return redirect(f"{url}#payments")


def _action(request, account, *, title, form, perform, submit, lead=""):
    """A money action's own page (where errors show, with what was typed); on success
    back to the account's payments card."""
    if request.method == "POST" and form.is_valid():
        try:
            result = perform(form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            if isinstance(result, HttpResponse):
                return result
            messages.success(request, result)
            return _back(request, account)
    return render(
        request,
        "payments/action.html",
        {"account": account, "form": form, "title": title, "submit": submit, "lead": lead},
    )


@office_view(roles=STAFF_ROLES)
def payment_record(request, account_id):
    account = _account(request, account_id)
    form = forms.OfflinePaymentForm(
        request.POST or None, initial={"received_on": office_today(request)}
    )

    def perform(data):
        payment = services.payment_record_offline(
            account=account,
            amount=data["amount"],
            method=data["method"],
            instrument=form.instrument(),
            received_on=data["received_on"],
            actor=request.user,
        )
        credit = (
            f" {payment.unapplied_amount} more than the balance is held as a credit to refund."
            if payment.unapplied_amount
            else ""
        )
        return f"Payment of {payment.amount} recorded and applied; a receipt goes out.{credit}"

    return _action(
        request,
        account,
        title="Record a payment received",
        form=form,
        perform=perform,
        submit="Record and apply",
        lead="A check, money order, bank transfer or check by phone. It is applied at once.",
    )


@office_view(roles=STAFF_ROLES)
def payment_link(request, account_id):
    """Open a checkout for the debtor (on the phone with them, or to send)."""
    account = _account(request, account_id)
    options = selectors.pay_options(account, office_today(request))
    form = forms.PaymentLinkForm(request.POST or None, initial={"amount": options.balance})

    def perform(data):
        back = request.build_absolute_uri(
            reverse("account_detail", args=[request.office.slug, account.pk])
        )
        start = services.checkout_start(
            account=account,
            amount=data["amount"],
            settle=data["settle"],
            success_url=f"{back}#payments",
            cancel_url=f"{back}#payments",
            source=Source.AGENT,
            actor=request.user,
        )
        return render(
            request,
            "payments/link_ready.html",
            {"account": account, "start": start, "gateway": gateway_for(request.office)},
        )

    lead = f"Balance {options.balance}."
    if options.lump_sum:
        lead += (
            f" Lump-sum offer: {options.lump_sum.amount} (saves {options.lump_sum.discount})"
            f" until {options.lump_sum.expires_on:%b %d, %Y}."
        )
    return _action(
        request,
        account,
        title="Take a payment by card or bank",
        form=form,
        perform=perform,
        submit="Open the payment page",
        lead=lead,
    )


@office_view(roles=STAFF_ROLES)
def offer_new(request, account_id):
    account = _account(request, account_id)
    policy = selectors.policy_for(account)
    form = forms.OfferForm(
        request.POST or None,
        initial={"discount_percent": policy.max_lump_sum_discount * 100, "channel": "email"},
    )

    def perform(data):
        with transaction.atomic():
            offer = offer_services.settlement_offer_make(
                account=account,
                discount=data["discount_percent"] / 100,
                days=data["days"],
                actor=request.user,
            )
            if data["channel"]:
                offer_services.settlement_offer_send(
                    offer=offer, channel=data["channel"], actor=request.user
                )
        sent = {"email": " and emailed", "letter": " and queued for mailing"}
        return (
            f"Offer of {offer.amount} until {offer.expires_on:%b %d, %Y} made"
            f"{sent.get(data['channel'], '')}."
        )

    return _action(
        request,
        account,
        title="Make a lump-sum offer",
        form=form,
        perform=perform,
        submit="Make the offer",
        lead=f"Balance {account.balance}. The policy allows up to "
        f"{policy.max_lump_sum_discount:.0%} off. The offer is fixed once made.",
    )


@office_view(roles=STAFF_ROLES)
def promise_new(request, account_id):
    account = _account(request, account_id)
    form = forms.PromiseForm(request.POST or None)

    def perform(data):
        promise = services.promise_create(
            account=account, amount=data["amount"], due_date=data["due_date"], actor=request.user
        )
        return f"Promise to pay {promise.amount} by {promise.due_date:%b %d, %Y} recorded."

    return _action(
        request,
        account,
        title="Record a promise to pay",
        form=form,
        perform=perform,
        submit="Record the promise",
        lead="An amount and a date, without a plan. It is marked kept or broken on the date.",
    )


@office_view(roles=STAFF_ROLES)
def plan_new(request, account_id):
    account = _account(request, account_id)
    today = office_today(request)
    options = selectors.plan_options(account, today)
    initial = {"start_date": today, "frequency": "monthly"}
    if options:
        initial.update(count=options[0].count, frequency=options[0].frequency)
    form = forms.PlanForm(request.POST or None, initial=initial)

    def perform(data):
        plan = services.plan_create(
            account=account,
            count=data["count"],
            frequency=data["frequency"],
            start_date=data["start_date"],
            total=services.parse_amount(data["total"]) if data["total"] else None,
            note=data["note"],
            actor=request.user,
        )
        if plan.status == PaymentPlan.Status.PROPOSED:
            return "The plan is outside policy: it waits for a manager's approval."
        return f"Plan started: {plan.installment_count} × {plan.installment_amount}."

    lead = "Within policy: " + (
        "; ".join(o.label for o in options) if options else "no standard plan fits this balance."
    )
    return _action(
        request,
        account,
        title="Set up a payment plan",
        form=form,
        perform=perform,
        submit="Set up the plan",
        lead=lead,
    )


@office_view(roles=SUPERVISORS)
@require_POST
def plan_review(request, plan_id):
    plan = PaymentPlan.objects.select_related("account").filter(pk=plan_id).first()
    if plan is None:
        raise Http404("No such plan")
    account = _account(request, plan.account_id)
    try:
        if request.POST.get("decision") == "approve":
            services.plan_approve(plan=plan, actor=request.user)
            messages.success(request, "Plan approved and started.")
        else:
            services.plan_decline(
                plan=plan, actor=request.user, reason=request.POST.get("reason", "")
            )
            messages.success(request, "Plan declined.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _back(request, account)


@office_view(roles=STAFF_ROLES)
@require_POST
def plan_cancel(request, plan_id):
    plan = PaymentPlan.objects.filter(pk=plan_id).first()
    if plan is None:
        raise Http404("No such plan")
    account = _account(request, plan.account_id)
    try:
        services.plan_cancel(
            plan=plan, actor=request.user, reason=request.POST.get("reason") or "Cancelled"
        )
        messages.success(request, "Plan cancelled; the account is back in collection.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _back(request, account)


def _payment(request, payment_id):
    payment = Payment.objects.select_related("account").filter(pk=payment_id).first()
    if payment is None:
        raise Http404("No such payment")
    _account(request, payment.account_id)  # creditor scoping
    return payment


@office_view(roles=STAFF_ROLES)
def payment_return(request, payment_id):
    payment = _payment(request, payment_id)
    form = forms.ReasonForm(request.POST or None)

    def perform(data):
        services.payment_returned(payment=payment, reason=data["reason"], actor=request.user)
        return f"Payment {payment.id} reversed as returned."

    return _action(
        request,
        payment.account,
        title=f"Check or transfer {payment.id} came back",
        form=form,
        perform=perform,
        submit="Reverse the payment",
        lead="The payment is taken off the ledger and the balance goes back up.",
    )


@office_view(roles=MANAGERS)
def payment_refund(request, payment_id):
    payment = _payment(request, payment_id)
    form = forms.RefundForm(request.POST or None)

    def perform(data):
        amount = services.parse_amount(data["amount"]) if data["amount"] else None
        now = services.payment_refund(
            payment=payment, amount=amount, reason=data["reason"], actor=request.user
        )
        if not now:
            return "Refund sent to Stripe; the ledger follows when Stripe confirms it."
        return f"Refunded {amount}." if amount else "Refunded in full."

    return _action(
        request,
        payment.account,
        title=f"Refund payment {payment.id}",
        form=form,
        perform=perform,
        submit="Refund",
        lead=f"Paid {payment.amount} on {payment.received_at:%b %d, %Y}."
        if payment.received_at
        else "",
    )


@office_view(roles=MANAGERS)
def policy_edit(request, creditor_id=None):
    """The office's plan policy, or one creditor's (which then overrides the office's)."""
    creditor = None
    if creditor_id is not None:
        creditor = Creditor.objects.filter(pk=creditor_id).first()
        if creditor is None:
            raise Http404("No such creditor")
    policy = PlanPolicy.objects.filter(creditor=creditor).first()
    if policy is None:
        # A creditor's policy starts as a copy of the office's (or the defaults).
        policy = selectors.policy_for_creditor(None)
        policy.pk, policy.creditor = None, creditor
        policy._state.adding = True
    form = forms.PolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Plan and discount policy saved.")
        if creditor is not None:
            return redirect("creditor_list", office_slug=request.office.slug)
        return redirect("payment_policy", office_slug=request.office.slug)
    return render(request, "payments/policy.html", {"form": form, "creditor": creditor})
