"""In an outage, gated content goes only to tokens upstream confirmed before — or to nobody."""

from __future__ import annotations

import pytest

from tests.support.clients import MODEL, OWNER_TOKEN, USER_TOKEN
from tests.support.http import get

pytestmark = pytest.mark.timeout(120)
GATED = "acme/gated-model"


def fetch(server, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return get(f"{server.url}/{GATED}/resolve/main/model.safetensors", headers=headers)


@pytest.fixture
def filled(make_mirror, fakehub, tmp_path):
    """A data directory where the owner downloaded the gated weights once."""
    data = tmp_path / "data"
    first = make_mirror(data=str(data))
    assert fetch(first, OWNER_TOKEN).status == 200
    fakehub.clear_log()
    return data


def test_confirmed_token_is_served_during_an_outage_after_a_restart(make_mirror, fakehub, filled):
    fakehub.go_down()
    server = make_mirror(data=str(filled))

    owner, user, anonymous = fetch(server, OWNER_TOKEN), fetch(server, USER_TOKEN), fetch(server)

    expected = fakehub.file_bytes(MODEL, GATED, "main", "model.safetensors")
    assert (owner.status, owner.body) == (200, expected)
    assert owner.header("X-Cache-Status") == "STALE"
    for refused in (user, anonymous):  # cannot be confirmed now: "try later", never the bytes
        assert refused.status == 503 and refused.body != expected


def test_offline_mode_serves_confirmed_tokens_only(make_mirror, fakehub, filled):
    server = make_mirror(data=str(filled), offline=True)

    assert fetch(server, OWNER_TOKEN).status == 200
    for refused in (fetch(server, USER_TOKEN), fetch(server)):  # not until online: say so now
        assert (refused.status, refused.header("X-Error-Code")) == (409, "MirrorOffline")
        assert "upstream's word that this caller may read acme/gated-model" in refused.body.decode()
    assert fakehub.log == []


def test_deny_policy_serves_gated_content_to_nobody_offline(make_mirror, fakehub, filled):
    server = make_mirror(data=str(filled), offline=True, offline_access="deny")

    assert [fetch(server, t).status for t in (OWNER_TOKEN, USER_TOKEN, None)] == [409] * 3


def test_public_files_stay_served_to_everyone_offline(make_mirror, fakehub, tmp_path):
    data = tmp_path / "data"
    first = make_mirror(data=str(data))
    target = "/acme/tiny-bert/resolve/main/config.json"
    assert get(first.url + target).status == 200

    server = make_mirror(data=str(data), offline=True, offline_access="deny")

    assert get(server.url + target).status == 200


def test_gated_repo_info_during_an_outage_goes_to_confirmed_tokens_only(
    make_mirror, fakehub, tmp_path
):
    data = tmp_path / "data"
    first = make_mirror(data=str(data))
    info = f"/api/models/{GATED}"
    owner = {"Authorization": f"Bearer {OWNER_TOKEN}"}
    assert get(first.url + info, headers=owner).status == 200
    assert fetch(first, OWNER_TOKEN).status == 200  # the download confirms the owner's access
    fakehub.go_down()
    server = make_mirror(data=str(data))

    cached = get(server.url + info, headers=owner)
    user = get(server.url + info, headers={"Authorization": f"Bearer {USER_TOKEN}"})

    assert cached.status == 200 and b'"gated"' in cached.body
    assert user.status == 503
