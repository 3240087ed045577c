"""Settings for the server benchmarks (webhooks, portal): the product's own settings,
with the bench urlconf (the product's URLs plus the baseline's `/bench/ok/`). Bench
only: the product's URLs never carry the baseline view."""

import tempfile
from pathlib import Path

from recovery.settings import *  # noqa: F403

ROOT_URLCONF = "bench.server_urls"

# Like production, the pages name their static files through the collectstatic manifest
# (`bench.server.collect_static` builds it here first), kept apart from the checkout's.
STATIC_ROOT = Path(tempfile.gettempdir()) / "recovery-bench-static"
