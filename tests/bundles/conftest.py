"""A source mirror filled by ``hubmirror sync`` and real clients, and its exported bundles.

Filling it and running the clients takes seconds, so one source serves the whole
package; every test imports into a data directory of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest

from hubmirror.settings import Settings
from tests.support.clients import DATASET, MODEL, TINY_BERT, TINY_CSV, run_client
from tests.support.http import Answer, request
from tests.support.mirror import MirrorThread

from .state import export, sync

# What the real clients do with a mirror; the JSON they emit is compared between mirrors.
CLIENTS = """
import dataclasses, hashlib, json, os
import datasets
from huggingface_hub import HfApi, hf_hub_download, snapshot_download


def digests(root):
    found = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, root)] = hashlib.sha256(handle.read()).hexdigest()
    return found


def plain(value):
    return json.loads(json.dumps(dataclasses.asdict(value), default=str, sort_keys=True))


api = HfApi()
bert = snapshot_download("acme/tiny-bert")
csv_root = snapshot_download("acme/tiny-csv", repo_type="dataset")
config = hf_hub_download("acme/tiny-bert", "config.json")
rows = datasets.load_dataset("acme/tiny-csv")
emit({
    "model_info": plain(api.model_info("acme/tiny-bert")),
    "dataset_info": plain(api.dataset_info("acme/tiny-csv")),
    "model_files": api.list_repo_files("acme/tiny-bert"),
    "dataset_files": api.list_repo_files("acme/tiny-csv", repo_type="dataset"),
    "model_snapshot": [os.path.basename(bert), digests(bert)],
    "dataset_snapshot": [os.path.basename(csv_root), digests(csv_root)],
    "config": digests(os.path.dirname(config))["config.json"],
    "rows": {split: rows[split].to_list() for split in rows},
})
"""

SPECS = (TINY_BERT, f"dataset:{TINY_CSV}")


@dataclass(frozen=True)
class Source:
    mirror: MirrorThread
    clients: dict  # what the clients saw through the source mirror
    answers: dict[str, tuple]  # raw HTTP answers of the source mirror, by request
    bundle_dir: Path
    bundle_tar: Path

    @property
    def data_dir(self) -> Path:
        return self.mirror.data_dir


def raw_requests(hub) -> dict[str, tuple[str, str, dict, bytes | None]]:
    """The Hub API and file requests clients make, by name: (method, target, headers, body)."""
    bert = hub.commit_of(MODEL, TINY_BERT, "main")
    csv = hub.commit_of(DATASET, TINY_CSV, "main")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    paths = urlencode([("paths", "config.json"), ("paths", "nested"), ("expand", "false")])
    return {
        "model info": ("GET", f"/api/models/{TINY_BERT}", {}, None),
        "revision": ("GET", f"/api/models/{TINY_BERT}/revision/main", {}, None),
        "tree": (
            "GET",
            f"/api/models/{TINY_BERT}/tree/{bert}?recursive=true&expand=false",
            {},
            None,
        ),
        "folder": ("GET", f"/api/models/{TINY_BERT}/tree/main/nested?recursive=false", {}, None),
        "paths-info": ("POST", f"/api/models/{TINY_BERT}/paths-info/{bert}", form, paths.encode()),
        "head": ("HEAD", f"/{TINY_BERT}/resolve/main/config.json", {}, None),
        "get": ("GET", f"/{TINY_BERT}/resolve/main/model.safetensors", {}, None),
        "range": (
            "GET",
            f"/{TINY_BERT}/resolve/{bert}/model.safetensors",
            {"Range": "bytes=8-99"},
            None,
        ),
        "missing": ("HEAD", f"/{TINY_BERT}/resolve/main/no-such-file.json", {}, None),
        "dataset info": ("GET", f"/api/datasets/{TINY_CSV}/revision/main", {}, None),
        "dataset tree": ("GET", f"/api/datasets/{TINY_CSV}/tree/{csv}/data?expand=false", {}, None),
        "dataset file": ("GET", f"/datasets/{TINY_CSV}/resolve/main/data/train.csv", {}, None),
    }


def raw_answers(url: str, hub) -> dict[str, tuple]:
    """Status, headers (all but Date) and body of each request, as a mirror answers it."""
    answers = {}
    for name, (method, target, headers, body) in raw_requests(hub).items():
        answers[name] = _comparable(request(method, url + target, headers=headers, body=body))
    return answers


def _comparable(answer: Answer) -> tuple:
    headers = sorted((k.lower(), v) for k, v in answer.headers.items() if k.lower() != "date")
    return answer.status, headers, answer.body


@pytest.fixture(scope="package")
def source(_fakehub_session, tmp_path_factory) -> Source:
    hub = _fakehub_session
    hub.reset()
    root = tmp_path_factory.mktemp("bundle-source")
    settings = Settings(
        data=str(root / "data"),
        upstream=(hub.url,),
        port=0,
        upstream_timeout=5.0,
        xet_serve=False,  # byte-for-byte answers: Xet hashes are computed later, in the background
    )
    mirror = MirrorThread(settings).start()
    try:
        sync(mirror.data_dir, hub.url, *SPECS)
        clients = run_client(CLIENTS, mirror.url, root / "home", timeout=150)
        answers = raw_answers(mirror.url, hub)
        for target in (root / "bundle", root / "bundle.tar"):
            export(mirror.data_dir, *SPECS, "--to", str(target))
        yield Source(mirror, clients, answers, root / "bundle", root / "bundle.tar")
    finally:
        mirror.stop()
