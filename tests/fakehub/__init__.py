"""A fake Hugging Face Hub on loopback, for the tests of hubmirror.

It speaks the Hub's read API as huggingface_hub, datasets and transformers use it,
over real HTTP (two ports: the hub and a "CDN" that serves LFS bytes behind signed
URLs), holds its repos as plain data, records every request and can be told to fail
the way the internet fails.

Nothing runs at import: the data set is built by `default_repos()` and the servers start
with `FakeHub.start()`.
"""

from tests.fakehub.access import OWNER_TOKEN, USER_TOKEN
from tests.fakehub.defaults import (
    GATED_MODEL,
    MANY_FILES,
    MANY_FILES_COUNT,
    PR_ONLY_FILE,
    PRIVATE_MODEL,
    TINY_BERT,
    TINY_BERT_LAYERS,
    TINY_BERT_OLD_LAYERS,
    TINY_BERT_VOCAB_SIZE,
    TINY_CSV,
    TINY_CSV_TEST_ROWS,
    TINY_CSV_TRAIN_ROWS,
    TINY_PARQUET,
    TINY_PARQUET_CONVERTED_FILE,
    TINY_PARQUET_FILE,
    TINY_PARQUET_ROWS,
    TINY_SPACE,
    default_repos,
)
from tests.fakehub.faults import Faults
from tests.fakehub.hub import FakeHub, LogEntry

__all__ = [
    "GATED_MODEL",
    "MANY_FILES",
    "MANY_FILES_COUNT",
    "OWNER_TOKEN",
    "PR_ONLY_FILE",
    "PRIVATE_MODEL",
    "TINY_BERT",
    "TINY_BERT_LAYERS",
    "TINY_BERT_OLD_LAYERS",
    "TINY_BERT_VOCAB_SIZE",
    "TINY_CSV",
    "TINY_CSV_TEST_ROWS",
    "TINY_CSV_TRAIN_ROWS",
    "TINY_PARQUET",
    "TINY_PARQUET_CONVERTED_FILE",
    "TINY_PARQUET_FILE",
    "TINY_PARQUET_ROWS",
    "TINY_SPACE",
    "USER_TOKEN",
    "FakeHub",
    "Faults",
    "LogEntry",
    "default_repos",
]
