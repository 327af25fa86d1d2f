"""The visitor's IP address, believing X-Forwarded-For only from configured trusted proxies."""

import ipaddress
from functools import cache, lru_cache

from django.conf import settings
from django.http import HttpRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_ip(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    if not _is_trusted(_parsed(remote)):
        return remote
    forwarded = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    # Walk from the nearest hop outwards: the first address not ours is the client.
    for hop in reversed(forwarded):
        address = _parsed(hop)
        if address is None:
            break
        if not _is_trusted(address):
            return hop
    return remote


# The proxy's own address comes with every request: kept parsed (the least recently seen visitors' make way).
@lru_cache(maxsize=256)
def _parsed(address: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        return None


def _is_trusted(address: IPAddress | None) -> bool:
    return address is not None and any(address in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


@cache
def _networks(proxies: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    # Parsed once per process and value of the setting: parsing them again for each hop took most of a look-up's time.
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)
