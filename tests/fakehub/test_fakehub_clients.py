"""The real clients (huggingface_hub, transformers, datasets) against the fake hub.

Each runs in a subprocess (tests.fakehub.clientprobe) because they read HF_ENDPOINT and
the Xet/telemetry switches once, at import.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakehub import (
    MANY_FILES_COUNT,
    TINY_BERT,
    TINY_CSV_TEST_ROWS,
    TINY_CSV_TRAIN_ROWS,
    TINY_PARQUET_ROWS,
)
from tests.fakehub.defaults import TINY_BERT_LAYERS, TINY_BERT_OLD_LAYERS
from tests.fakehub.wire import CONFIG, fetch
from tests.support.ports import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_probe(hub, scenario: str, home: Path) -> dict:
    """Run tests.fakehub.clientprobe with the real clients pointed at `hub`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update(
        HF_ENDPOINT=hub.url,
        HF_HOME=str(home),
        HF_HUB_DISABLE_XET="1",
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_UPDATE_DOWNLOAD_COUNTS="0",
        HF_HUB_DISABLE_UPDATE_CHECK="1",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        DISABLE_SAFETENSORS_CONVERSION="1",
        PYTHONPATH=str(REPO_ROOT),
    )
    command = [sys.executable, "-m", "tests.fakehub.clientprobe", scenario]
    done = subprocess.run(
        command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def hub_probe(_fakehub_session, tmp_path_factory) -> dict:
    _fakehub_session.reset()
    return run_probe(_fakehub_session, "hub", tmp_path_factory.mktemp("hf-home"))


def test_hf_hub_download_regular_and_lfs_files(hub_probe, fakehub):
    assert hub_probe["config_sha256"] == fakehub.file_sha256(
        "model", TINY_BERT, "main", "config.json"
    )
    assert hub_probe["config_commit"] == fakehub.commit_of("model", TINY_BERT, "main")
    weights = fakehub.file_sha256("model", TINY_BERT, "main", "model.safetensors")
    assert hub_probe["lfs_sha256"] == hub_probe["gated_owner_sha256"] == weights
    assert hub_probe["pr_only"] == "only on refs/pr/1\n"
    assert hub_probe["v1_config"]["num_hidden_layers"] == TINY_BERT_OLD_LAYERS


def test_snapshot_download_reads_the_second_tree_page(hub_probe):
    assert hub_probe["snapshot_files"] == [
        f"extra/deep/d/file-{i:04d}.txt" for i in range(270, 280)
    ]
    assert hub_probe["many_files"] == MANY_FILES_COUNT


def test_client_error_classes_per_token(hub_probe):
    assert hub_probe["gated_anonymous"] == ["GatedRepoError", 401]
    assert hub_probe["gated_user"] == ["GatedRepoError", 403]
    assert hub_probe["private_anonymous"] == ["RepositoryNotFoundError", 401]
    assert hub_probe["private_user"] == ["RepositoryNotFoundError", 404]
    assert hub_probe["missing_repo"] == ["RepositoryNotFoundError", 401]
    assert hub_probe["missing_file"] == ["RemoteEntryNotFoundError", 404]
    assert hub_probe["bad_revision"] == ["RevisionNotFoundError", 404]
    assert hub_probe["bad_token"] == ["HfHubHTTPError", 401]


def test_hf_api_reads_metadata(hub_probe, fakehub):
    assert hub_probe["info_sha"] == fakehub.commit_of("model", TINY_BERT, "main")
    digest = fakehub.file_sha256("model", TINY_BERT, "main", "model.safetensors")
    assert hub_probe["lfs_siblings"] == {"model.safetensors": digest}
    assert hub_probe["gated_info"] == "manual"
    assert hub_probe["refs"] == {"branches": ["main"], "tags": ["v1.0"], "prs": ["refs/pr/1"]}
    assert hub_probe["commits"] == ["Use two hidden layers", "Initial commit"]
    assert hub_probe["paths_info"] == ["config.json", "nested"]
    assert hub_probe["file_exists"] == [True, False]


def test_hf_file_system_seek_reads_the_exact_tail(hub_probe):
    assert bytes.fromhex(hub_probe["parquet_tail"]).endswith(b"PAR1")


def test_transformers_loads_config_and_tokenizer(fakehub, tmp_path):
    result = run_probe(fakehub, "transformers", tmp_path)
    assert (result["layers"], result["old_layers"]) == (TINY_BERT_LAYERS, TINY_BERT_OLD_LAYERS)
    assert result["tokens"] == ["hello", "world", "!"]
    assert result["input_ids"] == [2, 5, 6, 3]


def test_datasets_loads_csv_parquet_and_the_convert_branch(fakehub, tmp_path):
    result = run_probe(fakehub, "datasets", tmp_path)
    assert result["csv"] == {"train": TINY_CSV_TRAIN_ROWS, "test": TINY_CSV_TEST_ROWS}
    assert result["csv_first_streamed"] == {"text": "alpha 0", "label": 0}
    assert result["parquet"] == result["converted"] == {"train": TINY_PARQUET_ROWS}


# -- standalone ----------------------------------------------------------------------------


def test_standalone_module_serves_on_the_given_ports():
    port, cdn_port = free_port(), free_port()
    command = [
        sys.executable,
        "-m",
        "tests.fakehub",
        "--port",
        str(port),
        "--cdn-port",
        str(cdn_port),
    ]
    with subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True) as server:
        try:
            lines = [server.stdout.readline().strip() for _ in range(2)]
            assert lines == [f"hub: http://127.0.0.1:{port}", f"cdn: http://127.0.0.1:{cdn_port}"]
            assert fetch(f"http://127.0.0.1:{port}{CONFIG}", "HEAD").status == 200
        finally:
            server.terminate()
