"""Where a request comes from: ``request.client_ip``.

The peer of a request (``REMOTE_ADDR``) is the client itself, unless it is one of
the reverse proxies the ``propolis.trusted_proxy`` setting names; then the client
is the last address of ``X-Forwarded-For`` that no trusted proxy added (each proxy
appends the address it got the request from, so what comes before that entry is
the client's own say and could be anything). Without the setting the header is
never read: a client that sends it must not pick its own address — the per-IP
login throttle and the rate limits count by it, the audit log records it."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from pyramid.config import Configurator
from pyramid.request import Request

from propolis.settings import SettingsError, as_list

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(value: object) -> tuple[Network, ...]:
    """The networks of ``propolis.trusted_proxy`` (addresses or CIDR networks,
    separated by spaces or commas); a bad entry stops the start."""
    found = []
    for entry in as_list(value):
        try:
            found.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise SettingsError(
                f"propolis.trusted_proxy: {entry!r} is not an IP address or "
                "network") from exc
    return tuple(found)


def _address(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address((value or "").strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def client_address(peer: str | None, forwarded: str | None,
                   trusted: Sequence[Network]) -> str | None:
    """The client's address from the peer's and ``X-Forwarded-For`` (see the
    module docstring); None when there is none worth the name."""
    def is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(address in network for network in trusted)

    address = _address(peer)
    if address is None:
        return None
    if not trusted or not is_trusted(address):
        return str(address)
    for hop in reversed((forwarded or "").split(",")):
        found = _address(hop)
        if found is None:
            # a trusted proxy writes addresses: anything else is no answer
            return str(address)
        address = found
        if not is_trusted(address):
            break
    return str(address)


def _client_ip(request: Request) -> str | None:
    return client_address(request.remote_addr,
                          request.headers.get("X-Forwarded-For"),
                          request.registry.trusted_proxies)


def includeme(config: Configurator) -> None:
    config.registry.trusted_proxies = trusted_networks(
        config.get_settings().get("propolis.trusted_proxy"))
    config.add_request_method(_client_ip, "client_ip", reify=True)
