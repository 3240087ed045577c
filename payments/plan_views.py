"""The account page's plan changes: move a payment, skip one, lower the payments for
hardship. Each asks why; the services record who and why on the timeline."""

from django import forms
from django.http import Http404

from payments import services
from payments.forms import DATE, MONEY
from payments.models import Installment, PaymentPlan
from payments.views import _account, _action
from recovery.access import STAFF_ROLES, SUPERVISORS, office_view


class MoveForm(forms.Form):
    due_date = forms.DateField(label="New date", widget=DATE)
    reason = forms.CharField(label="Why", max_length=200)


class SkipForm(forms.Form):
    reason = forms.CharField(label="Why", max_length=200)


class ReduceForm(forms.Form):
    installment_amount = forms.CharField(label="New payment amount", widget=MONEY)
    reason = forms.CharField(label="The hardship, in a few words", max_length=200)


def _installment(request, installment_id):
    item = Installment.objects.select_related("plan__account").filter(pk=installment_id).first()
    if item is None:
        raise Http404("No such payment")
    return item, _account(request, item.plan.account_id)


@office_view(roles=STAFF_ROLES)
def installment_move(request, installment_id):
    item, account = _installment(request, installment_id)
    form = MoveForm(request.POST or None, initial={"due_date": item.due_date})

    def perform(data):
        services.installment_reschedule(
            installment=item,
            due_date=data["due_date"],
            reason=data["reason"],
            actor=request.user,
        )
        return f"Payment {item.sequence} moved to {data['due_date']:%b %d, %Y}."

    return _action(
        request,
        account,
        title=f"Move payment {item.sequence}",
        form=form,
        perform=perform,
        submit="Move it",
        lead=f"{item.amount} due {item.due_date:%b %d, %Y}.",
    )


@office_view(roles=STAFF_ROLES)
def installment_skip(request, installment_id):
    item, account = _installment(request, installment_id)
    form = SkipForm(request.POST or None)

    def perform(data):
        moved = services.installment_skip(
            installment=item, reason=data["reason"], actor=request.user
        )
        return f"Payment {item.sequence} skipped; it is now due {moved.due_date:%b %d, %Y}."

    return _action(
        request,
        account,
        title=f"Skip payment {item.sequence}",
        form=form,
        perform=perform,
        submit="Skip it",
        lead=f"{item.amount} due {item.due_date:%b %d, %Y} moves to after the last payment.",
    )


@office_view(roles=SUPERVISORS)
def plan_lower(request, plan_id):
    plan = PaymentPlan.objects.filter(pk=plan_id).first()
    if plan is None:
        raise Http404("No such plan")
    account = _account(request, plan.account_id)
    form = ReduceForm(request.POST or None)

    def perform(data):
        changed = services.plan_reduce(
            plan=plan,
            installment_amount=services.parse_amount(data["installment_amount"]),
            reason=data["reason"],
            actor=request.user,
        )
        return (
            f"Payments lowered to {changed.installment_amount}; "
            f"{changed.installment_count} payments in all."
        )

    return _action(
        request,
        account,
        title="Lower the payments for hardship",
        form=form,
        perform=perform,
        submit="Lower the payments",
        lead=f"Now {plan.installment_amount} {plan.get_frequency_display().lower()}. What is "
        "still due is spread over more payments of the new amount.",
    )
