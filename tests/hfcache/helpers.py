"""What the hf-cache tests share: a user's real cache, the import command, the store."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from hubmirror.runtime import Store, open_store
from hubmirror.settings import Settings
from tests.support.clients import REFERENCE_ORIGIN, run_client
from tests.support.commands import hubmirror

NO_SERVER = "http://127.0.0.1:9"  # nothing listens there: offline clients must not need it


def user_cache(fakehub, home: Path, code: str) -> Path:
    """Run ``code`` with real clients straight against the hub, as a user without the
    mirror would; returns the huggingface_hub cache it left behind."""
    env = {"HF_HUB_DISABLE_XET": "1", "HF_HUB_USER_AGENT_ORIGIN": REFERENCE_ORIGIN}
    run_client(code + "\nemit('done')\n", fakehub.url, home, env=env)
    return home / "hub"


def import_hf_cache(cache: Path, data: Path, *args: str, check: bool = True):
    return hubmirror("import-hf-cache", str(cache), "--data", str(data), *args, check=check)


@contextlib.contextmanager
def store_at(data: Path) -> Iterator[Store]:
    with open_store(Settings(data=str(data))) as store:
        yield store


def stored_digests(data: Path) -> list[str]:
    return sorted(p.name for p in (data / "blobs").rglob("*") if p.is_file())


def offline_client(code: str, home: Path, cache: Path | None = None):
    """A client process with ``HF_HUB_OFFLINE=1`` and no server at all."""
    env = {"HF_HUB_OFFLINE": "1"}
    if cache is not None:
        env["HF_HUB_CACHE"] = str(cache)
    return run_client(code, NO_SERVER, home, env=env, timeout=180)
