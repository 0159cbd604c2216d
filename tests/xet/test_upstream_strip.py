"""With upstream serving Xet for real, a mirror whose xet_serve is off still strips Xet.

A client that saw `X-Xet-Hash`, a xet `Link` or `xetHash` would ask for a Xet token and
read upstream's CAS around the mirror. Fetching through Xet upstream (xet_upstream) is the
mirror's own business and changes nothing of what clients see.
"""

from __future__ import annotations

import json

import pytest

from tests.fakehub import TINY_BERT
from tests.support.http import get, head, request

pytestmark = pytest.mark.timeout(60)

WEIGHTS = "model.safetensors"


@pytest.mark.parametrize("xet_upstream", [False, True])
def test_every_xet_signal_is_stripped_while_xet_serve_is_off(fakehub, make_mirror, xet_upstream):
    fakehub.xet_files = True
    mirror = make_mirror(xet_serve=False, xet_upstream=xet_upstream)
    fakehub.clear_log()

    resolved = head(f"{mirror.url}/{TINY_BERT}/resolve/main/{WEIGHTS}")
    tree = get(f"{mirror.url}/api/models/{TINY_BERT}/tree/main")
    paths = request(
        "POST",
        f"{mirror.url}/api/models/{TINY_BERT}/paths-info/main",
        {"Content-Type": "application/x-www-form-urlencoded"},
        f"paths={WEIGHTS}".encode(),
    )

    assert resolved.status == 200 and tree.status == 200 and paths.status == 200
    assert not [k for k in resolved.headers if k.lower().startswith("x-xet")]
    assert "xet" not in (resolved.header("Link") or "")
    upstream_rows = json.loads(get(f"{fakehub.url}/api/models/{TINY_BERT}/tree/main").body)
    assert any("xetHash" in row for row in upstream_rows)  # upstream does advertise it
    for rows in (json.loads(tree.body), json.loads(paths.body)):
        assert rows and not any("xetHash" in row for row in rows)
    assert [e.target for e in fakehub.log if e.host == "cas"] == []
