"""Where an alert webhook may point: an http(s) URL of bounded length, and, for a client's
webhook, never the operator's own network.

A client's webhook is a URL the gateway will POST to from inside the operator's network,
so a URL naming a loopback, private, link-local or otherwise non-global address would
let whoever sets it reach services that are not on the internet (SSRF: a metadata
endpoint, an admin port). Such a URL is refused unless the operator allows it
(``AI_GATEWAY_ALLOW_PRIVATE_WEBHOOKS``, for a receiver on the same host or LAN). A host
name is resolved once, when the URL is saved; every address it resolves to must be
global. A name that does not resolve now is refused too: it cannot be checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from typing import Final
from urllib.parse import urlsplit

from ai_gateway.errors import InvalidRequest

__all__ = ["MAX_WEBHOOK_URL", "Resolver", "check_webhook_url", "system_resolver"]

#: The column's size (``clients.alert_webhook_url``).
MAX_WEBHOOK_URL: Final = 2048
_RESOLVE_SECONDS: Final = 3.0
#: Names that always mean this machine or its network, whatever DNS says.
_LOCAL_SUFFIXES: Final = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")

Resolver = Callable[[str], Awaitable[list[str]]]


async def system_resolver(host: str) -> list[str]:
    """Every address ``host`` resolves to (the system resolver, bounded in time)."""
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(_RESOLVE_SECONDS):
        infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _refuse(message: str, code: str, param: str) -> InvalidRequest:
    return InvalidRequest(message, param=param, code=code)


def _is_global(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def check_webhook_url(
    url: str,
    *,
    allow_private: bool,
    param: str = "alert_webhook_url",
    resolve: Resolver = system_resolver,
) -> str:
    """``url`` when it may be used as an alert webhook, else a 400 naming ``param``
    (``invalid_webhook_url`` or ``webhook_not_public``)."""
    url = url.strip()
    if len(url) > MAX_WEBHOOK_URL:
        raise _refuse(f"the URL is longer than {MAX_WEBHOOK_URL}", "invalid_webhook_url", param)
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port that is not a number or out of range
    except ValueError as exc:
        raise _refuse("not a valid URL", "invalid_webhook_url", param) from exc
    host = (parts.hostname or "").rstrip(".").lower()
    if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        raise _refuse(
            "a webhook must be an http:// or https:// URL with a host and no credentials",
            "invalid_webhook_url",
            param,
        )
    del port
    if allow_private:
        return url
    if host == "localhost" or host.endswith(_LOCAL_SUFFIXES):
        raise _not_public(host, param)
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = await resolve(host)
        except (OSError, TimeoutError, UnicodeError) as exc:
            raise _refuse(
                f"the host '{host}' does not resolve", "webhook_host_unresolvable", param
            ) from exc
    if not addresses or not all(_is_global(a) for a in addresses):
        raise _not_public(host, param)
    return url


def _not_public(host: str, param: str) -> InvalidRequest:
    return _refuse(
        f"the webhook host '{host}' is a loopback or private address; the operator must "
        "allow private webhooks (AI_GATEWAY_ALLOW_PRIVATE_WEBHOOKS) for it",
        "webhook_not_public",
        param,
    )
