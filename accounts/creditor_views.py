"""The office's clients: who they are, their commission, how payments on their accounts
are applied, and the plan policy that applies to them."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, Sum
from django.http import Http404
from django.shortcuts import redirect, render

from accounts import services
from accounts.models import OPEN_STATUSES, Creditor
from compliance.views.base import add_errors
from recovery.access import MANAGERS, office_view

COMPONENT_CHOICES = [("fees", "Fees"), ("interest", "Interest"), ("principal", "Principal")]


class CreditorForm(forms.ModelForm):
    first = forms.ChoiceField(label="Payments pay off first", choices=COMPONENT_CHOICES)
    second = forms.ChoiceField(label="then", choices=COMPONENT_CHOICES)
    third = forms.ChoiceField(label="and last", choices=COMPONENT_CHOICES)

    class Meta:
        model = Creditor
        fields = [
            "name",
            "reference",
            "contingency_fee_rate",
            "remittance_frequency",
            "remittance_email",
            "is_active",
        ]
        labels = {"contingency_fee_rate": "Commission (share of collections, 0–1)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        order = list(self.instance.allocation_order or ["fees", "interest", "principal"])
        for name, value in zip(("first", "second", "third"), order, strict=False):
            self.fields[name].initial = value

    def chosen_order(self):
        return [self.cleaned_data[n] for n in ("first", "second", "third")]


@office_view(roles=MANAGERS)
def creditor_list(request):
    creditors = Creditor.objects.annotate(
        open_accounts=Count("accounts", filter=Q(accounts__status__in=OPEN_STATUSES)),
        placed=Sum("accounts__total_placed"),
        collected=Sum("accounts__total_collected"),
    ).order_by("name")
    return render(request, "accounts/creditor_list.html", {"creditors": creditors})


def _save(request, creditor, form):
    fields = {k: v for k, v in form.cleaned_data.items() if k in CreditorForm.Meta.fields}
    fields["allocation_order"] = form.chosen_order()
    if creditor.pk is None:
        return services.creditor_create(**fields)
    return services.creditor_update(creditor=creditor, **fields)


@office_view(roles=MANAGERS)
def creditor_edit(request, creditor_id=None):
    creditor = (
        Creditor() if creditor_id is None else Creditor.objects.filter(pk=creditor_id).first()
    )
    if creditor is None:
        raise Http404("No such creditor")
    form = CreditorForm(request.POST or None, instance=creditor)
    if request.method == "POST" and form.is_valid():
        try:
            saved = _save(request, creditor, form)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"{saved.name} saved.")
            return redirect("creditor_list", office_slug=request.office.slug)
    return render(request, "accounts/creditor_edit.html", {"form": form, "creditor": creditor})
