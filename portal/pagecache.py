"""The debtor's overview, kept for a few seconds.

The overview is the page a debtor comes back to after every step, and the page a burst
of message clicks lands on. It is rendered once and kept in the shared cache for
`PORTAL_PAGE_CACHE_SECONDS` (0 turns this off), per office, debtor and language. Each
request still checks its own verified session first; only the database work and the
rendering are skipped.

What the debtor changes shows at once: any change saved to the debtor's accounts,
ledger, disputes, messages or the debtor record drops the cached copies when its
transaction commits (the receivers below, on each model's save and delete).
Set-based back-office updates (imports, creditor files) show within the few seconds.

The CSRF token differs per browser: the page is kept with a placeholder, and each
answer carries the browser's own token.
"""

import secrets

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string

CSRF_PLACEHOLDER = "csrf" + secrets.token_hex(16)
_PAGES = ("overview",)


def _seconds():
    return getattr(settings, "PORTAL_PAGE_CACHE_SECONDS", 0)


def _key(office_id, debtor_id, page, language):
    return f"portal:page:{office_id}:{debtor_id}:{page}:{language}"


def _languages():
    return [code for code, _name in settings.LANGUAGES]


def key_for(request, state, page):
    """The cache key of this request's copy of `page`, or None when it must not be kept
    (caching off, a form post, or a query string such as `?paid=1`)."""
    if not _seconds() or request.method != "GET" or request.GET:
        return None
    language = getattr(request, "LANGUAGE_CODE", "") or "en"
    return _key(state["office_id"], state["debtor_id"], page, language)


def answer(request, key):
    """The kept page with this browser's CSRF token, or None."""
    html = cache.get(key) if key else None
    if html is None:
        return None
    return HttpResponse(html.replace(CSRF_PLACEHOLDER, get_token(request)))


def render_and_keep(request, key, template, context):
    """Render `template`; keep it under `key` (if any) for the next few seconds."""
    context = {**context, "csrf_token": CSRF_PLACEHOLDER}
    html = render_to_string(template, context, request)
    if key:
        cache.set(key, html, _seconds())
    return HttpResponse(html.replace(CSRF_PLACEHOLDER, get_token(request)))


def forget(office_id, debtor_id):
    """Drop the debtor's kept pages once the current transaction commits."""
    forget_many(office_id, [debtor_id])


def forget_many(office_id, debtor_ids):
    """`forget` for many debtors of one office: one cache call after the commit."""
    debtor_ids = [d for d in debtor_ids if d is not None]
    if not _seconds() or office_id is None or not debtor_ids:
        return
    keys = [
        _key(office_id, debtor_id, page, language)
        for debtor_id in debtor_ids
        for page in _PAGES
        for language in _languages()
    ]
    transaction.on_commit(lambda: cache.delete_many(keys))


# --- what drops them --------------------------------------------------------------


def _forget_for_instance(sender, instance, **kwargs):
    if sender._meta.label == "debtors.Debtor":
        debtor_id = instance.pk
    elif sender._meta.label == "accounts.Transaction":  # a ledger row moves the balance
        debtor_id = instance.account.debtor_id
    else:
        debtor_id = instance.debtor_id
    forget(instance.office_id, debtor_id)


def connect():
    from django.db.models.signals import post_delete, post_save

    from accounts.models import Account, Transaction
    from compliance.models import Dispute
    from debtors.models import Debtor
    from portal.models import PortalMessage

    for model in (Account, Transaction, Debtor, Dispute, PortalMessage):
        uid = f"portal-page-{model._meta.label}"
        post_save.connect(_forget_for_instance, sender=model, dispatch_uid=uid)
        post_delete.connect(_forget_for_instance, sender=model, dispatch_uid=f"{uid}-delete")
