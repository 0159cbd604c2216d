"""Which repo-info answers say "public": only a real card that says so explicitly."""

import pytest

from hubmirror.hub.payloads import visibility_of_info

SHA = "a" * 40
CARD = {"_id": "0" * 24, "id": "acme/bert", "sha": SHA, "private": False, "gated": False}


def test_a_public_card_is_public():
    assert visibility_of_info(CARD) == "public"


@pytest.mark.parametrize(
    "change",
    [{"private": True}, {"gated": "manual"}, {"gated": "auto"}, {"gated": True}],
    ids=["private", "gated-manual", "gated-auto", "gated-true"],
)
def test_a_private_or_gated_card_is_restricted(change):
    assert visibility_of_info(CARD | change) == "restricted"


@pytest.mark.parametrize(
    "info",
    [
        {},
        {"error": "Internal Error"},
        {"id": "acme/bert", "sha": SHA},  # trimmed: says nothing about access
        {"id": "acme/bert", "sha": SHA, "private": False},  # gated left out
        {"id": "acme/bert", "sha": SHA, "gated": False},  # private left out
        CARD | {"private": "false"},
        CARD | {"private": 0, "gated": 0},
        CARD | {"private": None, "gated": None},
        CARD | {"gated": "none"},
        {"sha": SHA, "private": False, "gated": False},  # not a repo card: no id
        CARD | {"id": ""},
        CARD | {"id": 7},
        [CARD],
        "public",
        None,
    ],
    ids=[
        "empty",
        "error-object",
        "trimmed",
        "no-gated",
        "no-private",
        "private-string",
        "zeros",
        "nulls",
        "gated-odd-string",
        "no-id",
        "empty-id",
        "id-not-a-string",
        "list",
        "string",
        "null",
    ],
)
def test_any_other_answer_is_unknown(info):
    assert visibility_of_info(info) == "unknown"
