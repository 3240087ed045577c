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
from django.db import transaction
from django.shortcuts import render
from django.utils.translation import get_language

from debtors.models import Debtor
from portal import pagecache
from portal.models import PortalSettings
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


def _session_ended(request):
    session_end(request)
    return render(request, "portal/session_ended.html", {"portal": None}, status=403)


def _portal_context(office_id, debtor_id):
    """The debtor with its office (if still active) in one query, and the office's portal
    settings in another; None if the office or the debtor is gone."""
    debtor = (
        Debtor.objects.select_related("office")
        .filter(office_id=office_id, pk=debtor_id, office__is_active=True)
        .first()
    )
    if debtor is None:
        return None
    portal_settings = PortalSettings.objects.filter(office_id=office_id).first()
    return PortalContext(
        office=debtor.office,
        debtor=debtor,
        settings=portal_settings or PortalSettings(office=debtor.office),
    )


def portal_view(view=None, *, keep=None):
    """The view runs in one transaction of its own, inside the debtor's office (not in a
    savepoint of the request's: nothing of a portal page happens outside that office).
    `keep="name"`: a GET may be answered from the page kept by `portal.pagecache`
    (after the session check), and the view is handed `request.page_key` to keep it."""
    if view is None:
        return lambda v: portal_view(v, keep=keep)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        state = portal_state(request)
        if state is None:
            return render(request, "portal/session_ended.html", {"portal": None}, status=403)
        now = int(time.time())
        if now - int(state.get("seen", 0)) > _TOUCH_SECONDS:
            state["seen"] = now
            request.session[SESSION_KEY] = state
            request.session.set_expiry(settings.PORTAL_SESSION_MINUTES * 60)
        request.page_key = pagecache.key_for(request, state, keep) if keep else None
        kept = pagecache.answer(request, request.page_key)
        if kept is not None:
            return kept
        with tenancy.office_context(state["office_id"]):
            portal = _portal_context(state["office_id"], state["debtor_id"])
            if portal is None:
                return _session_ended(request)
            request.portal = portal
            response = view(request, *args, **kwargs)
            if request.method != "GET":
                # Whatever the debtor just did may change what the kept pages show.
                pagecache.forget(state["office_id"], state["debtor_id"])
            return response

    return transaction.non_atomic_requests(wrapper)


def page(request, template, context=None, *, status=200):
    """Render a portal page with the office's branding and disclosures in context (and
    keep it, if the view was declared with `keep` and this answer may be kept)."""
    context = dict(context or {})
    context.setdefault("portal", getattr(request, "portal", None))
    context.setdefault("language", get_language())
    key = getattr(request, "page_key", None)
    if key and status == 200:
        return pagecache.render_and_keep(request, key, template, context)
    return render(request, template, context, status=status)
