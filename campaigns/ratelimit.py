"""Send-rate limits per office and provider, and platform-wide per provider, held in the
shared cache (Redis in production) so every worker and every dispatcher draws on one
budget — Celery's own `rate_limit` is per worker and cannot do this.

A fixed window per second (or minute, hour): each send counts in the current window's
counter, and a send over the limit is refused. The dispatcher then leaves the message
for its next round: a limit never fails a message and never sleeps a worker.

Two budgets can apply to one send: the office's own (its provider credential's
`"rate_limit": "5/s"`, else settings.RATE_LIMITS[channel]) and the platform's
(settings.RATE_LIMITS["platform"][channel]), which every office sending through the
platform's shared account draws on — an office with its own Twilio account does not.
Both are checked and taken in one Redis round trip (a Lua script), so a send refused by
one budget takes nothing from the other, and a dispatcher takes a whole batch's worth at
once. On a cache that is not Redis (the demo's file cache) the count is approximate,
which is all a single-process demo needs.

No limit configured, or an unreadable one, means no limit. This module must never block
or fail a send because the cache is unreachable: it then lets the send through and logs.
"""

import json
import logging
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600}
KEY_PREFIX = "campaigns:rate"
CREDENTIAL_PROVIDER = {"email": "email", "sms": "twilio"}

# KEYS: one counter per budget; ARGV: the count wanted, then (limit, ttl) per counter.
# Grants what every budget still allows (possibly 0) and counts it in all of them.
TAKE_SCRIPT = """
local granted = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local left = tonumber(ARGV[2 * i]) - tonumber(redis.call('GET', key) or '0')
  if left < granted then granted = left end
end
if granted <= 0 then return 0 end
for i, key in ipairs(KEYS) do
  redis.call('INCRBY', key, granted)
  redis.call('EXPIRE', key, tonumber(ARGV[2 * i + 1]))
end
return granted
"""


@dataclass(frozen=True)
class Budgets:
    """The limits one office's sends on one channel draw on: (count, seconds) or None."""

    office: tuple | None = None
    platform: tuple | None = None


def rate_parse(rate):
    """A rate such as "50/s" or "600/min" → (50, 1), (600, 60); None for no usable limit."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*([a-z]+)\s*", str(rate or "").lower())
    if not match or match.group(2) not in PERIODS or int(match.group(1)) < 1:
        return None
    return int(match.group(1)), PERIODS[match.group(2)]


def _credential_secrets(office_id, channel):
    from recovery.models import ProviderCredential

    provider = CREDENTIAL_PROVIDER.get(channel)
    credential = ProviderCredential.objects.filter(office_id=office_id, provider=provider).first()
    if credential is None:
        return {}
    try:
        secrets = json.loads(credential.secrets or "{}")
    except ValueError:
        return {}
    return secrets if isinstance(secrets, dict) else {}


def office_budgets(*, office_id, channel):
    """Both budgets for the office's sends on a channel (one credential read). Needs the
    office in context. The platform's budget applies unless the office sends through an
    account of its own: SMS with its own Twilio credentials. Email always goes through
    the platform's ESP connection (campaigns.channels.email)."""
    secrets = _credential_secrets(office_id, channel)
    own = rate_parse(secrets.get("rate_limit"))
    limits = getattr(settings, "RATE_LIMITS", {})
    office = own or rate_parse(limits.get(channel))
    own_account = False
    if channel == "sms":
        from campaigns.channels.sms import config_from_secrets

        own_account = config_from_secrets(json.dumps(secrets)) is not None
    platform = None if own_account else rate_parse((limits.get("platform") or {}).get(channel))
    return Budgets(office=office, platform=platform)


def _counters(office_id, channel, budgets, now):
    counters = []
    for owner, rate in (("office", budgets.office), ("platform", budgets.platform)):
        if rate is None:
            continue
        count, period = rate
        window = int(now // period)
        who = office_id if owner == "office" else "platform"
        # The expiry outlives the window, so a late increment never resurrects it.
        counters.append((f"{KEY_PREFIX}:{channel}:{who}:{period}:{window}", count, period + 5))
    return counters


def take_many(*, office_id, channel, budgets, count):
    """Take up to `count` sends from every budget that applies; returns how many were
    granted (0..count). The caller leaves the rest for its next round."""
    if count <= 0:
        return 0
    counters = _counters(office_id, channel, budgets, time.time())
    if not counters:
        return count
    try:
        client = _redis_client()
        if client is not None:
            keys = [cache.make_and_validate_key(key) for key, _, _ in counters]
            args = [count]
            for _, limit, ttl in counters:
                args += [limit, ttl]
            return int(client.eval(TAKE_SCRIPT, len(keys), *keys, *args))
        return _take_approximately(counters, count)
    except Exception:
        logger.warning("rate-limit cache unavailable; sending without a limit", exc_info=True)
        return count


def take(*, office_id, channel, rate, platform=None):
    """Take one send from the office's budget (and the platform's, if given) for the
    channel; False when a budget's current window is spent."""
    budgets = Budgets(office=rate, platform=platform)
    return take_many(office_id=office_id, channel=channel, budgets=budgets, count=1) == 1


def _redis_client():
    """The raw redis-py client behind Django's Redis cache, or None for other caches."""
    from django.core.cache.backends.redis import RedisCacheClient

    backend = getattr(cache, "_cache", None)  # (through the per-thread cache proxy)
    if not isinstance(backend, RedisCacheClient):
        return None
    return backend.get_client(write=True)


def _take_approximately(counters, count):
    """Without Redis: check, then count (not atomic across processes)."""
    granted = count
    for key, limit, ttl in counters:
        cache.add(key, 0, timeout=ttl)
        granted = min(granted, limit - (cache.get(key) or 0))
    if granted <= 0:
        return 0
    for key, _, ttl in counters:
        try:
            cache.incr(key, granted)
        except ValueError:  # expired in between
            cache.add(key, granted, timeout=ttl)
    return granted
