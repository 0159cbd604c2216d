"""The client's address behind a trusted reverse proxy, and only then."""

import pytest

from hubmirror.server.addresses import client_address, parse_networks

PROXIES = parse_networks(["10.0.0.0/8", "::1"])


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("10.0.0.5", "203.0.113.7", "203.0.113.7"),  # the proxy names the client
        ("10.0.0.5", "198.51.100.1, 203.0.113.7, 10.0.0.9", "203.0.113.7"),  # nearest untrusted
        ("203.0.113.7", "1.2.3.4", "203.0.113.7"),  # not from a proxy: the header is ignored
        ("10.0.0.5", None, "10.0.0.5"),
        ("10.0.0.5", "not-an-ip, 203.0.113.7", "203.0.113.7"),
        ("10.0.0.5", "203.0.113.7, garbage", "10.0.0.5"),  # a garbled nearest hop: keep remote
        ("::1", "2001:db8::2", "2001:db8::2"),
        ("10.0.0.5", "10.0.0.6", "10.0.0.5"),  # only proxies: the remote stays
    ],
)
def test_forwarded_for_is_read_only_from_trusted_proxies(remote, forwarded, expected):
    assert client_address(remote, forwarded, PROXIES) == expected


def test_without_trusted_proxies_the_remote_address_is_the_client():
    assert client_address("10.0.0.5", "203.0.113.7", ()) == "10.0.0.5"


def test_bad_network_is_named():
    with pytest.raises(ValueError, match="'nginx'"):
        parse_networks(["nginx"])
