"""The way in: a signed link or the office's public page, then the identity check.

Nothing here says anything about a debt until the check has passed: the pages show
the office's name and how to reach it, and a failure reads the same whatever was wrong.
"""

from django.conf import settings
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from debtors.models import Debtor
from portal import selectors, services, tokens, verification
from portal.forms import VerifyForm
from portal.views.base import (
    PENDING_KEY,
    PortalContext,
    page,
    portal_state,
    session_end,
    session_start,
)
from recovery import tenancy
from recovery.models import Office


def _refused(request, reason, *, office=None, status=400):
    return page(
        request,
        "portal/link_refused.html",
        {"reason": reason, "portal": PortalContext(office=office) if office else None},
        status=status,
    )


def link_open(request, token):
    """`/p/<token>/` from an email or text: remember who the link is for, then ask the
    person to prove it is them."""
    try:
        link = tokens.link_read(token)
    except tokens.LinkRefused as refusal:
        office = (
            Office.objects.filter(pk=refusal.office_id, is_active=True).first()
            if refusal.office_id
            else None
        )
        return _refused(request, refusal.reason, office=office)
    office = Office.objects.filter(pk=link.office_id, is_active=True).first()
    if office is None:
        return _refused(request, "unknown", status=404)
    with tenancy.office_context(office.id):
        debtor_ok = Debtor.objects.filter(office_id=office.id, pk=link.debtor_id).exists()
        account_ok = link.account_id is None or (
            selectors.accounts_for_debtor(office_id=office.id, debtor_id=link.debtor_id)
            .filter(pk=link.account_id)
            .exists()
        )
        if debtor_ok and account_ok and link.message_id is not None:
            services.link_clicked(debtor_id=link.debtor_id, message_id=link.message_id)
    if not (debtor_ok and account_ok):
        return _refused(request, "unknown", office=office, status=404)

    state = portal_state(request)
    if state and state["office_id"] == office.id and state["debtor_id"] == link.debtor_id:
        return redirect(_landing(link.account_id))
    session_end(request)
    request.session[PENDING_KEY] = {
        "office_id": office.id,
        "debtor_id": link.debtor_id,
        "account_id": link.account_id,
    }
    return redirect("portal:verify")


def _landing(account_id):
    if account_id:
        return reverse("portal:account", args=[account_id])
    return reverse("portal:overview")


@require_http_methods(["GET", "POST"])
def verify(request):
    """The identity check for a link's debtor."""
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return page(request, "portal/session_ended.html", {"portal": None}, status=403)
    office = get_object_or_404(Office, pk=pending["office_id"], is_active=True)
    with tenancy.office_context(office.id):
        debtor = Debtor.objects.filter(office_id=office.id, pk=pending["debtor_id"]).first()
        if debtor is None:
            session_end(request)
            return _refused(request, "unknown", office=office, status=404)
        return _identity_check(
            request,
            office=office,
            debtor=debtor,
            subject=verification.subject_for_debtor(office.id, debtor.pk),
            with_reference=False,
            landing=_landing(pending.get("account_id")),
            via="link",
        )


@require_http_methods(["GET", "POST"])
def office_home(request, office_slug):
    """`/p/o/<office>/`: the office's public page. The person names an account
    reference and proves who they are in one step, so a wrong reference and a wrong
    answer look the same."""
    office = get_object_or_404(Office, slug=office_slug, is_active=True)
    with tenancy.office_context(office.id):
        state = portal_state(request)
        if state and state["office_id"] == office.id and request.method == "GET":
            return redirect("portal:overview")
        debtor, subject = None, None
        if request.method == "POST":
            reference = request.POST.get("reference", "").strip()[:40]
            account = selectors.account_by_reference(office_id=office.id, reference=reference)
            if account is not None:
                debtor = account.debtor
                subject = verification.subject_for_debtor(office.id, debtor.pk)
            elif reference:
                subject = verification.subject_for_reference(office.id, reference.casefold())
        return _identity_check(
            request,
            office=office,
            debtor=debtor,
            subject=subject,
            with_reference=True,
            landing=reverse("portal:overview"),
            via="account reference",
        )


def _identity_check(request, *, office, debtor, subject, with_reference, landing, via):
    psettings = selectors.portal_settings(office.id)
    context_portal = PortalContext(office=office, settings=psettings)
    ip = verification.client_ip(request)
    limit = settings.PORTAL_FAILURE_LIMIT

    def locked():
        return page(
            request,
            "portal/locked.html",
            {"portal": context_portal, "lockout_minutes": settings.PORTAL_LOCKOUT_MINUTES},
            status=429,
        )

    if verification.is_locked(subject=subject, ip=ip):
        return locked()
    form = VerifyForm(
        request.POST if request.method == "POST" else None,
        method=psettings.verification,
        with_reference=with_reference,
    )
    tries_left = None
    if request.method == "POST" and form.is_valid():
        answers = form.answers()
        if debtor is not None and verification.identity_matches(
            debtor, answers, method=psettings.verification
        ):
            verification.failures_clear(subject=subject, ip=ip)
            services.verification_succeeded(office_id=office.id, debtor_id=debtor.pk, via=via)
            session_start(request, office_id=office.id, debtor_id=debtor.pk)
            return redirect(landing)
        count = verification.failure_record(subject=subject or "", ip=ip)
        if debtor is not None:
            services.verification_failed(
                office_id=office.id, debtor_id=debtor.pk, count=count, limit=limit
            )
        if count >= limit or verification.is_locked(subject=subject, ip=ip):
            return locked()
        tries_left = limit - count
    return page(
        request,
        "portal/verify.html",
        {
            "portal": context_portal,
            "form": form,
            "with_reference": with_reference,
            "tries_left": tries_left,
            "no_match": tries_left is not None,
        },
        status=200 if tries_left is None else 400,
    )


@require_POST
def sign_out(request):
    state = portal_state(request)
    office = Office.objects.filter(pk=state["office_id"]).first() if state else None
    session_end(request)
    request.session.cycle_key()
    return page(
        request,
        "portal/signed_out.html",
        {"portal": PortalContext(office=office) if office else None},
    )
