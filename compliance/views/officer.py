"""The compliance officer's pages: decisions (search, summary, CSV), the office policy
and its history, the complaint register and the audit."""

import csv
from datetime import datetime, time, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from compliance import selectors, services
from compliance.audit import audit
from compliance.facts import policy_in_force
from compliance.filters import DEFAULT_PERIOD_DAYS, DecisionFilter
from compliance.forms import ROOT_CAUSES, AuditForm, ComplaintForm, ComplaintOutcomeForm, PolicyForm
from compliance.models import Complaint, Decision
from compliance.views.base import add_errors, office_today, office_zone
from debtors.models import ContactPoint
from recovery import tenancy
from recovery.access import COMPLIANCE_READERS, COMPLIANCE_ROLES, POLICY_EDITORS, office_view
from recovery.models import WorkItem

PAGE_SIZE = 50


# ---------- decisions ----------


def _decision_filter(request):
    """The filter with the request's criteria, or the last 30 days when none is given."""
    data = request.GET.copy()
    data.pop("page", None)
    if not any(name in data for name in DecisionFilter.base_filters):
        today = office_today(request)
        data["date_from"] = (today - timedelta(days=DEFAULT_PERIOD_DAYS - 1)).isoformat()
        data["date_to"] = today.isoformat()
    return DecisionFilter(data, queryset=selectors.decision_search(), office=request.office)


@office_view(roles=COMPLIANCE_READERS)
def decision_list(request):
    filterset = _decision_filter(request)
    valid = filterset.is_valid()
    decisions = filterset.qs if valid else Decision.objects.none()
    page = Paginator(decisions, PAGE_SIZE).get_page(request.GET.get("page"))
    query = filterset.data.urlencode()
    return render(
        request,
        "compliance/decision_list.html",
        {
            "filter": filterset,
            "page": page,
            "summary": selectors.decision_summary(decisions) if valid else None,
            "query": query,
            "export_url": f"{reverse('decision_export', args=[request.office.slug])}?{query}",
        },
    )


class _Echo:
    """csv.writer writes into this and hands the line back, for streaming."""

    def write(self, value):
        return value


def _cell(value):
    # A cell a spreadsheet would run as a formula is written as text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@office_view(roles=COMPLIANCE_READERS)
def decision_export(request):
    filterset = _decision_filter(request)
    if not filterset.is_valid():
        messages.error(request, "Fix the search before exporting it.")
        return redirect(
            f"{reverse('decision_list', args=[request.office.slug])}?{request.GET.urlencode()}"
        )
    decisions = filterset.qs
    office_id = request.office.id

    def lines():
        writer = csv.writer(_Echo())
        # Streaming runs after the request's transaction has ended: open one for the
        # office, so the scoped manager and row-level security both see it.
        with tenancy.office_context(office_id):
            for row in selectors.decision_export_rows(decisions):
                yield writer.writerow([_cell(value) for value in row])

    data = filterset.form.cleaned_data
    period = "-".join(d.isoformat() for d in (data.get("date_from"), data.get("date_to")) if d)
    name = f"decisions-{request.office.slug}{'-' + period if period else ''}.csv"
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@office_view(roles=COMPLIANCE_READERS)
def decision_detail(request, decision_id):
    decision = get_object_or_404(Decision.objects.select_related("account"), pk=decision_id)
    contact_kind = None
    if decision.contact_point_id:
        contact_kind = (
            ContactPoint.objects.filter(pk=decision.contact_point_id)
            .values_list("kind", flat=True)
            .first()
        )
    titles = selectors.rule_titles()
    return render(
        request,
        "compliance/decision_detail.html",
        {
            "decision": decision,
            "rules": [(rule, titles.get(rule, "")) for rule in decision.rule_ids],
            "contact_kind": ContactPoint.Kind(contact_kind).label if contact_kind else None,
        },
    )


# ---------- the office's policy ----------


@office_view(roles=COMPLIANCE_READERS)
def policy_detail(request):
    policy = policy_in_force(request.office, timezone.now())
    return render(
        request,
        "compliance/policy.html",
        {
            "policy": policy,
            "effective": services.policy_effective(policy, request.office),
            "limits": services.policy_limits(request.office),
            "channels": services.POLICY_CHANNELS,
            "history": selectors.policy_history(request.office),
            "can_edit": request.membership.role in POLICY_EDITORS,
        },
    )


@office_view(roles=POLICY_EDITORS)
def policy_edit(request):
    policy = policy_in_force(request.office, timezone.now())
    effective = services.policy_effective(policy, request.office)
    form = PolicyForm(
        request.POST or None, office=request.office, initial=PolicyForm.initial_from(effective)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.policy_change(
                office=request.office, changed_by=request.user, **form.service_kwargs()
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "The new policy is in force from now.")
            return redirect("policy_detail", office_slug=request.office.slug)
    return render(
        request,
        "compliance/policy_edit.html",
        {"form": form, "limits": services.policy_limits(request.office), "effective": effective},
    )


# ---------- complaints ----------


@office_view(roles=COMPLIANCE_READERS)
def complaint_list(request):
    status = request.GET.get("status", "open")
    if status not in ("open", "closed", "all"):
        status = "open"
    page = Paginator(selectors.complaint_register(status=status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "compliance/complaint_list.html",
        {
            "page": page,
            "status": status,
            "counts": selectors.complaint_counts(),
            "now": timezone.now(),
            "can_record": request.membership.role in COMPLIANCE_ROLES,
        },
    )


@office_view(roles=COMPLIANCE_ROLES)
def complaint_new(request):
    form = ComplaintForm(request.POST or None, initial={"received_on": office_today(request)})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            account = selectors.account_by_reference(
                membership=request.membership, reference=data["account"]
            )
            complaint = services.complaint_create(
                accounts=[account],
                source=data["source"],
                received_on=data["received_on"],
                response_due_on=data["response_due_on"],
                summary=data["summary"],
                created_by=request.user,
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            due = timezone.localtime(complaint.response_due_at, office_zone(request))
            messages.success(
                request,
                f"Complaint #{complaint.pk} is in the register; the response is due "
                f"{services.day_label(due)} and a task is in your work.",
            )
            return redirect(
                "complaint_detail", office_slug=request.office.slug, complaint_id=complaint.pk
            )
    return render(request, "compliance/complaint_new.html", {"form": form})


@office_view(roles=COMPLIANCE_READERS)
def complaint_detail(request, complaint_id):
    complaint = get_object_or_404(
        Complaint.objects.select_related("debtor").prefetch_related("accounts"), pk=complaint_id
    )
    can_record = request.membership.role in COMPLIANCE_ROLES
    form = ComplaintOutcomeForm(request.POST or None)
    if request.method == "POST":
        if not can_record:
            messages.error(request, "Your role can't record complaint outcomes.")
            return redirect(
                "complaint_detail", office_slug=request.office.slug, complaint_id=complaint.pk
            )
        if form.is_valid():
            try:
                services.complaint_outcome_record(
                    complaint=complaint, recorded_by=request.user, **form.cleaned_data
                )
            except ValidationError as exc:
                if not hasattr(exc, "error_dict"):  # e.g. closed meanwhile by someone else
                    messages.error(request, " ".join(exc.messages))
                    return redirect(
                        "complaint_detail",
                        office_slug=request.office.slug,
                        complaint_id=complaint.pk,
                    )
                add_errors(form, exc)
            else:
                messages.success(request, f"Complaint #{complaint.pk} is closed.")
                return redirect(
                    "complaint_detail", office_slug=request.office.slug, complaint_id=complaint.pk
                )
    task = (
        WorkItem.objects.select_related("assignee")
        .filter(kind=WorkItem.Kind.REVIEW, title=services.complaint_task_title(complaint))
        .first()
    )
    return render(
        request,
        "compliance/complaint_detail.html",
        {
            "complaint": complaint,
            "task": task,
            "form": form,
            "can_record": can_record,
            "root_causes": ROOT_CAUSES,
            "now": timezone.now(),
        },
    )


# ---------- audit ----------


@office_view(roles=COMPLIANCE_READERS)
def audit_view(request):
    zone = office_zone(request)
    form = AuditForm(request.GET if "since" in request.GET else AuditForm.default(zone))
    result = rows = None
    if form.is_valid():
        since = datetime.combine(form.cleaned_data["since"], time(0), tzinfo=zone)
        until = datetime.combine(
            form.cleaned_data["until"] + timedelta(days=1), time(0), tzinfo=zone
        )
        result = audit(since=since, until=until)
        rows = selectors.audit_figures(result)
    return render(
        request,
        "compliance/audit.html",
        {
            "form": form,
            "result": result,
            "figures": rows,
            "kpi_rate": result.violation_rate * 100 if result else None,
        },
    )
