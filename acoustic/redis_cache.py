"""Django's Redis cache, with one redis-py client kept per connection pool instead of one made for every call.

Django builds a new redis.Redis for each cache operation. With redis-py 6 that costs about 150 µs of CPU, three
times the command itself (bench/README.md); the rate limit makes such calls for a visitor's second post and on. A
client holds no state of its own besides its pool, so one serves every call; the pool still makes a fresh set of
connections in a forked process.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _KeptClients(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        if index not in self._clients:
            self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return self._clients[index]


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = _KeptClients
