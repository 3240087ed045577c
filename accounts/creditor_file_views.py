"""The creditor-file pages (recall, balance update, scrub and skip-trace uploads and their
results) and the files the office sends back (a placement's acknowledgement, a
creditor's close/return file). Managers and admins only. Thin: parse, call
accounts.creditor_files, render."""

import zoneinfo

from django import forms
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from accounts.creditor_files import outbound, services
from accounts.creditor_files.fields import FIELDS
from accounts.creditor_files.models import CreditorFile
from accounts.import_views import _import_for
from accounts.imports import progress as import_progress
from accounts.imports.forms import ACCEPTED, MAX_UPLOAD_BYTES
from accounts.models import Creditor
from recovery.access import MANAGERS, office_view


class CreditorFileForm(forms.Form):
    creditor = forms.ModelChoiceField(
        queryset=Creditor._base_manager.none(), empty_label="Choose the creditor"
    )
    kind = forms.ChoiceField(
        label="What the file holds", choices=CreditorFile.Kind.choices, widget=forms.RadioSelect
    )
    file = forms.FileField(help_text="CSV or Excel .xlsx, with a header row.")
    mode = forms.ChoiceField(
        label="Rows with problems",
        choices=CreditorFile.Mode.choices,
        widget=forms.RadioSelect,
        initial=CreditorFile.Mode.ALL_OR_NOTHING,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["creditor"].queryset = Creditor.objects.filter(is_active=True)
        self.fields["file"].widget.attrs["accept"] = ",".join(ACCEPTED)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(ACCEPTED):
            raise forms.ValidationError("Upload a CSV or Excel (.xlsx) file.")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is larger than 200 MB. Split it.")
        return upload


class PeriodForm(forms.Form):
    start = forms.DateField(label="Left collection from", widget=forms.DateInput({"type": "date"}))
    end = forms.DateField(label="to", widget=forms.DateInput({"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end") and cleaned["end"] < cleaned["start"]:
            raise forms.ValidationError("The period ends before it starts.")
        return cleaned


def _csv(text, filename):
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@office_view(roles=MANAGERS)
def creditor_file_list(request):
    files = CreditorFile.objects.select_related("creditor", "created_by")[:100]
    return render(request, "accounts/creditor_files/list.html", {"files": files})


@office_view(roles=MANAGERS)
def creditor_file_new(request):
    form = CreditorFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            cfile = services.creditor_file_apply(
                creditor=form.cleaned_data["creditor"],
                kind=form.cleaned_data["kind"],
                upload=form.cleaned_data["file"],
                mode=form.cleaned_data["mode"],
                user=request.user,
            )
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            return redirect("creditor_file_detail", request.office.slug, cfile.pk)
    columns = [
        (label, [f.label for f in FIELDS[kind]]) for kind, label in CreditorFile.Kind.choices
    ]
    return render(request, "accounts/creditor_files/new.html", {"form": form, "columns": columns})


def _file_for(file_id):
    """A creditor file of the current office, or 404 (the same for another office's)."""
    return get_object_or_404(
        CreditorFile.objects.select_related("creditor", "created_by"), pk=file_id
    )


def _progress_context(cfile):
    state = import_progress.progress_get(cfile)
    return {"cfile": cfile, "progress": state, "percent": import_progress.progress_percent(state)}


@office_view(roles=MANAGERS)
def creditor_file_detail(request, file_id):
    cfile = _file_for(file_id)
    return render(request, "accounts/creditor_files/detail.html", _progress_context(cfile))


@office_view(roles=MANAGERS)
def creditor_file_progress(request, file_id):
    """The live progress card of a file applied in the background (htmx polls it)."""
    cfile = _file_for(file_id)
    if cfile.is_finished and request.htmx:
        response = HttpResponse(status=204)  # done (committed): reload for the results
        response["HX-Refresh"] = "true"
        return response
    return render(request, "accounts/creditor_files/_progress.html", _progress_context(cfile))


@office_view(roles=MANAGERS)
def creditor_file_rejected(request, file_id):
    cfile = _file_for(file_id)
    if cfile.rejected_document is None:
        raise Http404("This file had no rejected rows")
    stem = cfile.file_name.rsplit(".", 1)[0]
    return FileResponse(
        cfile.rejected_document.file.open("rb"),
        as_attachment=True,
        filename=f"{stem}-rejected.csv",
        content_type="text/csv",
    )


@office_view(roles=MANAGERS)
def import_acknowledgement(request, import_id):
    pi = _import_for(import_id)
    if not pi.is_finished:
        raise Http404("This import has not finished")
    rows = outbound.placement_acknowledgement(pi)
    stem = pi.file_name.rsplit(".", 1)[0]
    return _csv(outbound.csv_text(outbound.ACK_HEADER, rows), f"{stem}-acknowledgement.csv")


@office_view(roles=MANAGERS)
def creditor_close_return(request, creditor_id):
    creditor = get_object_or_404(Creditor, pk=creditor_id)
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(request.office.time_zone))
    form = PeriodForm(request.GET or None, initial={"start": today.replace(day=1), "end": today})
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        rows = outbound.close_return_rows(creditor=creditor, start=start, end=end)
        name = f"{creditor.reference}-close-return-{start:%Y%m%d}-{end:%Y%m%d}.csv"
        return _csv(outbound.csv_text(outbound.RETURN_HEADER, rows), name)
    context = {"creditor": creditor, "form": form, "codes": outbound.RETURN_CODES.items()}
    return render(request, "accounts/creditor_files/close_return.html", context)
