"""Which query parameters and form fields make an API answer's key, and how they are written."""

from __future__ import annotations

import pytest

from hubmirror.errors import InvalidInput
from hubmirror.hub.apiquery import normal_form, normal_query


def test_tree_keeps_its_flags_and_cursor_and_drops_the_rest():
    query = [("recursive", "True"), ("expand", "0"), ("cursor", "abc"), ("token", "hf_x")]
    assert normal_query("tree", query + [("pad", "z" * 6000)]) == [
        ("cursor", "abc"),
        ("expand", "false"),
        ("recursive", "true"),
    ]


def test_repo_info_expand_values_are_sorted_once_each_and_well_formed():
    query = [("expand", "siblings"), ("expand", "sha"), ("expand", "sha"), ("expand", "<x>")]
    assert normal_query("info", query) == [("expand", "sha"), ("expand", "siblings")]
    assert normal_query("revision", [("blobs", "true"), ("securityStatus", "false")]) == [
        ("blobs", "true")
    ]


def test_refs_and_commits_keep_what_their_clients_send():
    assert normal_query("refs", [("include_prs", "1")]) == [("include_prs", "1")]
    assert normal_query("refs", [("include_prs", "0")]) == []
    assert normal_query("commits", [("expand[]", "formatted"), ("p", "2"), ("p2", "x")]) == [
        ("expand[]", "formatted"),
        ("p", "2"),
    ]


def test_routes_without_parameters_take_none():
    assert normal_query("treesize", [("recursive", "true")]) == []


def test_a_cursor_longer_than_any_upstream_gives_is_invalid_input():
    with pytest.raises(InvalidInput):
        normal_query("tree", [("cursor", "c" * 5000)])


def test_paths_info_form_keeps_paths_sorted_once_each_and_expand():
    form = [("paths", "b.txt"), ("paths", "a.txt"), ("paths", "b.txt"), ("x", "1")]
    assert normal_form(form + [("expand", "false")]) == [
        ("expand", "false"),
        ("paths", "a.txt"),
        ("paths", "b.txt"),
    ]
