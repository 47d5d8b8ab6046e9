"""The client's address: the one place the product decides who is on the other end of a request.

The TCP peer (``REMOTE_ADDR``, the ASGI scope's ``client``) cannot be chosen by the client;
``X-Forwarded-For`` can, by anyone. An address from that header is believed only where a proxy we
trust wrote it: walking the chain ``X-Forwarded-For + [peer]`` from the right, each hop that is
one of the last ``TRUSTED_PROXY_HOPS`` or inside ``TRUSTED_PROXIES`` is a proxy, and the client is
the first address to its left that is neither. With the defaults (0 hops, no proxies) the header
is ignored and the client is the peer. Per-IP rate limits, logs and the websocket connection
registry all take their address from here (docs/decisions.md, "Client addresses").
"""

import ipaddress
from functools import lru_cache

from django.conf import settings

UNKNOWN = "unknown"


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(proxy.strip(), strict=False) for proxy in proxies if proxy.strip())


def _parse(value: str):
    """An address from a header entry or the peer (``1.2.3.4``, ``1.2.3.4:80``, ``[::1]:80``), or None."""
    value = value.strip().strip('"')
    if value.startswith("[") and "]" in value:
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def client_address(peer: str | None, forwarded_for: str | None) -> str:
    """The client's address from the TCP peer and the (joined) ``X-Forwarded-For`` values."""
    peer_address = _parse(peer or "")
    if peer_address is None:
        return peer or UNKNOWN
    hops = max(0, int(settings.TRUSTED_PROXY_HOPS))
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    if not hops and not networks:
        return str(peer_address)
    chain = [entry for entry in (forwarded_for or "").split(",") if entry.strip()] + [peer]
    client = peer_address
    index = len(chain) - 1  # ``chain[index]`` is ``client``, an address a trusted party saw.
    while index > 0:
        position_from_right = len(chain) - 1 - index
        trusted = position_from_right < hops or any(client in network for network in networks)
        if not trusted:
            break
        previous = _parse(chain[index - 1])
        if previous is None:  # A proxy we trust would not write this: stop at the last good hop.
            break
        client, index = previous, index - 1
    return str(client)


def _header_values(headers, name: bytes) -> str:
    return ",".join(value.decode("latin-1") for key, value in headers if key.lower() == name)


def request_client_ip(request) -> str:
    """The client's address for a Django request."""
    return client_address(request.META.get("REMOTE_ADDR"), request.META.get("HTTP_X_FORWARDED_FOR"))


def scope_client_ip(scope) -> str:
    """The client's address for an ASGI scope (websockets)."""
    peer = (scope.get("client") or [None])[0]
    return client_address(peer, _header_values(scope.get("headers") or [], b"x-forwarded-for"))
