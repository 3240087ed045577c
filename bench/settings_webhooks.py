"""Settings for the webhooks benchmark's server: the product's own settings, with the
bench urlconf (the product's URLs plus the baseline's `/bench/ok/`). Bench only: the
product's URLs never carry the baseline view."""

from recovery.settings import *  # noqa: F403

ROOT_URLCONF = "bench.webhook_urls"
