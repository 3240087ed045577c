"""The manager's campaign pages: list, build, preview, dry-run, activate/pause/resume,
and the template library. Thin: parse, call a service or selector, render. Managers and
admins only (recovery.access.MANAGERS); another office's ids are 404 through the
scoped managers."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.models import Account, Creditor
from campaigns import library, selectors, services
from campaigns.builder import preview as builder_preview
from campaigns.builder.dryrun import progress_get
from campaigns.builder.segments import segment_describe
from campaigns.forms import (
    CampaignForm,
    DryRunForm,
    StepForm,
    StepFormSet,
    TemplateForm,
    segment_fields,
    segment_parse,
)
from campaigns.models import Campaign, DryRun, MessageTemplate
from campaigns.rendering import MERGE_FIELDS
from campaigns.rendering import render as render_text
from recovery.access import MANAGERS, office_view

BLANK_STEPS = 2


def _campaign(campaign_id):
    return get_object_or_404(Campaign, pk=campaign_id)


def _add_errors(form, exc):
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@office_view(roles=MANAGERS)
def campaign_list(request):
    campaigns = selectors.campaign_list(show_archived=request.GET.get("show") == "all")
    figures = selectors.campaign_figures([c.id for c in campaigns])
    rows = [{"campaign": c, **figures[c.id]} for c in campaigns]
    return render(request, "campaigns/campaign_list.html", {"rows": rows})


@office_view(roles=MANAGERS)
def campaign_new(request):
    return _campaign_form(request, campaign=None)


@office_view(roles=MANAGERS)
def campaign_edit(request, campaign_id):
    campaign = _campaign(campaign_id)
    if campaign.status in (Campaign.Status.RETIRING, Campaign.Status.ARCHIVED):
        messages.info(request, "This version has been replaced; edit the current one.")
        return redirect("campaign_detail", office_slug=request.office.slug, campaign_id=campaign.pk)
    draft = services.next_draft(campaign)
    if draft is not None:
        # One pending version at a time: edit it rather than start another.
        return redirect("campaign_edit", office_slug=request.office.slug, campaign_id=draft.pk)
    return _campaign_form(request, campaign=campaign)


def _campaign_form(request, *, campaign):
    initial, steps_initial = {}, []
    if campaign is not None:
        initial = CampaignForm.initial_for(campaign)
        steps_initial = [StepForm.initial_for(s) for s in campaign.steps.order_by("position")]
    else:
        initial = {"exits": list(services.EXITS)}
    steps_initial += [{"wait_days": 0 if not steps_initial else 7}] + [
        {"wait_days": 7} for _ in range(BLANK_STEPS - 1)
    ]
    data = request.POST if request.method == "POST" else None
    form = CampaignForm(data, initial=initial, campaign=campaign)
    steps = StepFormSet(data, initial=steps_initial, prefix="steps")
    if data is not None and form.is_valid() and steps.is_valid():
        try:
            saved = services.campaign_save(campaign=campaign, spec=form.spec(steps.steps()))
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            if campaign is not None and saved.pk != campaign.pk:
                messages.success(
                    request,
                    f"Saved as version {saved.version}, a draft. Version {campaign.version} keeps "
                    "running until you activate this one; accounts already in it finish there.",
                )
            else:
                messages.success(request, "Campaign saved. Preview it, then activate it.")
            return redirect(
                "campaign_detail", office_slug=request.office.slug, campaign_id=saved.pk
            )
    locked = campaign is not None and services.is_locked(campaign)
    return render(
        request,
        "campaigns/campaign_form.html",
        {
            "form": form,
            "steps": steps,
            "campaign": campaign,
            "locked": locked,
            "segment_fields": segment_fields(),
        },
    )


@office_view(roles=MANAGERS)
def campaign_detail(request, campaign_id):
    campaign = _campaign(campaign_id)
    creditors = dict(Creditor.objects.values_list("id", "name"))
    figures = selectors.campaign_figures([campaign.id])[campaign.id]
    templates = {t.id: t for t in MessageTemplate.objects.all()}
    steps = [
        {
            "step": s,
            "templates": [
                (channel, templates.get(int(tid))) for channel, tid in (s.templates or {}).items()
            ],
        }
        for s in campaign.steps.order_by("position")
    ]
    context = {
        "campaign": campaign,
        "segment": segment_describe(campaign.entry_segment, creditors=creditors),
        "exits": [services.EXITS.get(e, e) for e in campaign.exit_conditions],
        "escalation": _escalation_label(campaign),
        "steps": steps,
        "figures": figures,
        "variants": selectors.variant_results(campaign),
        "counts": builder_preview.entry_counts(campaign)
        if campaign.status in (Campaign.Status.DRAFT, Campaign.Status.ACTIVE)
        else None,
        "problems": services.activation_problems(campaign)
        if campaign.status == Campaign.Status.DRAFT
        else [],
        "draft": services.next_draft(campaign),
        "previous": campaign.previous_version,
        "dry_runs": campaign.dry_runs.order_by("-created_at")[:5],
        "dry_run_form": DryRunForm(),
    }
    return render(request, "campaigns/campaign_detail.html", context)


@office_view(roles=MANAGERS)
@require_POST
def segment_count(request):
    """The live count beside the segment builder (htmx, as conditions change)."""
    if not request.htmx:
        raise Http404
    try:
        summary = builder_preview.segment_summary(segment_parse(request.POST.get("segment")))
    except ValidationError as exc:
        summary = {"problem": " ".join(exc.messages)}
    return render(request, "campaigns/_segment_count.html", summary)


def _escalation_label(campaign):
    escalation = campaign.escalation or {}
    kind = escalation.get("kind")
    if kind == "campaign":
        target = Campaign.objects.filter(pk=escalation.get("campaign_id")).first()
        return f"Move to “{target}”" if target else "Move to another campaign (missing)"
    if kind == "queue":
        return f"Agent queue “{escalation.get('queue')}”"
    if kind == "legal":
        return "Legal review (compliance refuses it for time-barred debt)"
    return "Nothing: the account finishes the campaign"


@office_view(roles=MANAGERS)
def campaign_preview(request, campaign_id):
    campaign = _campaign(campaign_id)
    samples = builder_preview.sample_accounts(campaign)
    account = None
    chosen = request.GET.get("account")
    if chosen:
        account = Account.objects.select_related("debtor", "creditor", "office").filter(
            pk=chosen if chosen.isdigit() else None
        ).first() or (
            Account.objects.select_related("debtor", "creditor", "office")
            .filter(office_reference=chosen.strip())
            .first()
        )
        if account is None:
            messages.error(request, f"No account “{chosen}” in this office.")
    elif samples:
        account = Account.objects.select_related("debtor", "creditor", "office").get(
            pk=samples[0].pk
        )
    context = {
        "campaign": campaign,
        "counts": builder_preview.entry_counts(campaign),
        "samples": samples,
        "account": account,
        "previews": builder_preview.step_previews(campaign, account) if account else [],
        "problems": services.activation_problems(campaign)
        if campaign.status == Campaign.Status.DRAFT
        else [],
    }
    return render(request, "campaigns/campaign_preview.html", context)


def _state_change(request, campaign_id, verb, done):
    campaign = _campaign(campaign_id)
    try:
        verb(campaign=campaign)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, done.format(campaign=campaign))
    return redirect("campaign_detail", office_slug=request.office.slug, campaign_id=campaign.pk)


@office_view(roles=MANAGERS)
@require_POST
def campaign_activate(request, campaign_id):
    return _state_change(
        request,
        campaign_id,
        services.campaign_activate,
        "“{campaign}” is active: matching accounts enter on the next run.",
    )


@office_view(roles=MANAGERS)
@require_POST
def campaign_pause(request, campaign_id):
    return _state_change(
        request,
        campaign_id,
        services.campaign_pause,
        "“{campaign}” is paused: nothing is sent until you resume it.",
    )


@office_view(roles=MANAGERS)
@require_POST
def campaign_resume(request, campaign_id):
    return _state_change(
        request,
        campaign_id,
        services.campaign_resume,
        "“{campaign}” is running again; steps that fell due while paused go out once.",
    )


@office_view(roles=MANAGERS)
@require_POST
def dry_run_start(request, campaign_id):
    campaign = _campaign(campaign_id)
    form = DryRunForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose how many days to replay (1–365).")
        return redirect("campaign_detail", office_slug=request.office.slug, campaign_id=campaign.pk)
    run = services.dry_run_start(
        campaign=campaign,
        days=form.cleaned_data["days"],
        outcome_days=form.cleaned_data["outcome_days"],
        requested_by=request.user,
    )
    return redirect("dry_run_detail", office_slug=request.office.slug, run_id=run.pk)


def _run(run_id):
    return get_object_or_404(DryRun.objects.select_related("campaign"), pk=run_id)


@office_view(roles=MANAGERS)
def dry_run_detail(request, run_id):
    run = _run(run_id)
    return render(request, "campaigns/dry_run.html", _run_context(run))


@office_view(roles=MANAGERS)
def dry_run_progress(request, run_id):
    run = _run(run_id)
    template = "campaigns/dry_run.html" if not request.htmx else "campaigns/_dry_run_body.html"
    return render(request, template, _run_context(run))


def _run_context(run):
    progress = progress_get(run.office_id, run.id)
    total = progress.get("total") or 0
    percent = int(100 * progress.get("processed", 0) / total) if total else 0
    result = run.result or {}
    steps = result.get("steps") or []
    return {
        "run": run,
        "campaign": run.campaign,
        "progress": progress,
        "percent": percent,
        "result": result,
        "steps": steps,
        "finished": run.status in (DryRun.Status.DONE, DryRun.Status.FAILED),
    }


# --- templates -------------------------------------------------------------------------


@office_view(roles=MANAGERS)
def template_list(request):
    groups = {}
    for t in MessageTemplate.objects.order_by("name", "channel", "language"):
        groups.setdefault((t.name, t.channel), []).append(t)
    rows = []
    for (name, channel), variants in groups.items():
        review = library.template_review(
            subject=variants[0].subject, body=variants[0].body, channel=channel
        )
        rows.append(
            {
                "name": name,
                "channel": channel,
                "variants": variants,
                "missing": [
                    code
                    for code, _ in library.LANGUAGES
                    if code not in {v.language for v in variants}
                ],
                "review": review,
            }
        )
    return render(request, "campaigns/template_list.html", {"rows": rows})


@office_view(roles=MANAGERS)
def template_new(request):
    initial = {k: request.GET.get(k) for k in ("name", "channel", "language") if request.GET.get(k)}
    return _template_form(request, template=None, initial=initial)


@office_view(roles=MANAGERS)
def template_edit(request, template_id):
    template = get_object_or_404(MessageTemplate, pk=template_id)
    return _template_form(request, template=template)


def _template_form(request, *, template, initial=None):
    form = TemplateForm(request.POST or None, instance=template, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = services.template_save(template=template, **data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            review = library.template_review(
                subject=saved.subject, body=saved.body, channel=saved.channel
            )
            if review["problems"]:
                messages.warning(
                    request,
                    "Template saved, but read the warnings: compliance will block it where "
                    "the law forbids that wording.",
                )
            else:
                messages.success(request, f"“{saved.name}” ({saved.language.upper()}) saved.")
            return redirect("template_edit", office_slug=request.office.slug, template_id=saved.pk)
    context = {"form": form, "template": template, "merge_fields": MERGE_FIELDS}
    context.update(_preview_context(request, form))
    return render(request, "campaigns/template_form.html", context)


def _preview_context(request, form):
    data = form.data if form.is_bound else None
    if data is not None:
        subject, body = data.get("subject", ""), data.get("body", "")
        channel = data.get("channel", "email")
    else:
        subject = form.initial.get("subject", "")
        body = form.initial.get("body", "")
        channel = form.initial.get("channel", "email")
        if form.instance and form.instance.pk:
            subject, body, channel = (
                form.instance.subject,
                form.instance.body,
                form.instance.channel,
            )
    review = library.template_review(subject=subject, body=body, channel=channel)
    values = library.sample_values(request.office)
    rendered = {}
    if not review["errors"]:
        rendered = {
            "subject": render_text(subject, values),
            "body": render_text(body, values),
        }
    return {"review": review, "rendered": rendered, "channel": channel}


@office_view(roles=MANAGERS)
@require_POST
def template_preview(request):
    """The live preview beside the editor (htmx, on typing)."""
    form = TemplateForm(request.POST)
    if not request.htmx:
        raise Http404
    return render(request, "campaigns/_template_preview.html", _preview_context(request, form))
