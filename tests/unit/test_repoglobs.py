"""Repo globs (``TYPE:GLOB``), as mirror tokens and the allow/deny lists take them."""

import pytest

from hubmirror.errors import InvalidInput
from hubmirror.hub.repoglobs import matches, parse_repo_glob, parse_repo_globs
from hubmirror.types import RepoId, RepoType

BERT = RepoId(RepoType.MODEL, "acme/tiny-bert")
CSV = RepoId(RepoType.DATASET, "acme/tiny-csv")
GPT2 = RepoId(RepoType.MODEL, "gpt2")


@pytest.mark.parametrize(
    ("pattern", "repo", "expected"),
    [
        ("model:acme/*", BERT, True),
        ("model:acme/*", CSV, False),
        ("dataset:*", CSV, True),
        ("dataset:*", BERT, False),
        ("acme/tiny-*", BERT, True),
        ("acme/tiny-*", CSV, True),
        ("model:acme/tiny-[bc]*", BERT, True),
        ("model:acme/tiny-?ert", BERT, True),
        ("space:*", BERT, False),
        ("*", GPT2, True),
        ("model:gpt2", GPT2, True),
        ("acme/tiny", BERT, False),
    ],
)
def test_glob_matches_type_and_namespace_name(pattern, repo, expected):
    assert matches(repo, [pattern]) is expected


def test_matching_ignores_case_as_the_hub_does():
    assert matches(RepoId(RepoType.MODEL, "ACME/Tiny-Bert"), ["model:acme/tiny-*"])
    assert matches(BERT, ["Model:ACME/*"])


def test_star_crosses_the_namespace_slash():
    assert matches(BERT, ["acme*"])


def test_empty_list_matches_nothing_and_any_pattern_is_enough():
    assert not matches(BERT, [])
    assert matches(BERT, ["dataset:*", "model:acme/*"])


def test_parsed_globs_match_like_their_text():
    globs = parse_repo_globs(["dataset:*", "model:acme/*"])

    assert [str(g) for g in globs] == ["dataset:*", "model:acme/*"]
    assert matches(BERT, globs) and matches(CSV, globs)
    assert not matches(RepoId(RepoType.SPACE, "acme/demo"), globs)


@pytest.mark.parametrize(
    ("pattern", "complaint"),
    [
        ("", "is empty"),
        ("model:", "is empty"),
        ("models:acme/*", "unknown repo type 'models' (use model:, dataset:, space:)"),
        ("a:b:c", "unknown repo type 'a:b'"),
        ("acme/x/y", "at most one '/'"),
        ("acme/$bert", "only letters, digits"),
        ("acme bert", "only letters, digits"),
    ],
)
def test_bad_pattern_is_refused_with_what_is_wrong(pattern, complaint):
    with pytest.raises(InvalidInput) as refused:
        parse_repo_glob(pattern)

    assert complaint in refused.value.message
    assert f"'{pattern}'" in refused.value.message
