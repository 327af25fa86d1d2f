from django.conf import settings

from acoustic.redis_cache import RedisCache


def new_cache() -> RedisCache:
    return RedisCache(settings.CACHES["default"]["LOCATION"], {"KEY_PREFIX": "test-redis-cache"})


def test_it_makes_one_client_for_every_call():
    cache = new_cache()

    assert cache._cache.get_client(write=True) is cache._cache.get_client(write=False)


def test_it_counts_through_the_kept_client():
    cache = new_cache()

    cache.add("visits", 1, 60)
    cache.incr("visits")

    assert cache.get("visits") == 2
