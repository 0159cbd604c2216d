"""What users put in HF_ENDPOINT and in file names must work as on huggingface.co.

* datasets does not strip a trailing slash from HF_ENDPOINT and then sends `//api/...`;
  the mirror should collapse the double slash.
* File names are `quote()`d in resolve URLs and tree paths may contain `%2F`.
"""

from __future__ import annotations

import pytest

from tests.fakehub import TINY_CSV_TEST_ROWS, TINY_CSV_TRAIN_ROWS
from tests.support.clients import MODEL, TINY_BERT, TINY_CSV, curl, run_client

pytestmark = pytest.mark.timeout(120)

ODD_NAMES = ["odd dir/with space.txt", "odd dir/plus+at@colon:.txt", "odd dir/ünïcødé.txt"]


def test_load_dataset_with_trailing_slash_endpoint_gets_every_row(endpoint, home):
    """`HF_ENDPOINT=http://mirror/` still loads both splits through the mirror."""
    code = f"""
    import datasets
    ds = datasets.load_dataset({TINY_CSV!r})
    emit({{split: ds[split].num_rows for split in ds}})
    """
    rows = run_client(code, endpoint + "/", home)

    assert rows == {"train": TINY_CSV_TRAIN_ROWS, "test": TINY_CSV_TEST_ROWS}


def test_hf_hub_download_with_trailing_slash_endpoint_works(endpoint, home, fakehub):
    """huggingface_hub strips the slash itself; double-check nothing else breaks."""
    code = f"""
    from huggingface_hub import hf_hub_download
    emit(open(hf_hub_download({TINY_BERT!r}, "config.json"), "rb").read().decode())
    """
    text = run_client(code, endpoint + "/", home)

    assert text.encode() == fakehub.file_bytes(MODEL, TINY_BERT, "main", "config.json")


@pytest.fixture
def odd_files(fakehub) -> dict[str, bytes]:
    """Files whose names need percent-encoding, committed on main of tiny-bert."""
    files = {name: f"content of {name}\n".encode() for name in ODD_NAMES}
    fakehub.move_branch(MODEL, TINY_BERT, "main", files)
    return files


def test_files_with_spaces_and_unicode_in_names_download_intact(
    cold_endpoint, home, fakehub, odd_files
):
    """hf_hub_download, snapshot_download and HfFileSystem all find the oddly named files."""
    code = f"""
    from huggingface_hub import HfFileSystem, hf_hub_download, snapshot_download
    import os
    names = {ODD_NAMES!r}
    single = {{n: open(hf_hub_download({TINY_BERT!r}, n), "rb").read().decode() for n in names}}
    root = snapshot_download({TINY_BERT!r}, allow_patterns=["odd dir/*"])
    snap = {{n: open(os.path.join(root, n), "rb").read().decode() for n in names}}
    fs = HfFileSystem()
    listed = sorted(fs.ls({TINY_BERT + "/odd dir"!r}, detail=False))
    read = {{n: fs.cat_file({TINY_BERT!r} + "/" + n).decode() for n in names}}
    emit({{"single": single, "snap": snap, "listed": listed, "read": read}})
    """
    result = run_client(code, cold_endpoint, home)

    expected = {name: data.decode() for name, data in odd_files.items()}
    assert result["single"] == expected
    assert result["snap"] == expected
    assert result["read"] == expected
    assert result["listed"] == sorted(f"{TINY_BERT}/{name}" for name in ODD_NAMES)


def test_tree_path_with_encoded_slash_lists_the_folder(endpoint):
    """`tree/main/nested%2Fdir` (how huggingface_hub sends it) and `nested/dir` agree."""
    base = f"{endpoint}/api/models/{TINY_BERT}/tree/main"
    encoded = curl(["-f", f"{base}/nested%2Fdir?recursive=false&expand=false"]).stdout
    plain = curl(["-f", f"{base}/nested/dir?recursive=false&expand=false"]).stdout

    assert encoded == plain
    assert b"nested/dir/file.txt" in encoded
