"""The client generations the compatibility suite runs, and one virtual environment for each.

A lab pins ``huggingface_hub`` (and the ``hf_xet`` of its time) and keeps it for years, so
the mirror must serve every released client, not only the one in the test venv. Each
generation names the route its ``hf_xet`` asks for a reconstruction (``None``: no hf_xet,
files come over plain HTTP):

- ``reconstruction``: hf_xet 0.1.x to 1.1.9;
- ``reconstructions``: hf_xet 1.1.10 to 1.2.0;
- ``v2/reconstructions``: hf_xet 1.3 on.

Environments are built once and kept under the system temp directory, named after a hash of
the pins and the interpreter: a test session (or a CI run on a fresh machine) builds the
missing ones, in parallel, with pip's own cache; later sessions reuse them. An environment
is built beside its final path and renamed into place once complete, so an interrupted or
concurrent build never leaves a half-installed one behind.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(tempfile.gettempdir()) / "hubmirror-compat-venvs"
BUILDS_AT_ONCE = 3  # pip is mostly waiting on the cache and the disk
PIP_TIMEOUT = 600  # seconds for one environment, a cold pip cache included


@dataclass(frozen=True)
class Generation:
    """One client release line: the pins of its environment (none: the test venv's own)
    and the CAS route its hf_xet asks for a reconstruction (``None``: no hf_xet)."""

    name: str
    pins: tuple[str, ...]
    route: str | None

    def versions(self) -> dict[str, str | None]:
        """What ``huggingface_hub`` and ``hf_xet`` the client must report."""
        if not self.pins:  # the test venv's own releases
            return {name: _installed(name) for name in ("huggingface_hub", "hf_xet")}
        pinned = dict(pin.split("==") for pin in self.pins)
        return {name: pinned.get(name) for name in ("huggingface_hub", "hf_xet")}


GENERATIONS = (
    Generation("hub-0.20", ("huggingface_hub==0.20.3",), None),
    Generation("hub-0.25", ("huggingface_hub==0.25.2",), None),
    Generation(
        "hub-0.30+xet-0.1.4", ("huggingface_hub==0.30.2", "hf_xet==0.1.4"), "reconstruction"
    ),
    Generation(
        "hub-0.30+xet-1.0.5", ("huggingface_hub==0.30.2", "hf_xet==1.0.5"), "reconstruction"
    ),
    Generation(
        "hub-0.34+xet-1.1.3", ("huggingface_hub==0.34.4", "hf_xet==1.1.3"), "reconstruction"
    ),
    Generation(
        "hub-0.34+xet-1.1.10", ("huggingface_hub==0.34.4", "hf_xet==1.1.10"), "reconstructions"
    ),
    Generation(
        "hub-0.36+xet-1.2.0", ("huggingface_hub==0.36.0", "hf_xet==1.2.0"), "reconstructions"
    ),
    Generation(
        "hub-1.20+xet-1.8.0", ("huggingface_hub==1.20.1", "hf_xet==1.8.0"), "v2/reconstructions"
    ),
    Generation("hub-current", (), "v2/reconstructions"),
)


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def environment(generation: Generation, root: Path = ROOT) -> Path:
    """The directory of the generation's environment (built or not)."""
    key = "\n".join((sys.version, *generation.pins)).encode()
    return root / f"{generation.name}-{hashlib.sha256(key).hexdigest()[:12]}"


def python_of(generation: Generation, root: Path = ROOT) -> str:
    """The interpreter that runs the generation's client, its environment built if missing."""
    if not generation.pins:
        return sys.executable
    final = environment(generation, root)
    if not (final / "READY").exists():
        _build(generation, final)
    return str(final / "bin" / "python")


def pythons(generations=GENERATIONS, root: Path = ROOT) -> dict[str, str]:
    """Every generation's interpreter by name, the missing environments built in parallel."""
    with ThreadPoolExecutor(BUILDS_AT_ONCE) as pool:
        found = pool.map(lambda generation: python_of(generation, root), generations)
        return dict(zip((g.name for g in generations), found, strict=True))


def _build(generation: Generation, final: Path) -> None:
    """A venv without pip of its own (the test venv's pip installs into it: faster), built
    in a scratch directory and renamed into place when complete."""
    final.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=final.parent))
    try:
        _run([sys.executable, "-m", "venv", "--without-pip", str(scratch)])
        python = scratch / "bin" / "python"
        pip = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check"]
        _run([*pip, "install", "--quiet", "--no-input", *generation.pins])
        (scratch / "READY").write_text("\n".join(generation.pins) + "\n")
        _move_into_place(scratch, final)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _move_into_place(scratch: Path, final: Path) -> None:
    """Renaming a venv keeps ``bin/python`` working (it finds ``pyvenv.cfg`` beside it);
    only console scripts name the old path, and the suite runs none."""
    if final.exists():  # half-built by an interrupted run, or built meanwhile by another
        if (final / "READY").exists():
            return
        shutil.rmtree(final, ignore_errors=True)
    try:
        os.rename(scratch, final)
    except OSError:
        if not (final / "READY").exists():
            raise


def _run(argv: list[str]) -> None:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    proc = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=PIP_TIMEOUT, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} exited with {proc.returncode}\n{proc.stdout[-3000:]}\n"
            f"{proc.stderr[-3000:]}"
        )
