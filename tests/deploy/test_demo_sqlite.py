"""The quick start's own path: the embedded SQLite database, no Redis, the real beat
tick. The suite runs on PostgreSQL, so SQL that only PostgreSQL understands would pass
every other test and still leave the demo sending nothing; this runs the demo's code in
a process of its own to catch that."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# One beat tick per office on a weekday morning in the US (eager tasks, errors raised),
# then what the outbox holds.
TICK = """
import datetime, json
import time_machine
from recovery.celery import app
app.conf.task_always_eager = True
app.conf.task_eager_propagates = True
from campaigns.models import Message
from recovery import tenancy
from recovery.tasks import beat_tick
with time_machine.travel(datetime.datetime(2026, 11, 17, 16, 0, tzinfo=datetime.UTC), tick=True):
    beat_tick()
with tenancy.all_offices("test: count the demo's outbox"):
    counts = {}
    for status in Message.objects.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
print("OUTBOX", json.dumps(counts))
"""


def test_the_demo_on_sqlite_plans_and_sends_its_campaign(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        DJANGO_SETTINGS_MODULE="recovery.settings",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )

    def run(*args, stdin=None):
        done = subprocess.run(
            [sys.executable, *args], cwd=ROOT, env=env, input=stdin,
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    run("manage.py", "migrate", "--noinput", "-v", "0")
    run("manage.py", "seed_demo", "--accounts", "300", "--quiet")
    out = run("manage.py", "shell", stdin=TICK)
    [line] = [x for x in out.splitlines() if x.startswith("OUTBOX ")]
    import json

    counts = json.loads(line.removeprefix("OUTBOX "))
    # The seeded campaign's first emails went out; nothing was left half-sent.
    assert counts.get("sent", 0) > 0, counts
    assert counts.get("sending", 0) == 0, counts
