"""The placement import pages: history, upload, column mapping, preview, progress,
results, the rejected rows, and splitting a wrongly matched account off its debtor.
Managers and admins only. Thin: parse, call accounts.imports.services, render."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from accounts.imports import progress as import_progress
from accounts.imports import selectors, services
from accounts.imports.fields import mapping_clean, mapping_problems
from accounts.imports.forms import MappingForm, UploadForm, mapping_initial
from accounts.imports.models import PlacementImport, PlacementMatch
from accounts.imports.reader import FileProblem
from recovery.access import MANAGERS, office_view

MATCHES_SHOWN = 200


def _import_for(import_id):
    """An import of the current office, or 404 (the same for another office's)."""
    return get_object_or_404(
        PlacementImport.objects.select_related("creditor", "created_by", "document"), pk=import_id
    )


def _to(name, request, pi):
    return redirect(name, office_slug=request.office.slug, import_id=pi.pk)


@office_view(roles=MANAGERS)
def import_list(request):
    return render(
        request, "accounts/imports/import_list.html", {"imports": selectors.import_list()[:100]}
    )


@office_view(roles=MANAGERS)
def import_new(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            pi = services.placement_import_create(
                creditor=form.cleaned_data["creditor"],
                upload=form.cleaned_data["file"],
                user=request.user,
            )
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            return _to("import_mapping", request, pi)
    return render(request, "accounts/imports/import_new.html", {"form": form})


@office_view(roles=MANAGERS)
def import_mapping(request, import_id):
    pi = _import_for(import_id)
    if pi.status != PlacementImport.Status.DRAFT:
        return render(request, "accounts/imports/import_started.html", {"pi": pi})
    saved = list(pi.creditor.import_mappings.all())
    mapping, using = pi.mapping_snapshot, pi.mapping
    if request.GET.get("use"):
        mapping, using, _ = services.mapping_suggest(
            creditor=pi.creditor, headers=pi.headers, name=request.GET["use"]
        )
    elif request.GET.get("guess"):
        mapping, using = services.mapping_guess(pi.headers), None
    form = MappingForm(
        request.POST or None,
        headers=pi.headers,
        samples=selectors.column_samples(pi),
        initial=mapping_initial(mapping, pi.mode, using.name if using else "Default"),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.placement_import_configure(
                placement_import=pi,
                mapping=form.mapping(),
                mode=form.cleaned_data["mode"],
                mapping_name=form.cleaned_data["mapping_name"],
                save_mapping=form.cleaned_data["save_mapping"],
                user=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _to("import_preview", request, pi)
    context = {"pi": pi, "form": form, "saved": saved, "using": using}
    return render(request, "accounts/imports/import_mapping.html", context)


@office_view(roles=MANAGERS)
def import_preview(request, import_id):
    pi = _import_for(import_id)
    if pi.status != PlacementImport.Status.DRAFT:
        return render(request, "accounts/imports/import_started.html", {"pi": pi})
    if request.method == "POST":
        try:
            pi, how = services.placement_import_start(placement_import=pi)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return _to("import_preview", request, pi)
        if how == "queued":
            messages.info(request, "The import is running in the background.")
        return _to("import_detail", request, pi)
    problems = mapping_problems(mapping_clean(pi.mapping_snapshot, pi.headers))
    if problems:
        messages.error(request, " ".join(problems))
        return _to("import_mapping", request, pi)
    try:
        preview = services.placement_import_preview(placement_import=pi)
    except FileProblem as exc:
        preview, problem = None, str(exc)
    else:
        problem = ""
    context = {"pi": pi, "preview": preview, "file_problem": problem}
    return render(request, "accounts/imports/import_preview.html", context)


@office_view(roles=MANAGERS)
def import_detail(request, import_id):
    pi = _import_for(import_id)
    if pi.status == PlacementImport.Status.DRAFT:
        return _to("import_mapping", request, pi)
    matches = selectors.import_matches(pi)
    uncertain = PlacementMatch.Method.UNCERTAIN
    state = import_progress.progress_get(pi)
    context = {
        "pi": pi,
        "progress": state,
        "percent": import_progress.progress_percent(state),
        # A file can match thousands of known debtors: the page lists the first ones.
        "reviews": matches.filter(method=uncertain)[:MATCHES_SHOWN],
        "matches": matches.exclude(method=uncertain)[:MATCHES_SHOWN],
        "match_count": pi.debtors_matched - pi.matches_to_review,
        "shown": MATCHES_SHOWN,
    }
    return render(request, "accounts/imports/import_detail.html", context)


@office_view(roles=MANAGERS)
def import_progress_view(request, import_id):
    pi = _import_for(import_id)
    if pi.is_finished and request.htmx:
        # Finished (committed): reload the page to show the results.
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    state = import_progress.progress_get(pi)
    context = {"pi": pi, "progress": state, "percent": import_progress.progress_percent(state)}
    return render(request, "accounts/imports/_progress.html", context)


@office_view(roles=MANAGERS)
def import_file(request, import_id):
    pi = _import_for(import_id)
    return FileResponse(
        pi.document.file.open("rb"),
        as_attachment=True,
        filename=pi.file_name,
        content_type=pi.document.content_type or "application/octet-stream",
    )


@office_view(roles=MANAGERS)
def import_rejected(request, import_id):
    pi = _import_for(import_id)
    if pi.rejected_document is None:
        raise Http404("This import rejected no rows")
    stem = pi.file_name.rsplit(".", 1)[0]
    return FileResponse(
        pi.rejected_document.file.open("rb"),
        as_attachment=True,
        filename=f"{stem}-rejected.csv",
        content_type="text/csv",
    )


@office_view(roles=MANAGERS)
def import_match_split(request, import_id, match_id):
    pi = _import_for(import_id)
    match = get_object_or_404(
        PlacementMatch.objects.select_related("account", "debtor", "split_debtor"),
        pk=match_id,
        placement_import=pi,
    )
    if request.method == "POST":
        try:
            services.account_unmerge(match=match, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, f"Account {match.account.office_reference} now has its own debtor."
            )
        return _to("import_detail", request, pi)
    return render(request, "accounts/imports/match_split.html", {"pi": pi, "match": match})
