"""Managers' pages for trust accounting: remittance statements (prepare, review, issue,
download), commission tiers, reconciliation (bank statement upload and its queue,
Stripe payouts), and recording a payment the creditor received directly. Thin: they
parse, call a service, render."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Creditor
from compliance.views.base import add_errors, office_today
from payments.remittance import charts, exports, forms, selectors
from payments.remittance.models import (
    BankLine,
    CommissionTier,
    PayoutLine,
    RemittanceStatement,
    StripePayout,
)
from payments.services import direct, reconcile, remittance
from recovery.access import MANAGERS, office_view


def _statement(statement_id):
    try:
        return selectors.statement_get(statement_id)
    except RemittanceStatement.DoesNotExist:
        raise Http404("No such statement") from None


def _to_statement(request, statement):
    return redirect("remittance_detail", office_slug=request.office.slug, statement_id=statement.pk)


@office_view(roles=MANAGERS)
def remittance_list(request):
    form = forms.PrepareForm(request.POST or None, initial={"kind": "net"})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        creditor = data["creditor"]
        if data["period"] == "custom":
            start, end = data["period_start"], data["period_end"]
        else:
            start, end = remittance.remittance_period(
                creditor.remittance_frequency, office_today(request)
            )
        try:
            statement = remittance.remittance_prepare(
                creditor=creditor,
                period_start=start,
                period_end=end,
                kind=data["kind"],
                actor=request.user,
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(
                request,
                f"Draft prepared with {statement.line_count} line(s). Check it, then issue it.",
            )
            return _to_statement(request, statement)
    creditor_id = request.GET.get("creditor") or None
    if creditor_id and not str(creditor_id).isdigit():
        creditor_id = None
    page = Paginator(selectors.statement_list(creditor_id=creditor_id), 25).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "payments/remittance_list.html",
        {
            "form": form,
            "page": page,
            "creditors": Creditor.objects.order_by("name"),
            "creditor_id": int(creditor_id) if creditor_id else None,
            "chart": charts.month_bars(selectors.monthly_chart(creditor_id=creditor_id)),
        },
    )


@office_view(roles=MANAGERS)
def remittance_detail(request, statement_id):
    statement = _statement(statement_id)
    return render(
        request,
        "payments/remittance_detail.html",
        {
            "statement": statement,
            "lines": selectors.statement_lines(statement),
            "summary": selectors.summary(statement),
        },
    )


@office_view(roles=MANAGERS)
@require_POST
def remittance_issue(request, statement_id):
    statement = _statement(statement_id)
    try:
        statement = remittance.remittance_issue(statement=statement, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, f"Statement {statement.reference} issued. It can no longer change."
        )
    return _to_statement(request, statement)


@office_view(roles=MANAGERS)
@require_POST
def remittance_discard(request, statement_id):
    statement = _statement(statement_id)
    try:
        remittance.remittance_discard(statement=statement)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _to_statement(request, statement)
    messages.success(request, "Draft discarded.")
    return redirect("remittance_list", office_slug=request.office.slug)


@office_view(roles=MANAGERS)
def remittance_csv(request, statement_id):
    statement = _statement(statement_id)
    response = HttpResponse(exports.statement_csv(statement), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="remittance-{statement.pk}.csv"'
    return response


@office_view(roles=MANAGERS)
def remittance_pdf(request, statement_id):
    statement = _statement(statement_id)
    name = f"remittance-{statement.pk}.pdf"
    if statement.document is not None:
        return FileResponse(
            statement.document.file.open("rb"),
            as_attachment=True,
            filename=name,
            content_type="application/pdf",
        )
    pdf = exports.statement_pdf(statement, office=request.office)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="draft-{name}"'
    return response


@office_view(roles=MANAGERS)
def commission(request):
    form = forms.TierForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                form.save()
        except IntegrityError:
            form.add_error(None, "That creditor already has a tier with these conditions.")
        else:
            messages.success(request, "Commission tier added.")
            return redirect("remittance_commission", office_slug=request.office.slug)
    creditors = Creditor.objects.order_by("name").prefetch_related("commission_tiers")
    return render(request, "payments/commission.html", {"form": form, "creditors": creditors})


@office_view(roles=MANAGERS)
@require_POST
def commission_tier_delete(request, tier_id):
    tier = CommissionTier.objects.filter(pk=tier_id).first()
    if tier is None:
        raise Http404("No such tier")
    tier.delete()
    messages.success(request, "Tier removed; statements already prepared keep their rates.")
    return redirect("remittance_commission", office_slug=request.office.slug)


@office_view(roles=MANAGERS)
def reconciliation(request):
    upload = forms.BankUploadForm(
        request.POST if request.POST.get("form") == "bank" else None,
        request.FILES if request.POST.get("form") == "bank" else None,
    )
    payout_form = forms.PayoutImportForm(
        request.POST if request.POST.get("form") == "payout" else None
    )
    bank_errors = []
    if request.method == "POST" and upload.is_bound and upload.is_valid():
        uploaded = upload.cleaned_data["file"]
        try:
            done = reconcile.bank_statement_import(
                data=uploaded.read(), filename=uploaded.name, actor=request.user
            )
        except reconcile.BankFileError as exc:
            bank_errors = exc.rows
        else:
            messages.success(
                request,
                f"{done.line_count} line(s) imported; {done.matched_count} matched to deposits.",
            )
            return redirect("reconciliation", office_slug=request.office.slug)
    if request.method == "POST" and payout_form.is_bound and payout_form.is_valid():
        try:
            payout = reconcile.stripe_payout_import(
                payout_id=payout_form.cleaned_data["payout_id"], actor=request.user
            )
        except ValidationError as exc:
            add_errors(payout_form, exc)
        else:
            messages.success(
                request, f"Payout {payout.payout_id} imported; {payout.unmatched_count} unmatched."
            )
            return redirect("payout_detail", office_slug=request.office.slug, payout_id=payout.pk)
    return render(
        request,
        "payments/reconciliation.html",
        {
            "upload": upload,
            "payout_form": payout_form,
            "bank_errors": bank_errors,
            "queue": list(selectors.bank_queue()[:200]),
            "resolved": list(selectors.bank_recent_resolved()),
            "counts": selectors.bank_counts(),
            "payouts": list(selectors.payout_list()),
        },
    )


@office_view(roles=MANAGERS)
@require_POST
def bank_line_resolve(request, line_id):
    line = BankLine.objects.filter(pk=line_id).first()
    if line is None:
        raise Http404("No such bank line")
    form = forms.ResolveForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            reconcile.bank_line_resolve(
                line=line,
                action=data["action"],
                payment_id=data["payment_id"],
                payout_id=data["payout_id"].strip(),
                note=data["note"],
                actor=request.user,
            )
        except ValidationError as exc:
            messages.error(request, f"Line {line.line_number}: " + " ".join(exc.messages))
        else:
            messages.success(request, f"Line {line.line_number} resolved.")
    else:
        messages.error(request, "Choose to match the line or to mark it as not ours.")
    return redirect(reverse("reconciliation", args=[request.office.slug]) + "#queue")


@office_view(roles=MANAGERS)
def payout_detail(request, payout_id):
    payout = StripePayout.objects.filter(pk=payout_id).first()
    if payout is None:
        raise Http404("No such payout")
    lines = PayoutLine.objects.filter(payout=payout).select_related("payment__account")
    return render(request, "payments/payout_detail.html", {"payout": payout, "lines": lines})


@office_view(roles=MANAGERS)
def direct_payment_report(request, account_id):
    from payments.views import _account, _action

    account = _account(request, account_id)
    form = forms.DirectPaymentForm(
        request.POST or None, initial={"received_on": office_today(request)}
    )

    def perform(data):
        payment = direct.payment_direct_report(
            account=account,
            amount=data["amount"],
            received_on=data["received_on"],
            reference=data["reference"],
            actor=request.user,
        )
        return (
            f"Direct payment of {payment.amount} recorded; our fee on it goes on the "
            "creditor's next remittance statement as an invoice."
        )

    return _action(
        request,
        account,
        title="Record a payment made to the creditor directly",
        form=form,
        perform=perform,
        submit="Record the direct payment",
        lead="The creditor reports the debtor paid them. The balance goes down and our "
        "commission is invoiced to the creditor.",
    )
