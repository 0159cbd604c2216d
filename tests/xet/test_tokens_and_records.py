"""The mirror's Xet tokens and the index's Xet hashes."""

from __future__ import annotations

from hubmirror.index.database import Database
from hubmirror.index.queries import Index, StoredBlob
from hubmirror.mirror.xet.tokens import issue_token, read_token
from hubmirror.types import FileEntry, RepoId, RepoType

BERT = RepoId(RepoType.MODEL, "acme/bert")


def test_a_token_names_its_repo_until_it_expires():
    token, expires = issue_token("secret", BERT, now=1000, ttl=60)
    assert expires == 1060
    assert read_token("secret", token, now=1059).repo == BERT
    assert read_token("secret", token, now=1060) is None


def test_a_token_signed_with_another_secret_or_edited_is_refused():
    token, _ = issue_token("secret", BERT, now=1000)
    body, mac = token.split(".")
    other, _ = issue_token("secret", RepoId(RepoType.MODEL, "acme/other"), now=1000)
    assert read_token("another", token, now=1001) is None
    assert read_token("secret", other.split(".")[0] + "." + mac, now=1001) is None
    assert read_token("secret", "garbage", now=1001) is None


def test_xet_hashes_lead_to_stored_blobs_and_repos_that_hold_them(tmp_path):
    index = Index(Database(tmp_path / "index.sqlite"))
    blob = StoredBlob("ab" * 32, "cd" * 20, 10)
    index.put_blob(blob, 1.0)
    index.put_entries(BERT, "c" * 40, [FileEntry("w.bin", 10, "ab" * 32, True, "ab" * 32)])
    index.xet.put(blob.sha256, "ef" * 32, 2.0)

    assert index.xet.xet_hash_of(blob.sha256) == "ef" * 32
    assert index.xet.blob_of("ef" * 32) == blob
    assert index.xet.blob_of("00" * 32) is None
    assert index.xet.file_with_blob(BERT, blob) == ("c" * 40, "w.bin")
    assert index.xet.file_with_blob(RepoId(RepoType.MODEL, "acme/other"), blob) is None
    assert index.xet.secret() == index.xet.secret() != index.cluster_secret()
