"""The pages' list of transfers, including fills read along for another node."""

from __future__ import annotations

from pathlib import Path

from hubmirror.mirror.fills.state import Fill, FillPlan, FillSource
from hubmirror.mirror.status import transfers_of
from hubmirror.storage.blobs import FillPaths
from hubmirror.types import FileEntry, RepoId, RepoType


def _fill(key: str, repo: RepoId | None) -> Fill:
    entry = FileEntry("model.bin", 100, key, lfs=True, sha256=key)
    paths = FillPaths(Path("/x.part"), Path("/x.lock"), Path("/x.progress"))
    return Fill(key, FillSource(repo, "c" * 40, entry, None), paths, FillPlan())


def test_a_fill_read_along_for_another_node_is_left_to_that_nodes_page():
    repo = RepoId(RepoType.MODEL, "acme/tiny-bert")
    listed = transfers_of([_fill("a" * 64, repo), _fill("b" * 64, None)])
    assert [(t.key, t.repo) for t in listed] == [("a" * 64, repo)]
