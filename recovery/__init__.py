"""The project: settings, URLs, the Celery app, and the tenancy core."""

from recovery.celery import app as celery_app

__all__ = ["celery_app"]
