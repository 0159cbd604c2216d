"""`datasets.load_dataset` through the mirror, downloaded and streamed.

Non-streaming runs HEAD/GET per data file at the pinned commit; streaming opens the files
with HfFileSystem and reads them with exact `Range` requests (parquet: footer first).
"""

from __future__ import annotations

import csv
import io

import pytest

from tests.fakehub import TINY_CSV_TEST_ROWS, TINY_CSV_TRAIN_ROWS, TINY_PARQUET_ROWS
from tests.support.clients import DATASET, TINY_CSV, TINY_PARQUET, run_client

pytestmark = pytest.mark.timeout(180)

LOAD = """
import datasets
ds = datasets.load_dataset({repo!r}, streaming={streaming!r}, revision={revision!r})
out = {{}}
for split in ds:
    rows = list(ds[split]) if {streaming!r} else ds[split].to_list()
    out[split] = {{"count": len(rows), "first": rows[0], "columns": sorted(rows[0])}}
emit(out)
"""


def load(endpoint, home, repo, streaming, revision=None):
    code = LOAD.format(repo=repo, streaming=streaming, revision=revision)
    return run_client(code, endpoint, home, timeout=150)


def first_csv_row(hub, path):
    text = hub.file_bytes(DATASET, TINY_CSV, "main", path).decode()
    return next(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("streaming", [False, True], ids=["download", "streaming"])
def test_load_dataset_csv_gets_every_row(endpoint, home, fakehub, streaming):
    """Both splits declared in the README configs load with all their rows and values."""
    splits = load(endpoint, home, TINY_CSV, streaming)

    assert set(splits) == {"train", "test"}
    assert splits["train"]["count"] == TINY_CSV_TRAIN_ROWS
    assert splits["test"]["count"] == TINY_CSV_TEST_ROWS
    for split, path in (("train", "data/train.csv"), ("test", "data/test.csv")):
        expected = first_csv_row(fakehub, path)
        assert splits[split]["columns"] == sorted(expected)
        assert {k: str(v) for k, v in splits[split]["first"].items()} == expected


@pytest.mark.parametrize("streaming", [False, True], ids=["download", "streaming"])
def test_load_dataset_parquet_gets_every_row(endpoint, home, fakehub, streaming):
    """The LFS parquet file loads whole; streamed, its footer and columns come by Range."""
    import pyarrow.parquet as pq

    data = fakehub.file_bytes(DATASET, TINY_PARQUET, "main", "data/train-00000-of-00001.parquet")
    table = pq.read_table(io.BytesIO(data))
    assert table.num_rows == TINY_PARQUET_ROWS
    expected_first = table.slice(0, 1).to_pylist()[0]

    splits = load(endpoint, home, TINY_PARQUET, streaming)

    assert set(splits) == {"train"}
    assert splits["train"]["count"] == TINY_PARQUET_ROWS
    assert splits["train"]["first"] == expected_first


def test_load_dataset_at_parquet_convert_ref_reads_the_export(endpoint, home, fakehub):
    """revision="refs/convert/parquet" travels as refs%2Fconvert%2Fparquet everywhere."""
    splits = load(endpoint, home, TINY_PARQUET, False, revision="refs/convert/parquet")

    assert splits["train"]["count"] == TINY_PARQUET_ROWS
