import gc
import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recovery.settings")

app = Celery("recovery")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _freeze_inherited_objects(**kwargs):
    """A pool process inherits the parent's Django, Celery and SDK modules: hundreds of
    thousands of objects that live as long as it does. Frozen, the cyclic collector no
    longer walks them on every full collection (a dispatch batch allocates enough to
    run several), and their pages stay shared with the parent instead of being copied
    when the collector touches them."""
    gc.freeze()
