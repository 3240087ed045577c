"""Django's Redis cache, with one client object per connection pool.

Django's own backend builds a new `redis.Redis` for every cache call; building one
sets up its table of response callbacks, which costs more than a GET's round trip on
the same machine. A `redis.Redis` is safe to share between threads (each command takes
a connection from the pool), so each pool gets one, made on first use.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _OneClientPerPool(RedisCacheClient):
    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(id(pool))
        if client is None:
            client = clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _OneClientPerPool
