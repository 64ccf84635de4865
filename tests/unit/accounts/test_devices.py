from propolis.platform.accounts.services import PHONE_RE, ip_range


def test_ip_ranges_are_24_bits_for_ipv4_and_48_for_ipv6() -> None:
    assert ip_range("203.0.113.77") == "203.0.113.0/24"
    assert ip_range("::ffff:203.0.113.77") == "203.0.113.0/24"
    assert ip_range("2001:db8:1234:5678::1") == "2001:db8:1234::/48"
    assert ip_range(None) is None
    assert ip_range("not an address") is None


def test_phone_numbers() -> None:
    for good in ("13800000000", "+86 138 0000 0000", "010-12345678"):
        assert PHONE_RE.match(good), good
    for bad in ("", "abc", "1380000000a", "+", "12"):
        assert not PHONE_RE.match(bad), bad
