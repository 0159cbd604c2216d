"""Deterministic large files, generated once per process into a temp dir.

Benchmarks ask for 64 MiB and 1 GiB LFS files. Holding them in memory would distort what is
measured, so each (size, seed) is written once to disk in 1 MiB blocks of seeded
pseudo-random bytes and served from there. The directory is removed when the process exits.
"""

import atexit
import hashlib
import random
import shutil
import tempfile
import threading
from pathlib import Path

BLOCK = 1024 * 1024

_lock = threading.Lock()
_cache: dict[tuple[int, int], tuple[Path, str]] = {}
_root: list[Path] = []


def large_file(size: int, seed: int = 0) -> tuple[Path, str]:
    """Path and sha256 of `size` deterministic bytes for `seed`, generating them if needed."""
    with _lock:
        if (size, seed) not in _cache:
            _cache[(size, seed)] = _generate(_cache_dir() / f"{size}-{seed}.bin", size, seed)
        return _cache[(size, seed)]


def _cache_dir() -> Path:
    """Create the temp dir on first use (not at import) and remove it at exit."""
    if not _root:
        _root.append(Path(tempfile.mkdtemp(prefix="fakehub-large-")))
        atexit.register(shutil.rmtree, _root[0], True)
    return _root[0]


def _generate(path: Path, size: int, seed: int) -> tuple[Path, str]:
    rng = random.Random(seed)
    digest = hashlib.sha256()
    with open(path, "wb") as handle:
        for start in range(0, size, BLOCK):
            block = rng.randbytes(min(BLOCK, size - start))
            digest.update(block)
            handle.write(block)
    return path, digest.hexdigest()
