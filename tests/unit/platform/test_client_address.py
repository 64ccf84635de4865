"""The client's address behind trusted proxies (issue 10.3): X-Forwarded-For is
read only from a proxy the ``propolis.trusted_proxy`` setting names."""

from __future__ import annotations

import pytest

from propolis.platform.web.client import client_address, trusted_networks
from propolis.settings import SettingsError

PROXIES = trusted_networks("127.0.0.1, 10.0.0.0/8 ::1")


@pytest.mark.parametrize(("peer", "forwarded", "trusted", "client"), [
    # no proxy trusted: the header is the client's own say
    ("203.0.113.7", "198.51.100.1", (), "203.0.113.7"),
    # a peer that is no trusted proxy: the same
    ("203.0.113.7", "198.51.100.1", PROXIES, "203.0.113.7"),
    # through the trusted proxy: the address it appended
    ("127.0.0.1", "198.51.100.1", PROXIES, "198.51.100.1"),
    # a forged entry before it is skipped
    ("127.0.0.1", "1.2.3.4, 198.51.100.1", PROXIES, "198.51.100.1"),
    # through two trusted proxies
    ("127.0.0.1", "198.51.100.1, 10.1.2.3", PROXIES, "198.51.100.1"),
    # a proxy that forwarded nothing, or garbage: the proxy itself
    ("127.0.0.1", None, PROXIES, "127.0.0.1"),
    ("127.0.0.1", "unknown", PROXIES, "127.0.0.1"),
    ("::ffff:127.0.0.1", "2001:db8::1", PROXIES, "2001:db8::1"),
    (None, "198.51.100.1", PROXIES, None),
])
def test_the_client_address(peer: str | None, forwarded: str | None,
                            trusted: tuple, client: str | None) -> None:
    assert client_address(peer, forwarded, trusted) == client


def test_a_bad_proxy_setting_stops_the_start() -> None:
    with pytest.raises(SettingsError, match="propolis.trusted_proxy: 'proxy.local'"):
        trusted_networks("127.0.0.1 proxy.local")
