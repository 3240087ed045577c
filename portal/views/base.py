"""How a portal request finds its office and debtor, once.

A verified session holds `office_id` and `debtor_id` and nothing else of the debtor.
`portal_view` reads them, runs the view inside that office (`tenancy.office_context`:
the scoped managers and row-level security both see it), and hands the view
`request.portal`. Views then fetch accounts through `portal.selectors`, which filter by
both ids, so any other id is a 404.
"""

import time
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.shortcuts import render
from django.utils.translation import get_language

from debtors.models import Debtor
from portal import selectors
from recovery import tenancy
from recovery.models import Office

SESSION_KEY = "portal"
PENDING_KEY = "portal_pending"
# Refresh the session's idle expiry at most this often (a session write per page costs).
_TOUCH_SECONDS = 60


@dataclass
class PortalContext:
    office: Office
    debtor: Debtor | None = None
    settings: object = None

    @property
    def is_third_party(self):
        return self.office.collector_type == Office.CollectorType.THIRD_PARTY


def portal_state(request):
    state = request.session.get(SESSION_KEY)
    if not isinstance(state, dict) or "office_id" not in state or "debtor_id" not in state:
        return None
    return state


def session_start(request, *, office_id, debtor_id):
    """A verified session: a new session key (no fixation), one debtor of one office."""
    request.session.pop(PENDING_KEY, None)
    request.session.cycle_key()
    request.session[SESSION_KEY] = {
        "office_id": office_id,
        "debtor_id": debtor_id,
        "seen": int(time.time()),
    }
    request.session.set_expiry(settings.PORTAL_SESSION_MINUTES * 60)


def session_end(request):
    request.session.pop(SESSION_KEY, None)
    request.session.pop(PENDING_KEY, None)


def portal_view(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        state = portal_state(request)
        if state is None:
            return render(request, "portal/session_ended.html", {"portal": None}, status=403)
        office = Office.objects.filter(pk=state["office_id"], is_active=True).first()
        if office is None:
            session_end(request)
            return render(request, "portal/session_ended.html", {"portal": None}, status=403)
        now = int(time.time())
        if now - int(state.get("seen", 0)) > _TOUCH_SECONDS:
            state["seen"] = now
            request.session[SESSION_KEY] = state
            request.session.set_expiry(settings.PORTAL_SESSION_MINUTES * 60)
        with tenancy.office_context(office.id):
            debtor = Debtor.objects.filter(office_id=office.id, pk=state["debtor_id"]).first()
            if debtor is None:
                session_end(request)
                return render(request, "portal/session_ended.html", {"portal": None}, status=403)
            request.portal = PortalContext(
                office=office, debtor=debtor, settings=selectors.portal_settings(office.id)
            )
            return view(request, *args, **kwargs)

    return wrapper


def page(request, template, context=None, *, status=200):
    """Render a portal page with the office's branding and disclosures in context."""
    context = dict(context or {})
    context.setdefault("portal", getattr(request, "portal", None))
    context.setdefault("language", get_language())
    return render(request, template, context, status=status)
