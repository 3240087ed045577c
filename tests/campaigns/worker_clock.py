"""Start a real Celery worker whose clock starts at WORKER_CLOCK_START (ISO 8601) and
ticks from there, so the compliance gate's hours and the reconciler's "stuck for 15
minutes" hold whatever the wall clock says when the suite runs. Nothing else changes
(the pool's children, forked, inherit the clock):

  python -m tests.campaigns.worker_clock -A recovery worker …   (the `celery` command's arguments)
"""

import os
import signal
import sys
import threading
import time
from datetime import datetime

import time_machine
from celery.__main__ import main


def orphan_watch(parent):
    """If the test run that started this worker dies without cleaning up, take the
    worker's whole process group down with it."""
    while os.getppid() == parent:
        time.sleep(1)
    os.killpg(0, signal.SIGKILL)


if __name__ == "__main__":
    threading.Thread(target=orphan_watch, args=[os.getppid()], daemon=True).start()
    time_machine.travel(datetime.fromisoformat(os.environ["WORKER_CLOCK_START"]), tick=True).start()
    sys.argv[0] = "celery"
    sys.exit(main())
