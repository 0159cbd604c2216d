"""REPO[@REV] arguments, file globs and sync lists, as users write them."""

import re

import pytest

from hubmirror.errors import InvalidInput
from hubmirror.hub.specs import FileFilter, parse_repo_spec
from hubmirror.hub.synclist import parse_sync_list
from hubmirror.types import RepoType


@pytest.mark.parametrize(
    ("text", "kind", "name", "revision"),
    [
        ("acme/bert", RepoType.MODEL, "acme/bert", "main"),
        ("gpt2", RepoType.MODEL, "gpt2", "main"),
        ("acme/bert@v1.0", RepoType.MODEL, "acme/bert", "v1.0"),
        ("dataset:acme/squad", RepoType.DATASET, "acme/squad", "main"),
        ("datasets/acme/squad@refs/pr/1", RepoType.DATASET, "acme/squad", "refs/pr/1"),
        ("hf://spaces/acme/demo@dev", RepoType.SPACE, "acme/demo", "dev"),
    ],
)
def test_repo_spec_names_type_repo_and_revision(text, kind, name, revision):
    spec = parse_repo_spec(text)
    assert (spec.repo.repo_type, spec.repo.name, spec.revision.value) == (kind, name, revision)


@pytest.mark.parametrize("text", ["acme/bert@", "acme/../x", "a/b/c", "acme/bert@a..b"])
def test_bad_repo_spec_is_invalid_input(text):
    with pytest.raises(InvalidInput):
        parse_repo_spec(text)


def test_type_given_apart_applies_unless_the_spec_names_one():
    assert parse_repo_spec("acme/x", RepoType.DATASET).repo.repo_type is RepoType.DATASET
    assert parse_repo_spec("space:acme/x", RepoType.DATASET).repo.repo_type is RepoType.SPACE


def test_file_filter_follows_allow_and_ignore_patterns():
    files = ["config.json", "tokenizer.json", "data/a.csv", "data/b/c.csv", "model.bin"]
    chosen = FileFilter(include=("*.json", "data/"), exclude=("tokenizer*",)).select(files)
    assert chosen == ["config.json", "data/a.csv", "data/b/c.csv"]
    assert FileFilter().select(files) == files


def test_sync_list_reads_comments_quotes_and_per_line_filters():
    items = parse_sync_list(
        "# models\n\nacme/bert@v1  # pinned\n"
        'acme/squad --type dataset --include "data/*.parquet" --exclude=README.md\n'
    )
    assert [str(i.spec) for i in items] == ["acme/bert@v1", "dataset:acme/squad@main"]
    assert items[1].files == FileFilter(("data/*.parquet",), ("README.md",))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("acme/a acme/b", "expected one REPO[@REV]"),
        ("acme/a --revision x", "unknown option --revision"),
        ("acme/a --type weights", "'weights' is not a valid RepoType"),
        ('acme/a --include "unclosed', "No closing quotation"),
    ],
)
def test_bad_sync_list_line_names_the_line(line, message):
    with pytest.raises(InvalidInput, match=f"list, line 2: .*{re.escape(message)}"):
        parse_sync_list(f"acme/ok\n{line}\n", source="list")
