"""The redirect allow-list as a pure function: which URLs the mirror may be sent to."""

from __future__ import annotations

import pytest

from hubmirror.hub.redirects import (
    HUB_HOSTS,
    is_allowed_redirect,
    normalize_pattern,
    redirect_allow_list,
    redirect_host,
)

DEFAULTS = redirect_allow_list(["https://huggingface.co"])


@pytest.mark.parametrize(
    "url",
    [
        "https://huggingface.co/acme/bert/resolve/main/config.json",
        "https://cdn-lfs.huggingface.co/repos/ab/cd/abcdef?sig=1",
        "https://cdn-lfs.hf.co/repos/ab/cd",
        "https://cdn-lfs-us-1.hf.co/repos/ab/cd?Expires=1&Signature=x",
        "https://cdn-lfs-eu-1.hf.co/repos/ab/cd",
        "https://cas-bridge.xethub.hf.co/xet-bridge-us/abc?X-Amz-Signature=1",
        "https://transfer.xethub.hf.co/xorb/default/abc",
        "https://hf.co/acme/bert",
        "https://HuggingFace.CO./acme/bert",
        "http://huggingface.co:8443/x",
    ],
)
def test_hub_and_cdn_hosts_are_allowed_by_default(url):
    assert is_allowed_redirect(url, DEFAULTS)


@pytest.mark.parametrize(
    "url",
    [
        "http://evil.example/steal",
        "https://huggingface.co.evil.example/x",
        "https://evilhf.co/x",
        "https://evil-huggingface.co/x",
        "http://127.0.0.1:9/internal",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/x",
        "file:///etc/passwd",
        "ftp://huggingface.co/x",
        "https://huggingface.co@evil.example/x",
        "https://user:pw@huggingface.co/x",
        "https://evil.example\\@huggingface.co/x",
        "https://evil.example\\.huggingface.co/x",
        "https://huggingface.co%2F@evil.example/x",
        "https://%68uggingface.co/x",
        "https://huggingface.co:99999/x",
        "https://huggingface.co:abc/x",
        "https://hugging face.co/x",
        "https://huggingface.co\t/x",
        "https://huggingface.co\n.evil.example/x",
        "https://hüggingface.co/x",
        "//huggingface.co/x",
        "/relative/path",
        "",
    ],
)
def test_other_hosts_and_ambiguous_urls_are_refused(url):
    assert not is_allowed_redirect(url, DEFAULTS)


def test_upstream_hosts_are_allowed_on_any_port():
    allowed = redirect_allow_list(["http://127.0.0.1:8000", "https://mirror.corp.example/hf"])
    assert is_allowed_redirect("http://127.0.0.1:9999/cdn/blob", allowed)
    assert is_allowed_redirect("https://mirror.corp.example/blobs/x", allowed)
    assert not is_allowed_redirect("http://127.0.0.2:8000/cdn/blob", allowed)
    assert not is_allowed_redirect("https://cdn.mirror.corp.example/x", allowed)


def test_extra_hosts_take_exact_names_urls_and_subdomain_patterns():
    allowed = redirect_allow_list(
        ["https://huggingface.co"], ["Blobs.Corp.Example", "*.s3.example", "https://cdn.other:8443"]
    )
    assert is_allowed_redirect("https://blobs.corp.example/x", allowed)
    assert is_allowed_redirect("https://bucket.eu.s3.example/x", allowed)
    assert is_allowed_redirect("https://cdn.other/x", allowed)
    assert not is_allowed_redirect("https://s3.example/x", allowed)
    assert not is_allowed_redirect("https://corp.example/x", allowed)


def test_the_hub_patterns_are_always_part_of_the_list():
    assert set(HUB_HOSTS) <= redirect_allow_list([])
    assert "" not in redirect_allow_list(["not a url ://"], ["  "])


def test_patterns_and_hosts_are_normalised():
    assert normalize_pattern(" *.Example.COM. ") == "*.example.com"
    assert normalize_pattern("https://user:pw@Host.Example:8080/path") == "host.example"
    assert redirect_host("https://CDN.Example./a?b") == "cdn.example"
    assert redirect_host("https://[2001:db8::1]:443/a") == "2001:db8::1"
    assert redirect_host("javascript:alert(1)") is None
