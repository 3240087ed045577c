"""The account page's compliance card and its quick actions: record a dispute, incoming
correspondence, an opt-out or consent, a hold; lift a hold."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts import selectors as account_selectors
from accounts.models import Account
from compliance import selectors, services
from compliance.forms import (
    CircumstanceEndForm,
    CircumstanceForm,
    ConsentForm,
    CorrespondenceForm,
    DisputeForm,
    ErasureRequestForm,
    HoldForm,
    LocationInquiryForm,
    WorkContactRequestForm,
)
from compliance.jurisdictions import STATES
from compliance.models import Hold
from compliance.views.base import add_errors, office_today
from debtors.models import Circumstance, Source
from recovery.access import HOLD_LIFTERS, STAFF_ROLES, office_view


def account_card_context(request, account):
    """What the account page's compliance card needs (accounts.views adds it)."""
    data = selectors.account_compliance(account=account)
    role = request.membership.role
    context = {
        "holds": data["holds"],
        "compliance": data,
        "compliance_alerts": len(data["holds"]) + len(data["disputes"]),
        "compliance_today": office_today(request),
        "can_act": role in STAFF_ROLES,
        "can_lift": role in HOLD_LIFTERS,
    }
    if role in STAFF_ROLES:
        today = office_today(request)
        context["compliance_forms"] = {
            "dispute": DisputeForm(auto_id="dispute_%s", initial={"received_on": today}),
            "correspondence": CorrespondenceForm(auto_id="corr_%s", initial={"received_on": today}),
            "consent": ConsentForm(
                auto_id="consent_%s", debtor=account.debtor, initial={"effective_on": today}
            ),
            "hold": HoldForm(auto_id="hold_%s", initial=_hold_initial(request.office, today)),
            "circumstance": CircumstanceForm(
                auto_id="circumstance_%s", initial={"effective_on": today}
            ),
            "work": WorkContactRequestForm(auto_id="work_%s", initial={"made_on": today}),
            "location": LocationInquiryForm(auto_id="location_%s"),
            "erasure": ErasureRequestForm(auto_id="erasure_%s", initial={"received_on": today}),
        }
        context["compliance_gdpr"] = data["gdpr"]
    return context


def _hold_initial(office, today):
    """The hold form opens on a hardship forbearance: its end defaults to the office's
    policy (blank when the policy sets no automatic pause)."""
    days = services.hardship_pause_days(office)
    return {"until": today + timedelta(days=days)} if days else {}


def _account(request, account_id):
    try:
        return account_selectors.account_get(membership=request.membership, account_id=account_id)
    except Account.DoesNotExist:
        raise Http404("No such account") from None


def _account_action(request, account_id, *, action, form_class, perform, form_kwargs=None):
    """One quick action on an account: its form on a page of its own (also where errors
    are shown, with what was typed), and on success back to the account."""
    account = _account(request, account_id)
    kwargs = {"auto_id": f"{action}_%s", **(form_kwargs(account) if form_kwargs else {})}
    if request.method == "POST":
        form = form_class(request.POST, request.FILES, **kwargs)
        if form.is_valid():
            try:
                message = perform(account, form.cleaned_data)
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, message)
                # To the top of the account page, where the message and any hold show.
                return redirect(
                    "account_detail", office_slug=request.office.slug, account_id=account.pk
                )
    else:
        today = office_today(request)
        form = form_class(initial={"received_on": today, "made_on": today}, **kwargs)
    return render(
        request,
        "compliance/account_action.html",
        {"account": account, "form": form, "action": action},
    )


@office_view(roles=STAFF_ROLES)
def account_dispute(request, account_id):
    def perform(account, data):
        dispute = services.dispute_record(
            account=account,
            received_via=data["received_via"],
            received_at=services.day_start(office=request.office, day=data["received_on"]),
            reason=data["reason"],
            partial_amount=data["partial_amount"] if data["extent"] == "part" else None,
            original_creditor_requested=data["original_creditor_requested"],
            recorded_by=request.user,
        )
        when = "within" if dispute.within_validation_period else "after"
        return (
            f"Dispute recorded ({when} the validation period). Collection on this account "
            "is paused until verification is sent."
        )

    return _account_action(
        request, account_id, action="dispute", form_class=DisputeForm, perform=perform
    )


@office_view(roles=STAFF_ROLES)
def account_correspondence(request, account_id):
    def perform(account, data):
        result = services.correspondence_record(
            account=account,
            recorded_by=request.user,
            **{k: v for k, v in data.items() if k != "complaint_source" or v},
        )
        done = {
            "dispute": "a dispute is recorded and collection on this account is paused",
            "cease": "a cease hold stops contact with this debtor",
            "attorney": "the attorney is on file: contact goes through them",
            "bankruptcy": "the bankruptcy is on file: collection stops (automatic stay)",
            "complaint": "the complaint is in the register with a response task",
            "payment_direction": "the direction is kept as a note",
        }[result.classification]
        if result.already_in_force:
            done = "a cease was already in force for this debtor; the letter is on file"
        stored = " The file is stored with the account." if result.document else ""
        return f"Correspondence recorded: {done}.{stored}"

    return _account_action(
        request,
        account_id,
        action="correspondence",
        form_class=CorrespondenceForm,
        perform=perform,
    )


@office_view(roles=STAFF_ROLES)
def account_consent(request, account_id):
    def perform(account, data):
        contact_point, channel = data["target"]
        record = services.consent_record(
            contact_point=contact_point,
            channel=channel,
            kind=data["kind"],
            source=Source.AGENT,
            method=data["method"],
            effective_from=services.day_start(
                office=request.office, day=data["effective_on"], field="effective_on"
            ),
            recorded_by=request.user,
        )
        what = "opted out of" if record.kind == "opt_out" else "consented to"
        return (
            f"Recorded: the debtor {what} {record.get_channel_display().lower()} at this "
            f"{contact_point.get_kind_display().lower()}."
        )

    return _account_action(
        request,
        account_id,
        action="consent",
        form_class=ConsentForm,
        perform=perform,
        form_kwargs=lambda account: {"debtor": account.debtor},
    )


@office_view(roles=STAFF_ROLES)
def account_hold(request, account_id):
    def perform(account, data):
        until = data["until"]
        hold = services.hold_place(
            debtor=account.debtor,
            kind=data["kind"],
            scope=data["scope"],
            account=account if data["scope"] == Hold.Scope.ACCOUNT else None,
            source=Source.AGENT,
            reason=data["reason"],
            effective_to=services.hold_end(office=request.office, until=until) if until else None,
            set_by=request.user,
        )
        span = f" through {services.day_label(until)}" if until else " until someone lifts it"
        return f"{hold.get_kind_display()} hold placed{span}."

    return _account_action(request, account_id, action="hold", form_class=HoldForm, perform=perform)


@office_view(roles=STAFF_ROLES)
def account_circumstance(request, account_id):
    def perform(account, data):
        ends_on = data["ends_on"]
        record = services.circumstance_record(
            debtor=account.debtor,
            kind=data["kind"],
            source=data["source"],
            effective_from=services.day_start(
                office=request.office, day=data["effective_on"], field="effective_on"
            ),
            effective_to=services.hold_end(office=request.office, until=ends_on)
            if ends_on
            else None,
            details=data["details"],
            recorded_by=request.user,
        )
        return f"{services.circumstance_started(record)}. The rules read it from now on."

    return _account_action(
        request,
        account_id,
        action="circumstance",
        form_class=CircumstanceForm,
        perform=perform,
    )


@office_view(roles=STAFF_ROLES)
def account_work_request(request, account_id):
    def perform(account, data):
        record = services.work_contact_request_record(
            debtor=account.debtor,
            method=data["method"],
            made_at=services.day_start(office=request.office, day=data["made_on"], field="made_on"),
            recorded_by=request.user,
        )
        if record.value.get("confirms"):
            return "Written confirmation recorded: no contact at work from now on."
        if record.value["method"] == "oral":
            days = STATES["MA"].days
            return (
                "Recorded: no contact at work. In Massachusetts an oral request lasts "
                f"{days['work_oral_request']} days unless the debtor confirms it in writing "
                f"within {days['work_written_confirmation']}."
            )
        return "Recorded: no contact at work."

    return _account_action(
        request, account_id, action="work", form_class=WorkContactRequestForm, perform=perform
    )


@office_view(roles=STAFF_ROLES)
def account_location_inquiry(request, account_id):
    def perform(account, data):
        outcome = services.location_inquiry_log(
            account=account, relation=data["relation"], phone=data["phone"], actor=request.user
        )
        if not outcome.allowed:
            raise ValidationError(f"Do not call. {outcome.explanation}")
        return (
            "Go ahead: ask only where the debtor can be reached, and do not mention the debt. "
            "This was the one inquiry allowed to this third party."
        )

    return _account_action(
        request, account_id, action="location", form_class=LocationInquiryForm, perform=perform
    )


@office_view(roles=HOLD_LIFTERS)
@require_POST
def circumstance_end(request, circumstance_id):
    record = get_object_or_404(Circumstance, pk=circumstance_id)
    back = _back_to_account(record, request.POST.get("account"))
    form = CircumstanceEndForm(request.POST or {"ended_on": office_today(request)})
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    else:
        try:
            services.circumstance_end(
                circumstance=record,
                ended_at=services.day_start(
                    office=request.office, day=form.cleaned_data["ended_on"], field="ended_on"
                ),
                ended_by=request.user,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"{record.get_kind_display()}: ended.")
    if back is None:
        return redirect("account_list", office_slug=request.office.slug)
    return redirect("account_detail", office_slug=request.office.slug, account_id=back.pk)


def _back_to_account(hold, wanted):
    """The account page to return to: the one the person came from, if it is this
    debtor's; else the hold's own account; else any account of the debtor."""
    accounts = Account.objects.filter(debtor_id=hold.debtor_id)
    if wanted and str(wanted).isdigit():
        found = accounts.filter(pk=wanted).first()
        if found:
            return found
    return getattr(hold, "account", None) or accounts.order_by("id").first()


@office_view(roles=HOLD_LIFTERS)
def hold_lift(request, hold_id):
    hold = get_object_or_404(Hold.objects.select_related("account", "set_by"), pk=hold_id)
    back = _back_to_account(hold, request.POST.get("account") or request.GET.get("account"))
    back_url = (
        reverse("account_detail", args=[request.office.slug, back.pk])
        if back
        else reverse("account_list", args=[request.office.slug])
    )
    if request.method == "POST":
        try:
            services.hold_lift(hold=hold, lifted_by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"{hold.get_kind_display()} hold lifted.")
        return redirect(back_url)
    return render(
        request,
        "compliance/hold_lift.html",
        {"hold": hold, "back": back, "back_url": back_url, "now": timezone.now()},
    )


@office_view(roles=STAFF_ROLES)
def validation_notice_preview(request, account_id):
    """The notice as the debtor would receive it today (PDF), in their language."""
    from django.http import HttpResponse

    from compliance.notices import render_pdf

    account = _account(request, account_id)
    language = request.GET.get("lang") if request.GET.get("lang") in ("en", "es") else None
    pdf, _end = render_pdf(account, office=request.office, language=language)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="validation-notice-{account.office_reference}.pdf"'
    )
    return response


@office_view(roles=STAFF_ROLES)
@require_POST
def validation_notice_send(request, account_id):
    """Send the validation notice by letter (queued for print and mail) or email; the
    compliance gate decides first, as for any contact."""
    from compliance import notices

    account = _account(request, account_id)
    back = redirect("account_detail", office_slug=request.office.slug, account_id=account.pk)
    channel = request.POST.get("channel")
    if channel not in ("letter", "email"):
        messages.error(request, "Choose letter or email for the validation notice.")
        return back
    try:
        notice = notices.validation_notice_send(
            account=account, office=request.office, channel=channel, actor=request.user
        )
    except notices.NoticeRefused as refused:
        messages.error(request, f"Not sent. {refused.outcome.explanation}")
    except ValueError as exc:
        messages.error(request, f"Not sent. {exc}")
    else:
        ends = notice.period_ends_on
        messages.success(
            request,
            f"Validation notice sent by {channel}; the dispute period ends "
            f"{ends:%B} {ends.day}, {ends.year}.",
        )
    return back


@office_view(roles=STAFF_ROLES)
@require_POST
def dispute_verification(request, dispute_id):
    """Record that verification was sent; collection on the account may then resume."""
    from compliance.models import Dispute

    dispute = get_object_or_404(Dispute.objects.select_related("account", "hold"), pk=dispute_id)
    _account(request, dispute.account_id)  # the creditor scope of the member applies
    try:
        services.dispute_verification_record(dispute=dispute, recorded_by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Verification recorded as sent; the dispute hold is lifted.")
    return redirect(
        "account_detail", office_slug=request.office.slug, account_id=dispute.account_id
    )
