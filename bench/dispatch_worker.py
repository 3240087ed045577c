"""What the dispatch benchmark's Celery workers load besides the product (`celery -A
recovery worker -I bench.dispatch_worker`): one task running the product's
`campaigns.dispatch.dispatch_due` for one batch at the bench's fixed instant, and the
CPU accounting.

Each task adds to a Redis hash: its CPU time (`time.process_time` around the whole
dispatch pass), the CPU time spent inside the providers' SDK calls (the same clock
around twilio's `MessageList.create` and anymail's `send_messages`, wrapped here), and
what the pass did. The product code is not changed or faked: the wrappers only time.
"""

import cProfile
import os
import time
from datetime import datetime
from functools import wraps

from celery import shared_task

from recovery.tasks import TenantTask

SDK_CPU = [0.0]


def _timed(function):
    @wraps(function)
    def timed(*args, **kwargs):
        started = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            SDK_CPU[0] += time.process_time() - started

    return timed


def _wrap_sdks():
    from anymail.backends.base import AnymailBaseBackend
    from twilio.rest.api.v2010.account.message import MessageList

    if not getattr(MessageList.create, "bench_timed", False):
        MessageList.create = _timed(MessageList.create)
        MessageList.create.bench_timed = True
        AnymailBaseBackend.send_messages = _timed(AnymailBaseBackend.send_messages)


_wrap_sdks()


def _stats():
    import redis

    return redis.Redis.from_url(os.environ["REDIS_URL"])


@shared_task(base=TenantTask, atomic=False, name="bench.dispatch_round")
def dispatch_round(office_id, at, run, limit):
    """One batch of the office's due messages, as `recovery.tasks.dispatch_office` runs
    it, at the bench's instant `at` (ISO 8601)."""
    from campaigns.dispatch import dispatch_due
    from recovery.models import Office

    cpu, sdk = time.process_time(), SDK_CPU[0]
    profile_dir = os.environ.get("BENCH_PROFILE_DIR")
    profiler = cProfile.Profile(time.process_time) if profile_dir else None
    try:
        office = Office.objects.get(pk=office_id)
        if profiler:
            profiler.enable()
        counts = dispatch_due(office=office, now=datetime.fromisoformat(at), limit=limit)
    except Exception as error:
        # Told to the bench at once, which stops instead of waiting out its timeout.
        _stats().hsetnx(run, "error", f"{type(error).__name__}: {error}")
        raise
    cpu, sdk = time.process_time() - cpu, SDK_CPU[0] - sdk
    if profiler:
        profiler.disable()
        profiler.dump_stats(os.path.join(profile_dir, f"{os.getpid()}-{time.monotonic_ns()}.prof"))
    with _stats().pipeline() as pipe:
        pipe.hincrbyfloat(run, "cpu", cpu)
        pipe.hincrbyfloat(run, "sdk_cpu", sdk)
        for name, n in counts.items():
            pipe.hincrby(run, name, n)
        pipe.hincrby(run, "tasks", 1)
        pipe.execute()
    return counts


@shared_task(name="bench.dispatch_warm")
def warm(run):
    """Import and connect what a dispatch pass needs, before the clock starts."""
    from anymail.backends.postmark import EmailBackend
    from django.db import connection
    from twilio.rest import Client

    Client("AC" + "0" * 32, "x").messages  # noqa: B018 (loads the API modules)
    EmailBackend().open()
    connection.ensure_connection()
    import campaigns.dispatch  # noqa: F401
    from debtors.timezones import states_for_phone

    # The ZIP and area-code tables are read once per process (in a helper process,
    # ~1 s): a long-lived worker has them, so they are read before the clock too.
    states_for_phone("+12125550100")
    # The URL resolver is built on a process's first reverse() (the status callback's
    # address, ~0.3 s): a long-lived worker built it long ago.
    from django.urls import reverse

    reverse("twilio_status")

    _stats().hincrby(run, "warm", 1)
    return os.getpid()
