"""The WSGI entry point: provider webhooks take a short road, every other request the
whole middleware stack.

A provider's webhook (a Stripe event, a Twilio status callback, an email event) is
machine to machine: no session, no login, no language, no CSRF token, no static file,
no htmx, no lockout. It only needs its request id in the logs, a clean tenancy slate
and the security headers, so `WebhookHandler` runs it through those two middleware
and nothing else. They arrive in bursts of thousands, and the eight others cost each
of them about as much CPU as verifying and storing the event.
"""

import os

from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application
from django.utils.module_loading import import_string

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recovery.settings")

# The paths of recovery.urls that are provider webhooks (each verifies its signature).
WEBHOOK_PREFIXES = ("/payments/stripe/webhook/", "/webhooks/")
WEBHOOK_URLCONF = "recovery.webhook_urls"  # the same paths, and only those
WEBHOOK_MIDDLEWARE = (
    "recovery.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
)


class WebhookHandler(WSGIHandler):
    """Django's WSGI handler (signals, connections, URL resolving, ATOMIC_REQUESTS as
    the views ask, error responses) with `WEBHOOK_MIDDLEWARE` instead of MIDDLEWARE,
    resolving in `WEBHOOK_URLCONF`."""

    def get_response(self, request):
        request.urlconf = WEBHOOK_URLCONF
        return super().get_response(request)

    def load_middleware(self, is_async=False):
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(WEBHOOK_MIDDLEWARE):
            handler = convert_exception_to_response(import_string(path)(handler))
        self._middleware_chain = handler


def _dispatcher(full, webhooks):
    def application(environ, start_response):
        if environ.get("PATH_INFO", "").startswith(WEBHOOK_PREFIXES):
            return webhooks(environ, start_response)
        return full(environ, start_response)

    return application


application = _dispatcher(get_wsgi_application(), WebhookHandler())


def _load_clients():
    """Load what the first webhook of each web process would otherwise stop to load (the
    Redis client library behind the cache, the broker's transport for the drain's kick).
    Imports only: nothing connects here."""
    from django.conf import settings

    from recovery.celery import app

    if "redis" in settings.CACHES["default"]["BACKEND"].lower():
        import redis  # noqa: F401
    app.connection_for_write().get_transport_cls()


_load_clients()
