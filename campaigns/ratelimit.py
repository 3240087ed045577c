"""Send-rate limits per office and provider, held in the shared cache (Redis in
production) so every worker and every dispatcher draws on one budget — Celery's own
`rate_limit` is per worker and cannot do this.

A fixed window per second (or minute, hour): the first caller in a window creates the
counter, each send increments it, and a send over the limit is refused. The dispatcher
then leaves the message for its next round: a limit never fails a message and never
sleeps a worker. On a cache without atomic increments (the demo's file cache) the count
is approximate, which is all a single-process demo needs.

The limit comes from the office's provider credential (`"rate_limit": "5/s"` in its
JSON) if it names one, else settings.RATE_LIMITS by channel. No limit configured, or an
unreadable one, means no limit. This module must never block or fail a send because the
cache is unreachable: it then lets the send through and logs.
"""

import json
import logging
import re
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600}
KEY_PREFIX = "campaigns:rate"
CREDENTIAL_PROVIDER = {"email": "email", "sms": "twilio"}


def rate_parse(rate):
    """A rate such as "50/s" or "600/min" → (50, 1), (600, 60); None for no usable limit."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*([a-z]+)\s*", str(rate or "").lower())
    if not match or match.group(2) not in PERIODS or int(match.group(1)) < 1:
        return None
    return int(match.group(1)), PERIODS[match.group(2)]


def office_rate(*, office_id, channel):
    """The (count, seconds) limit for the office's sends on a channel, or None. Needs
    the office in context (credentials are tenant rows)."""
    from recovery.models import ProviderCredential

    provider = CREDENTIAL_PROVIDER.get(channel)
    credential = ProviderCredential.objects.filter(office_id=office_id, provider=provider).first()
    if credential is not None:
        try:
            own = json.loads(credential.secrets or "{}").get("rate_limit")
        except (ValueError, AttributeError):
            own = None
        if own and rate_parse(own):
            return rate_parse(own)
    return rate_parse(getattr(settings, "RATE_LIMITS", {}).get(channel))


def take(*, office_id, channel, rate):
    """Take one send from the office's budget for the channel; False when the current
    window's budget is spent (the caller leaves the message for later)."""
    if rate is None:
        return True
    count, period = rate
    window = int(time.time() // period)
    key = f"{KEY_PREFIX}:{channel}:{office_id}:{period}:{window}"
    try:
        # add() is a no-op when the counter exists; the expiry outlives the window.
        cache.add(key, 0, timeout=period + 5)
        try:
            used = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=period + 5)
            used = 1
    except Exception:
        logger.warning("rate-limit cache unavailable; sending without a limit", exc_info=True)
        return True
    return used <= count
