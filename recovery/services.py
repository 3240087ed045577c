"""Verbs for offices and their staff: create an office, invite, accept, change a role,
deactivate. One transaction each; views and commands call these, nothing else writes
memberships."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify

from recovery import tenancy
from recovery.models import ApiKey, Invitation, Membership, Office, Role, User, WorkItem


@transaction.atomic
def office_create(*, name, slug=None, **fields):
    office = Office(name=name, slug=slugify(slug or name)[:60], **fields)
    office.full_clean()
    office.save()
    from campaigns.library import starter_templates_create

    starter_templates_create(office=office)  # a new office starts with kind words
    return office


def _require_last_admin_kept(membership, *, new_role=None, deactivating=False):
    if membership.role != Role.ADMIN or (new_role == Role.ADMIN and not deactivating):
        return
    others = (
        Membership.objects.filter(office_id=membership.office_id, role=Role.ADMIN, is_active=True)
        .exclude(pk=membership.pk)
        .exists()
    )
    if not others:
        raise ValidationError("An office needs at least one active admin.")


@transaction.atomic
def invitation_create(*, office, email, role, invited_by, creditor=None):
    """Create an invitation and email its link. Returns (invitation, link)."""
    email = email.strip().lower()
    if role == Role.CREDITOR and creditor is None:
        raise ValidationError({"creditor": "Choose the creditor this user works for."})
    if Membership.objects.filter(office=office, user__email=email, is_active=True).exists():
        raise ValidationError({"email": f"{email} is already a member of {office.name}."})
    token = secrets.token_urlsafe(32)
    with tenancy.office_context(office.id):
        Invitation.objects.filter(email=email, accepted_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        invitation = Invitation.objects.create(
            office=office,
            email=email,
            role=role,
            creditor=creditor,
            token_hash=Invitation.hash_token(token),
            invited_by=invited_by,
            expires_at=timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS),
        )
    link = f"{settings.PUBLIC_BASE_URL}/invite/{token}/"
    body = render_to_string(
        "registration/invitation_email.txt",
        {"office": office, "link": link, "invited_by": invited_by, "invitation": invitation},
    )
    transaction.on_commit(
        lambda: send_mail(
            f"You're invited to {office.name}", body, settings.DEFAULT_FROM_EMAIL, [email]
        )
    )
    return invitation, link


def invitation_for_token(token):
    """Find a usable invitation by its token (cross-office: the token names the office)."""
    with tenancy.all_offices("invitation lookup: the token names its office"):
        invitation = (
            Invitation.objects.select_related("office")
            .filter(token_hash=Invitation.hash_token(token))
            .first()
        )
    if invitation is None or not invitation.is_usable:
        return None
    return invitation


@transaction.atomic
def invitation_accept(*, invitation, full_name, password):
    """Create (or reuse) the user and add the membership. Returns the user."""
    user = User.objects.filter(email=invitation.email).first()
    if user is not None and not user.is_active:
        raise ValidationError("This login has been disabled; ask the platform operator.")
    if user is None:
        user = User.objects.create_user(invitation.email, password, full_name=full_name)
    Membership.objects.update_or_create(
        office_id=invitation.office_id,
        user=user,
        defaults={
            "role": invitation.role,
            "creditor_id": invitation.creditor_id,
            "is_active": True,
            "deactivated_at": None,
        },
    )
    with tenancy.office_context(invitation.office_id):
        Invitation.objects.filter(pk=invitation.pk).update(accepted_at=timezone.now())
    return user


@transaction.atomic
def membership_set_role(*, membership, role, creditor=None):
    if role not in Role.values:
        raise ValidationError({"role": "Unknown role."})
    if role == Role.CREDITOR and creditor is None:
        raise ValidationError({"creditor": "Choose the creditor this user works for."})
    _require_last_admin_kept(membership, new_role=role)
    membership.role = role
    membership.creditor = creditor if role == Role.CREDITOR else None
    membership.save(update_fields=["role", "creditor"])
    return membership


@transaction.atomic
def membership_set_active(*, membership, active):
    if not active:
        _require_last_admin_kept(membership, deactivating=True)
    membership.is_active = active
    membership.deactivated_at = None if active else timezone.now()
    membership.save(update_fields=["is_active", "deactivated_at"])
    return membership


def work_items_close(items):
    """Close the open items of a queryset (done now). The one writer of that state."""
    return items.filter(status=WorkItem.Status.OPEN).update(
        status=WorkItem.Status.DONE, completed_at=timezone.now()
    )


@transaction.atomic
def work_item_complete(*, item, membership):
    """A member marks an item done: their own, an unassigned one, or — for supervisors
    and up — anyone's."""
    from recovery.access import SUPERVISORS

    if item.assignee_id not in (None, membership.user_id) and membership.role not in SUPERVISORS:
        raise PermissionDenied("This item is assigned to someone else.")
    return work_items_close(WorkItem.objects.filter(pk=item.pk))


def overdue_cache_key(office_id):
    return f"office:{office_id}:overdue_work"


def work_items_escalate_overdue(*, office_id):
    """Count open work items past due, for the header badge; returns the count."""
    count = WorkItem.objects.filter(status=WorkItem.Status.OPEN, due_at__lt=timezone.now()).count()
    cache.set(overdue_cache_key(office_id), count, timeout=3600)
    return count


# ---------- API keys ----------------------------------------------------------------


@transaction.atomic
def api_key_create(*, name, creditor=None):
    """A new API key for the office in context, optionally restricted to one creditor.
    Returns (ApiKey, key): only a hash is stored, so the key is shown this once."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the key a name that says which integration uses it."})
    prefix, key = ApiKey.generate()
    api_key = ApiKey.objects.create(
        name=name[:100], prefix=prefix, key_hash=ApiKey.hash_key(key), creditor=creditor
    )
    return api_key, key


@transaction.atomic
def api_key_revoke(*, api_key):
    """Stop a key from working, at once and for good (its record stays for the audit)."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        ApiKey.objects.filter(pk=api_key.pk).update(revoked_at=api_key.revoked_at)
    return api_key
