"""Prefilled mirrors know their Xet hashes before the first client asks.

huggingface_hub downloads files above 50 GB only through Xet, and hashing one in the
background takes minutes: so ``sync``, ``import`` and ``import-hf-cache`` hash the LFS
files they stored before they end. Git files (served plain, as on the Hub) are not hashed.
"""

from __future__ import annotations

import pytest

from tests.bundles.state import export, import_, sync
from tests.fakehub import TINY_BERT
from tests.hfcache.helpers import import_hf_cache, store_at, user_cache
from tests.hfcache.test_import import SNAPSHOT_BERT
from tests.xet.advertise_support import xet_hash_of_bytes

pytestmark = pytest.mark.timeout(180)

WEIGHTS = "model.safetensors"


def hashes_at(data, fakehub) -> tuple[str | None, str | None]:
    """The Xet hashes the index at ``data`` holds for tiny-bert's weights and config."""
    with store_at(data) as store:
        return tuple(
            store.index.xet.xet_hash_of(fakehub.file_sha256("model", TINY_BERT, "main", path))
            for path in (WEIGHTS, "config.json")
        )


def weights_hash(fakehub) -> str:
    return xet_hash_of_bytes(fakehub.file_bytes("model", TINY_BERT, "main", WEIGHTS))


def test_sync_hashes_the_lfs_files_it_stored(fakehub, tmp_path):
    sync(tmp_path / "data", fakehub.url, TINY_BERT)  # its fills may hash it meanwhile, or not

    assert hashes_at(tmp_path / "data", fakehub) == (weights_hash(fakehub), None)


def test_a_bundle_import_hashes_the_lfs_files_it_stored(fakehub, tmp_path):
    source, target, bundle = tmp_path / "source", tmp_path / "target", tmp_path / "b.bundle"
    sync(source, fakehub.url, TINY_BERT)
    export(source, TINY_BERT, "--to", str(bundle))

    import_(target, bundle)

    assert hashes_at(target, fakehub) == (weights_hash(fakehub), None)


def test_an_hf_cache_import_hashes_the_lfs_files_it_stored(fakehub, tmp_path):
    cache = user_cache(fakehub, tmp_path / "home", SNAPSHOT_BERT)

    import_hf_cache(cache, tmp_path / "data")

    assert hashes_at(tmp_path / "data", fakehub) == (weights_hash(fakehub), None)


def test_with_xet_serve_off_nothing_is_hashed(fakehub, tmp_path):
    done = sync(tmp_path / "data", fakehub.url, TINY_BERT, "--config", str(strip(tmp_path)))

    assert hashes_at(tmp_path / "data", fakehub) == (None, None)
    assert "Xet" not in done.stderr


def strip(tmp_path):
    config = tmp_path / "hubmirror.toml"
    config.write_text("xet_serve = false\n")
    return config
