"""Stored API answers are keyed by the repo's canonical (lower-case) name."""

from hubmirror.hub.routes import RepoApi
from hubmirror.mirror.answers.api import answer_key, canonical_answer_key
from hubmirror.types import RepoId, RepoPath, RepoType, Revision

BERT = RepoId(RepoType.MODEL, "Acme/Bert")


def test_every_spelling_of_a_repo_has_one_key_and_the_path_keeps_its_case():
    keys = {
        answer_key(
            RepoApi(RepoId(RepoType.DATASET, name), "tree", Revision("main"), RepoPath("Sub/Dir")),
            [("recursive", "True")],
            None,
        )
        for name in ("Acme/Data", "acme/data", "ACME/DATA")
    }
    assert keys == {"/api/datasets/acme/data/tree/main/Sub/Dir?recursive=True"}


def test_paths_info_form_is_part_of_the_key():
    route = RepoApi(BERT, "paths-info", Revision("main"))
    key = answer_key(route, [], [("paths", "b"), ("paths", "a")])
    assert key == "/api/models/acme/bert/paths-info/main|paths=a&paths=b"


def test_a_key_stored_under_another_spelling_takes_the_canonical_one():
    old = "/api/models/ACME/bert/revision/main?blobs=True"
    route = RepoApi(BERT, "revision", Revision("main"))
    assert canonical_answer_key(old, BERT) == answer_key(route, [("blobs", "True")], None)
    assert canonical_answer_key("/api/models/Acme/Bert", BERT) == "/api/models/acme/bert"


def test_a_key_of_another_repo_is_left_alone():
    other = "/api/models/Acme/Bert-large/revision/main"
    assert canonical_answer_key(other, BERT) == other
