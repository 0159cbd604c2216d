"""Drive the real Hub clients against a fake hub and report what they saw, as JSON.

Run in a subprocess by test_fakehub.py, because huggingface_hub reads HF_ENDPOINT (and the
Xet/telemetry switches) once at import:
    HF_ENDPOINT=http://127.0.0.1:<port> python -m tests.fakehub.clientprobe hub
The last line of stdout is the JSON result.
"""

import json
import sys
from collections.abc import Callable
from pathlib import Path

from tests.fakehub.access import OWNER_TOKEN, USER_TOKEN
from tests.fakehub.defaults import (
    GATED_MODEL,
    MANY_FILES,
    PR_ONLY_FILE,
    PRIVATE_MODEL,
    TINY_BERT,
    TINY_CSV,
    TINY_PARQUET,
    TINY_PARQUET_FILE,
)
from tests.support.hashing import sha256_of

SECOND_PAGE_FILES = "extra/deep/d/file-027*"  # sorted last: only on tree page 2


def failure(call: Callable[[], object]) -> list:
    """[exception class name, HTTP status] of a call expected to fail."""
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the class is the result
        response = getattr(error, "response", None)
        return [type(error).__name__, getattr(response, "status_code", None)]
    return ["no error", None]


def hub_downloads() -> dict:
    from huggingface_hub import hf_hub_download, snapshot_download

    config = hf_hub_download(TINY_BERT, "config.json")
    snapshot = Path(snapshot_download(MANY_FILES, allow_patterns=[SECOND_PAGE_FILES]))
    return {
        "config_sha256": sha256_of(config),
        "config_commit": Path(config).parent.name,
        "lfs_sha256": sha256_of(hf_hub_download(TINY_BERT, "model.safetensors")),
        "pr_only": Path(hf_hub_download(TINY_BERT, PR_ONLY_FILE, revision="refs/pr/1")).read_text(),
        "v1_config": json.loads(
            Path(hf_hub_download(TINY_BERT, "config.json", revision="v1.0")).read_text()
        ),
        "gated_owner_sha256": sha256_of(
            hf_hub_download(GATED_MODEL, "model.safetensors", token=OWNER_TOKEN)
        ),
        "private_owner_sha256": sha256_of(
            hf_hub_download(PRIVATE_MODEL, "config.json", token=OWNER_TOKEN)
        ),
        "snapshot_files": sorted(
            str(p.relative_to(snapshot)) for p in snapshot.rglob("*") if p.is_file()
        ),
    }


def hub_errors() -> dict:
    from huggingface_hub import HfApi, hf_hub_download

    def download(repo: str, name: str = "config.json", **kwargs) -> Callable[[], object]:
        return lambda: hf_hub_download(repo, name, **kwargs)

    return {
        "gated_anonymous": failure(download(GATED_MODEL)),
        "gated_user": failure(download(GATED_MODEL, token=USER_TOKEN)),
        "private_anonymous": failure(download(PRIVATE_MODEL)),
        "private_user": failure(download(PRIVATE_MODEL, token=USER_TOKEN)),
        "missing_repo": failure(download("acme/nope")),
        "missing_file": failure(download(TINY_BERT, "missing.json")),
        "bad_revision": failure(download(TINY_BERT, revision="v9")),
        "bad_token": failure(lambda: HfApi().model_info(TINY_BERT, token="hf_bad")),
    }


def hub_api() -> dict:
    from huggingface_hub import HfApi, HfFileSystem

    api = HfApi()
    info = api.model_info(TINY_BERT, files_metadata=True)
    refs = api.list_repo_refs(TINY_BERT, include_pull_requests=True)
    with HfFileSystem().open(f"datasets/{TINY_PARQUET}/{TINY_PARQUET_FILE}", "rb") as handle:
        handle.seek(-8, 2)
        tail = handle.read(8)
    return {
        "info_sha": info.sha,
        "lfs_siblings": {s.rfilename: s.lfs.sha256 for s in info.siblings if s.lfs},
        "gated_info": api.model_info(GATED_MODEL).gated,
        "refs": {
            "branches": [r.name for r in refs.branches],
            "tags": [r.name for r in refs.tags],
            "prs": [r.ref for r in refs.pull_requests],
        },
        "commits": [c.title for c in api.list_repo_commits(TINY_BERT)],
        "paths_info": [
            p.path for p in api.get_paths_info(TINY_BERT, ["config.json", "x", "nested"])
        ],
        "many_files": len(api.list_repo_files(MANY_FILES)),
        "parquet_tail": tail.hex(),
        "file_exists": [api.file_exists(TINY_BERT, "config.json"), api.file_exists(TINY_BERT, "x")],
    }


def transformers_load() -> dict:
    from transformers import AutoConfig, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(TINY_BERT)
    return {
        "layers": AutoConfig.from_pretrained(TINY_BERT).num_hidden_layers,
        "old_layers": AutoConfig.from_pretrained(TINY_BERT, revision="v1.0").num_hidden_layers,
        "tokens": tokenizer.tokenize("Hello world!"),
        "input_ids": tokenizer("hello world")["input_ids"],
    }


def datasets_load() -> dict:
    from datasets import load_dataset

    csv = load_dataset(TINY_CSV)
    stream = load_dataset(TINY_CSV, split="train", streaming=True)
    converted = load_dataset(TINY_PARQUET, revision="refs/convert/parquet")
    return {
        "csv": {split: len(rows) for split, rows in csv.items()},
        "csv_first_streamed": next(iter(stream)),
        "parquet": {split: len(rows) for split, rows in load_dataset(TINY_PARQUET).items()},
        "converted": {split: len(rows) for split, rows in converted.items()},
    }


SCENARIOS = {
    # errors first: hf_hub_download answers RepoNotFound/Gated from its cache when it can
    "hub": lambda: {**hub_errors(), **hub_downloads(), **hub_api()},
    "transformers": transformers_load,
    "datasets": datasets_load,
}


def main() -> None:
    result = SCENARIOS[sys.argv[1]]()
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
