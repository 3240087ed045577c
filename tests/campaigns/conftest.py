"""Send budgets and cached response profiles live in the shared Redis, where keys from
an earlier run (whose offices had the same ids and whose clocks were frozen at the same
instants) could still be alive: each test gets key prefixes of its own."""

import secrets

import pytest

from campaigns import ratelimit, sendtime


@pytest.fixture(autouse=True)
def own_cache_keys(monkeypatch):
    run = secrets.token_hex(6)
    monkeypatch.setattr(ratelimit, "KEY_PREFIX", f"test:{run}:rate")
    monkeypatch.setattr(sendtime, "CACHE_PREFIX", f"test:{run}:sendtime")
