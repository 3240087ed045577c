"""The office admin's page for REST API keys: create one (shown once), see when each was
last used, revoke. Keys are stored as hashes only (see recovery.models.ApiKey)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.models import Creditor
from recovery import services
from recovery.access import ADMINS, office_view
from recovery.models import ApiKey

_NEW_KEY = "api_key_new"


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="Which integration uses it, e.g. “Lakeside nightly placements”."
    )
    creditor = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="All creditors of the office",
        help_text="A key for one creditor's integration sees only that creditor's accounts.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per request: the scoped manager needs the office in context.
        self.fields["creditor"].queryset = Creditor.objects.filter(is_active=True)


@office_view(roles=ADMINS)
def api_key_list(request):
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            api_key, key = services.api_key_create(
                name=form.cleaned_data["name"], creditor=form.cleaned_data["creditor"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            # Shown once, on the next page: a reload or the back button cannot show it again.
            request.session[_NEW_KEY] = {"id": api_key.pk, "key": key}
            return redirect("api_key_list", office_slug=request.office.slug)
    new_key = request.session.pop(_NEW_KEY, None)
    keys = ApiKey.objects.select_related("creditor").order_by("revoked_at", "-created_at")
    return render(
        request, "recovery/api_keys.html", {"form": form, "keys": keys, "new_key": new_key}
    )


@office_view(roles=ADMINS)
@require_POST
def api_key_revoke(request, key_id):
    api_key = get_object_or_404(ApiKey, pk=key_id)
    services.api_key_revoke(api_key=api_key)
    messages.success(request, f"The key “{api_key.name}” no longer works.")
    return redirect("api_key_list", office_slug=request.office.slug)
