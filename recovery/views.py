"""Staff pages of the platform core: landing, office switch, team management, my work,
invitations, health. Thin: parse, call a service, render."""

import logging

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.password_validation import (
    password_validators_help_text_html,
    validate_password,
)
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts import selectors as account_selectors
from accounts.models import Creditor
from recovery import services
from recovery.access import ADMINS, ALL_ROLES, STAFF_ROLES, office_view
from recovery.models import Invitation, Membership, Role, User, WorkItem
from recovery.tasks import BEAT_HEARTBEAT_KEY

logger = logging.getLogger(__name__)


@login_required
def home(request):
    """Land in the user's office (the only one, or the last one they chose)."""
    memberships = list(
        Membership.objects.select_related("office")
        .filter(user=request.user, is_active=True, office__is_active=True)
        .order_by("office__name")
    )
    if not memberships:
        return render(request, "recovery/no_office.html", status=403)
    preferred = request.session.get("office_slug")
    for m in memberships:
        if m.office.slug == preferred:
            return redirect("office_home", office_slug=m.office.slug)
    return redirect("office_home", office_slug=memberships[0].office.slug)


@office_view(roles=ALL_ROLES)
def office_home(request):
    request.session["office_slug"] = request.office.slug
    totals = account_selectors.office_totals(
        membership=request.membership, currency=request.office.default_currency
    )
    my_open = WorkItem.objects.filter(assignee=request.user, status=WorkItem.Status.OPEN).count()
    return render(
        request,
        "recovery/office_home.html",
        {"totals": totals, "recovery_rate": totals["recovery_rate"], "my_open": my_open},
    )


@office_view(roles=STAFF_ROLES)
def my_work(request):
    show = request.GET.get("show", "mine")
    items = WorkItem.objects.select_related("account", "assignee").filter(
        status=WorkItem.Status.OPEN
    )
    if show == "mine":
        items = items.filter(assignee=request.user)
    elif show == "unassigned":
        items = items.filter(assignee__isnull=True)
    overdue = cache.get(services.overdue_cache_key(request.office.id))
    return render(
        request,
        "recovery/my_work.html",
        {"items": items[:200], "show": show, "overdue": overdue, "now": timezone.now()},
    )


@office_view(roles=STAFF_ROLES)
@require_POST
def work_item_done(request, item_id):
    item = get_object_or_404(WorkItem, pk=item_id, status=WorkItem.Status.OPEN)
    services.work_item_complete(item=item, membership=request.membership)
    messages.success(request, f"Marked “{item.title}” as done.")
    return redirect("my_work", office_slug=request.office.slug)


class InviteForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices)
    creditor = forms.ModelChoiceField(
        queryset=Creditor._base_manager.none(),
        required=False,
        help_text="Only for creditor users: they see only this creditor's accounts.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["creditor"].queryset = Creditor.objects.all()


class RoleForm(InviteForm):
    email = None


@office_view(roles=ADMINS)
def staff_list(request):
    members = (
        Membership.objects.select_related("user", "creditor")
        .filter(office=request.office)
        .order_by("-is_active", "user__full_name", "user__email")
    )
    invitations = Invitation.objects.filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-created_at")
    return render(
        request,
        "recovery/staff_list.html",
        {"members": members, "invitations": invitations, "form": InviteForm()},
    )


@office_view(roles=ADMINS)
def staff_invite(request):
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation, _link = services.invitation_create(
                office=request.office,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                creditor=form.cleaned_data["creditor"],
                invited_by=request.user,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("staff_list", office_slug=request.office.slug)
    return render(request, "recovery/staff_invite.html", {"form": form})


@office_view(roles=ADMINS)
def staff_edit(request, membership_id):
    membership = get_object_or_404(
        Membership.objects.select_related("user"), pk=membership_id, office=request.office
    )
    action = request.POST.get("action", "role") if request.method == "POST" else None
    if action in ("deactivate", "reactivate"):
        # Access changes never touch the role form, so a refusal cannot leave it half-bound.
        try:
            services.membership_set_active(membership=membership, active=action == "reactivate")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(
                "staff_edit", office_slug=request.office.slug, membership_id=membership.pk
            )
        verb = "is active again" if action == "reactivate" else "can no longer sign in here"
        messages.success(request, f"{membership.user} {verb}.")
        return redirect("staff_list", office_slug=request.office.slug)
    form = RoleForm(
        request.POST if action == "role" else None,
        initial={"role": membership.role, "creditor": membership.creditor_id},
    )
    if action == "role" and form.is_valid():
        try:
            services.membership_set_role(
                membership=membership,
                role=form.cleaned_data["role"],
                creditor=form.cleaned_data["creditor"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"{membership.user} is now {membership.get_role_display()}.")
            return redirect("staff_list", office_slug=request.office.slug)
    return render(request, "recovery/staff_edit.html", {"form": form, "member": membership})


def _add_errors(form, exc):
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class AcceptForm(forms.Form):
    """For a new person: their name and a password."""

    full_name = forms.CharField(
        max_length=150, label="Your name", widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    password1 = forms.CharField(
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        label="Choose a password",
        help_text=password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        label="Repeat the password",
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") != data.get("password2"):
            raise ValidationError("The two passwords differ: type the same one twice.")
        if data.get("password1"):
            validate_password(data["password1"])
        return data


class ExistingUserAcceptForm(forms.Form):
    """For someone who already has a login (another office): prove it is them."""

    password = forms.CharField(
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        label="Your current password",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError(
                "That is not the password of this login. Use the one you sign in with, "
                "or reset it from the sign-in page."
            )
        return password


def invitation_accept(request, token):
    invitation = services.invitation_for_token(token)
    if invitation is None:
        return render(request, "registration/invitation_invalid.html", status=404)
    existing = User.objects.filter(email=invitation.email, is_active=True).first()
    if existing:
        form = ExistingUserAcceptForm(request.POST or None, user=existing)
    else:
        form = AcceptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                invitation=invitation,
                full_name=form.cleaned_data.get("full_name", ""),
                password=form.cleaned_data.get("password1"),
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome to {invitation.office.name}.")
            return redirect("office_home", office_slug=invitation.office.slug)
    return render(
        request,
        "registration/invitation_accept.html",
        {"form": form, "invitation": invitation, "existing_user": existing},
    )


@require_GET
def healthz(request):
    """Database and broker reachability, and when beat last ticked. JSON for monitors."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - report any failure, never raise
        logger.warning("healthz database check failed", extra={"error": str(exc)})
        checks["database"] = "error"
    try:
        from recovery.celery import app

        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as exc:  # noqa: BLE001
        logger.warning("healthz broker check failed", extra={"error": str(exc)})
        checks["broker"] = "error"
    checks["beat_last_tick"] = cache.get(BEAT_HEARTBEAT_KEY)
    ok = checks["database"] == "ok" and checks["broker"] == "ok"
    return JsonResponse({"status": "ok" if ok else "error", **checks}, status=200 if ok else 503)
