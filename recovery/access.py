"""Who may see what: the office is resolved once per request, here.

`office_view` turns `/o/<office_slug>/…` into `request.office` and `request.membership`
(404 for anyone who is not an active member — the same answer as for a missing office),
checks the role, and activates the office for the request's transaction. Views below it
fetch objects through the scoped managers, so another office's ids give 404.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404

from recovery import tenancy
from recovery.models import Membership, Role

STAFF_ROLES = (Role.AGENT, Role.SUPERVISOR, Role.MANAGER, Role.COMPLIANCE, Role.ADMIN)
ALL_ROLES = (*STAFF_ROLES, Role.CREDITOR)
MANAGERS = (Role.MANAGER, Role.ADMIN)
SUPERVISORS = (Role.SUPERVISOR, Role.MANAGER, Role.ADMIN)
ADMINS = (Role.ADMIN,)
# The compliance pages: officers, managers and admins use them; supervisors may read.
COMPLIANCE_ROLES = (Role.COMPLIANCE, Role.MANAGER, Role.ADMIN)
COMPLIANCE_READERS = (Role.SUPERVISOR, *COMPLIANCE_ROLES)
# The office's own compliance policy: set by the compliance officer or an admin only.
POLICY_EDITORS = (Role.COMPLIANCE, Role.ADMIN)
# Lifting a hold pauses no one's protection lightly: supervisors and up.
HOLD_LIFTERS = (*SUPERVISORS, Role.COMPLIANCE)


def membership_for(user, office_slug):
    return (
        Membership.objects.select_related("office", "creditor")
        .filter(user=user, office__slug=office_slug, is_active=True, office__is_active=True)
        .first()
    )


def office_view(roles=STAFF_ROLES):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, office_slug, *args, **kwargs):
            membership = membership_for(request.user, office_slug)
            if membership is None:
                raise Http404("No such office")
            tenancy.activate(membership.office_id)
            request.office = membership.office
            request.membership = membership
            if membership.role not in roles:
                raise PermissionDenied("Your role does not allow this page")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
