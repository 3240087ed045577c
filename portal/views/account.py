"""The verified debtor's pages: accounts, documents, dispute, validation information,
hardship, contact preferences, messages and financial-health help."""

import mimetypes
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from compliance import notices
from compliance.models import ValidationNotice
from debtors.models import Debtor
from portal import forms, selectors, services
from portal.views import pay
from portal.views.base import PortalContext, page, portal_state, portal_view
from recovery import tenancy
from recovery.models import Office


def _ids(request):
    return {"office_id": request.portal.office.id, "debtor_id": request.portal.debtor.pk}


def _account(request, account_id):
    return selectors.account_for_debtor(**_ids(request), account_id=account_id)


def _latest_notice(account):
    return (
        ValidationNotice.objects.filter(office_id=account.office_id, account_id=account.pk)
        .order_by("-sent_at")
        .first()
    )


@portal_view(keep="overview")
def overview(request):
    accounts = list(selectors.overview_accounts(**_ids(request)))
    unread = accounts[0].unread if accounts else selectors.unread_replies(**_ids(request)).count()
    return page(
        request,
        "portal/overview.html",
        {
            "accounts": accounts,
            "unread": unread,
            "payments_ready": pay.payments_ready(),
            "payable": sum(1 for a in accounts if a.is_open and a.balance > 0),
            "paid": request.GET.get("paid") == "1",
        },
    )


@portal_view
def account_detail(request, account_id):
    account = _account(request, account_id)
    notice = _latest_notice(account)
    figures = notices.figures(account)
    return page(
        request,
        "portal/account.html",
        {
            "account": account,
            "fig": figures,
            "notice": notice,
            "documents": list(selectors.documents_for_account(account)),
            "disputes": list(selectors.open_disputes(account)),
            "payments_ready": pay.payments_ready(),
            "today": timezone.localdate(),
        },
    )


@portal_view
def document_open(request, account_id, document_id):
    account = _account(request, account_id)
    document = selectors.document_for_account(account, document_id)
    services.document_opened(account=account, document=document)
    response = FileResponse(
        document.file.open("rb"), content_type=document.content_type or "application/pdf"
    )
    extension = mimetypes.guess_extension(document.content_type or "") or ".pdf"
    response["Content-Disposition"] = f'inline; filename="document-{document.pk}{extension}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@portal_view
def notice_pdf(request, account_id):
    """The validation notice, rendered in the reader's language for the date it was
    sent (so the dispute deadline printed is the one that applies)."""
    account = _account(request, account_id)
    notice = _latest_notice(account)
    sent_on = timezone.localdate(notice.sent_at) if notice else None
    language = "es" if get_language() == "es" else "en"
    pdf, _end = notices.render_pdf(
        account, office=request.portal.office, sent_on=sent_on, language=language
    )
    services.notice_opened(account=account)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="validation-notice-{account.office_reference}.pdf"'
    )
    return response


@portal_view
@require_http_methods(["GET", "POST"])
def dispute(request, account_id):
    account = _account(request, account_id)
    form = forms.DisputeForm(request.POST or None, request.FILES or None, balance=account.balance)
    upload_error = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with override("en"):  # the office's record is in English
            reason_label = str(dict(forms.DISPUTE_REASONS)[data["reason"]])
        try:
            services.dispute_file(
                account=account,
                reason=reason_label,
                details=data["details"],
                amount=data["amount_value"],
                uploads=data["documents"],
            )
        except ValidationError as exc:
            upload_error = _upload_error(exc)
        else:
            return redirect(reverse("portal:dispute_sent", args=[account.pk]))
    return page(
        request,
        "portal/dispute.html",
        {"account": account, "form": form, "upload_error": upload_error},
        status=400 if request.method == "POST" else 200,
    )


def _upload_error(exc):
    code = exc.message_dict.get("documents", [""])[0]
    if code == "too_large":
        return _("A file is larger than 10 MB. Attach a smaller file, or send it by mail.")
    return _("Attach PDF files or photos (JPEG, PNG) only.")


@portal_view
def dispute_sent(request, account_id):
    account = _account(request, account_id)
    latest = selectors.open_disputes(account).first()
    if latest is None:
        return redirect(reverse("portal:account", args=[account.pk]))
    respond_by = timezone.localdate(
        latest.received_at + timedelta(days=services.DISPUTE_RESPONSE_DAYS)
    )
    return page(
        request,
        "portal/dispute_sent.html",
        {"account": account, "dispute": latest, "respond_by": respond_by},
    )


@portal_view
@require_http_methods(["GET", "POST"])
def validation_request(request, account_id):
    account = _account(request, account_id)
    if request.method == "POST":
        services.validation_information_request(account=account)
        return redirect(reverse("portal:dispute_sent", args=[account.pk]))
    return page(request, "portal/validation_request.html", {"account": account})


@portal_view
@require_http_methods(["GET", "POST"])
def hardship(request, account_id):
    account = _account(request, account_id)
    form = forms.HardshipForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _item, respond_by = services.hardship_request(
            account=account, reasons=form.cleaned_data["reasons"], note=form.cleaned_data["note"]
        )
        return page(
            request,
            "portal/hardship_sent.html",
            {"account": account, "respond_by": timezone.localdate(respond_by)},
        )
    offer = getattr(request.portal.settings, f"hardship_offer_{_lang()}", "")
    return page(
        request,
        "portal/hardship.html",
        {"account": account, "form": form, "offer": offer},
        status=400 if request.method == "POST" else 200,
    )


def _lang():
    return "es" if get_language() == "es" else "en"


@portal_view
@require_http_methods(["GET", "POST"])
def preferences(request):
    ids = _ids(request)
    debtor = request.portal.debtor
    states = selectors.channel_states(**ids)
    current = list(selectors.preferences_in_force(**ids))
    initial = {
        "preferred_channel": next(
            (p.value.get("channel", "") for p in current if p.kind == "preferred_channel"), ""
        ),
        "quiet_times": [
            p.value.get("key")
            for p in current
            if p.kind == "inconvenient_time" and "key" in p.value
        ],
        "opt_outs": [ch for ch, st in states.items() if st.opted_out],
        "language": debtor.language if debtor.language in ("en", "es") else "en",
    }
    form = forms.PreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.preferences_update(
            debtor=debtor,
            preferred_channel=data["preferred_channel"],
            quiet_times=data["quiet_times"],
            opt_outs=data["opt_outs"],
            language=data["language"],
        )
        return redirect(reverse("portal:preferences") + "?saved=1")
    reachable = {ch: bool(st.contact_points) for ch, st in states.items()}
    return page(
        request,
        "portal/preferences.html",
        {"form": form, "saved": request.GET.get("saved") == "1", "reachable": reachable},
        status=400 if request.method == "POST" else 200,
    )


@portal_view
@require_http_methods(["GET", "POST"])
def messages(request):
    ids = _ids(request)
    accounts = list(selectors.accounts_for_debtor(**ids))
    form = forms.MessageForm(request.POST or None, accounts=accounts)
    if request.method == "POST" and form.is_valid():
        account = _account(request, form.cleaned_data["account"])
        services.message_send(account=account, body=form.cleaned_data["body"])
        return redirect(reverse("portal:messages") + "?sent=1")
    conversation = list(selectors.messages_for_debtor(**ids))
    services.replies_mark_read(**ids)
    return page(
        request,
        "portal/messages.html",
        {
            "form": form,
            "conversation": conversation,
            "sent": request.GET.get("sent") == "1",
            "respond_days": services.MESSAGE_RESPONSE_DAYS,
            "single_account": len(accounts) == 1,
        },
        status=400 if request.method == "POST" else 200,
    )


def financial_health(request):
    """General help, for anyone: with a verified session it carries the office's name."""
    state = portal_state(request)
    office = Office.objects.filter(pk=state["office_id"]).first() if state else None
    if office is None:
        return page(request, "portal/financial_health.html", {"portal": None})
    with tenancy.office_context(office.id):
        debtor = Debtor.objects.filter(office_id=office.id, pk=state["debtor_id"]).first()
        request.portal = PortalContext(office=office, debtor=debtor)
        return page(request, "portal/financial_health.html")
