import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recovery.settings")
application = get_wsgi_application()


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
