"""`HfFileSystem` (fsspec) through the mirror: ls, glob, whole reads and ranged reads.

HfFileSystem reads a seeked file with `Range: bytes=a-b`. A server that ignores Range makes
`seek(-8, 2).read(8)` silently return the first 8 bytes (trace `norange`), so every ranged
read here is compared with the true bytes at that offset.
"""

from __future__ import annotations

import pytest

from tests.support.clients import MANY_FILES, MODEL, TINY_BERT, hub_files, run_client

pytestmark = pytest.mark.timeout(120)


def test_hffs_ls_lists_the_repo_root(endpoint, home, fakehub):
    """`ls` of the root names its files and its top-level folder, with sizes."""
    code = f"""
    from huggingface_hub import HfFileSystem
    entries = HfFileSystem().ls({TINY_BERT!r}, detail=True)
    emit({{e["name"]: [e["type"], e["size"]] for e in entries}})
    """
    entries = run_client(code, endpoint, home)

    files = hub_files(fakehub, MODEL, TINY_BERT, "main")
    top_files = {name for name in files if "/" not in name}
    assert {name.split("/", 2)[2] for name in entries} == top_files | {"nested"}
    for name in top_files:
        size = len(fakehub.file_bytes(MODEL, TINY_BERT, "main", name))
        assert entries[f"{TINY_BERT}/{name}"] == ["file", size], name
    assert entries[f"{TINY_BERT}/nested"][0] == "directory"


def test_hffs_ls_of_nested_folder_lists_its_children(endpoint, home):
    """A folder path travels as tree/main/nested%2Fdir and lists its direct children."""
    code = f"""
    from huggingface_hub import HfFileSystem
    emit(HfFileSystem().ls({TINY_BERT + "/nested/dir"!r}, detail=False))
    """
    assert run_client(code, endpoint, home) == [f"{TINY_BERT}/nested/dir/file.txt"]


def test_hffs_glob_double_star_finds_every_file(endpoint, home, fakehub):
    """`glob("**")` walks the whole tree, folders included."""
    code = f"""
    from huggingface_hub import HfFileSystem
    fs = HfFileSystem()
    emit([p for p in fs.glob({TINY_BERT + "/**"!r}) if fs.isfile(p)])
    """
    found = run_client(code, endpoint, home)

    prefix = f"{TINY_BERT}/"
    assert {p.removeprefix(prefix) for p in found} == hub_files(fakehub, MODEL, TINY_BERT, "main")


def test_hffs_find_of_paginated_repo_lists_every_file(endpoint, home, fakehub):
    """HfFileSystem lists big trees in parallel, per folder; no page or folder may be lost."""
    code = f"""
    from huggingface_hub import HfFileSystem
    fs = HfFileSystem()
    found = fs.find({MANY_FILES!r})
    txt = fs.glob({MANY_FILES + "/**/*.txt"!r})
    data = fs.ls({MANY_FILES + "/data"!r}, detail=False)
    emit({{"find": found, "glob_txt": len(txt), "ls_data": data}})
    """
    result = run_client(code, endpoint, home)

    expected = hub_files(fakehub, MODEL, MANY_FILES, "main")
    prefix = f"{MANY_FILES}/"
    assert len(result["find"]) == len(expected)
    assert {p.removeprefix(prefix) for p in result["find"]} == expected
    assert result["glob_txt"] == len([n for n in expected if n.endswith(".txt")])
    assert sorted(result["ls_data"]) == [f"{prefix}data/{d}" for d in ("a", "b", "c")]


@pytest.mark.parametrize("name", ["config.json", "model.safetensors"])
def test_hffs_open_read_returns_the_whole_file(endpoint, home, fakehub, name):
    """`open().read()` is one plain GET of the resolve URL; plain and LFS files alike."""
    code = f"""
    import hashlib
    from huggingface_hub import HfFileSystem
    with HfFileSystem().open({TINY_BERT + "/" + name!r}, "rb") as f:
        data = f.read()
    emit({{"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}})
    """
    result = run_client(code, endpoint, home)

    assert result == {
        "size": len(fakehub.file_bytes(MODEL, TINY_BERT, "main", name)),
        "sha256": fakehub.file_sha256(MODEL, TINY_BERT, "main", name),
    }


READS = """
from huggingface_hub import HfFileSystem
fs = HfFileSystem()
reads = []
for whence, offset, length, block_size in {plan!r}:
    with fs.open({path!r}, "rb", block_size=block_size) as f:
        f.seek(offset, whence)
        reads.append([f.tell(), f.read(length).hex()])
emit(reads)
"""


@pytest.mark.parametrize("name", ["model.safetensors", "tokenizer.json"])
@pytest.mark.parametrize("block_size", [None, 16], ids=["default-block", "tiny-block"])
def test_hffs_seek_then_read_returns_the_bytes_at_that_offset(
    endpoint, home, fakehub, name, block_size
):
    """Ranged reads from the start, the middle and the end give exactly the true bytes."""
    data = fakehub.file_bytes(MODEL, TINY_BERT, "main", name)
    size = len(data)
    assert size > 64
    plan = [
        (0, 10, 20, block_size),
        (0, size // 2, 33, block_size),
        (2, -8, 8, block_size),
        (2, -1, 100, block_size),
    ]
    code = READS.format(plan=plan, path=f"{TINY_BERT}/{name}")

    reads = run_client(code, endpoint, home)

    expected = [
        [10, data[10:30].hex()],
        [size // 2, data[size // 2 : size // 2 + 33].hex()],
        [size - 8, data[-8:].hex()],
        [size - 1, data[-1:].hex()],
    ]
    assert reads == expected
