"""Run the real Hugging Face clients against an endpoint, each in its own process.

huggingface_hub reads ``HF_ENDPOINT``, ``HF_HOME`` and the token variables once, at import, so
the only faithful way to point a client at the mirror is a fresh interpreter with a prepared
environment. Every helper here builds that environment from scratch: variables of the developer's
own shell (``HF_TOKEN``, ``HF_HUB_OFFLINE``, proxies, ...) never leak into a test.

A snippet given to :func:`run_client` prints one JSON line last; that value is returned. The
prelude gives it two helpers: ``emit(value)`` prints the JSON line, and ``outcome(fn, ...)``
calls ``fn`` and returns ``"ok"`` or the name of the exception it raised.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests import fakehub
from tests.support import system

PRELUDE = """\
import json as _json


def emit(value):
    print(_json.dumps(value), flush=True)


def outcome(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the test compares exception names
        return type(exc).__name__
    return "ok"


"""

# Prefixes of variables that change what the clients do; none may come from the outer shell.
_DROPPED_PREFIXES = ("HF_", "HUGGING_FACE", "HUGGINGFACE", "TRANSFORMERS_", "DATASETS_")
_PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


class ClientFailed(AssertionError):
    """A client process exited non-zero or printed no JSON; the message carries its output."""


def client_env(
    endpoint: str, home: Path, token: str | None = None, env: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment of one client process: quiet, offline from huggingface.co, one token."""
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_DROPPED_PREFIXES) and key.lower() not in _PROXY_VARS
    }
    home.mkdir(parents=True, exist_ok=True)
    base.update(
        HF_ENDPOINT=endpoint,
        HF_HOME=str(home),
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_UPDATE_DOWNLOAD_COUNTS="0",
        HF_HUB_DISABLE_UPDATE_CHECK="1",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        DISABLE_SAFETENSORS_CONVERSION="1",
        DO_NOT_TRACK="1",
        NO_PROXY="*",
        no_proxy="*",
        PYTHONUNBUFFERED="1",
        PYTHONWARNINGS="ignore",
    )
    if token is None:
        # No implicit token: the token file under a fresh HF_HOME does not exist either.
        base["HF_HUB_DISABLE_IMPLICIT_TOKEN"] = "1"
    else:
        base["HF_TOKEN"] = token
    base.update(env or {})
    return base


def _describe(proc: subprocess.CompletedProcess, what: str) -> str:
    out = proc.stdout if isinstance(proc.stdout, str) else proc.stdout.decode(errors="replace")
    err = proc.stderr if isinstance(proc.stderr, str) else proc.stderr.decode(errors="replace")
    return (
        f"{what} exited with {proc.returncode}\n"
        f"--- stdout (tail) ---\n{out[-4000:]}\n--- stderr (tail) ---\n{err[-8000:]}"
    )


def run_client(
    code: str,
    endpoint: str,
    home: Path,
    token: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    python: str = sys.executable,
):
    """Run a Python snippet in a fresh interpreter and return the JSON value of its last line.

    ``python``: another interpreter (a virtual environment with other client releases)."""
    script = PRELUDE + textwrap.dedent(code)
    proc = _run_in(home, [python, "-c", script], endpoint, token, env, timeout)
    if proc.returncode != 0:
        raise ClientFailed(_describe(proc, "client snippet"))
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    try:
        return json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        raise ClientFailed(_describe(proc, "client snippet printed no JSON and")) from None


def hf_executable() -> list[str]:
    """The `hf` console script of the interpreter running the tests."""
    script = Path(sysconfig.get_path("scripts")) / "hf"
    if script.exists():
        return [str(script)]
    found = shutil.which("hf")
    if found:
        return [found]
    return [sys.executable, "-c", "from huggingface_hub.cli.hf import main; main()"]


def run_cli(
    args: list[str],
    endpoint: str,
    home: Path,
    token: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    check: bool = True,
) -> subprocess.CompletedProcess:
    """Run the `hf` command line; with ``check`` a non-zero exit raises with its output."""
    proc = _run_in(home, [*hf_executable(), *args], endpoint, token, env, timeout)
    if check and proc.returncode != 0:
        raise ClientFailed(_describe(proc, f"hf {' '.join(args)}"))
    return proc


def curl(
    args: list[str], timeout: float = 60, check: bool = True
) -> subprocess.CompletedProcess[bytes]:
    """Run curl (never through a proxy); stdout is bytes. ``check`` raises on a non-zero exit."""
    proc = subprocess.run(
        [
            system.require("curl"),
            "--silent",
            "--show-error",
            "--noproxy",
            "*",
            "--max-time",
            str(timeout),
            *args,
        ],
        capture_output=True,
        timeout=timeout + 10,
        check=False,
    )
    if check and proc.returncode != 0:
        raise ClientFailed(_describe(proc, f"curl {' '.join(args)}"))
    return proc


@dataclass(frozen=True)
class CurlResponse:
    """One HTTP exchange seen by curl: the final status, its headers (lower-case) and body."""

    status: int
    headers: dict[str, str]
    header_lines: list[tuple[str, str]]
    body: bytes

    def header_names(self) -> set[str]:
        return {name for name, _ in self.header_lines}


def curl_fetch(
    url: str, *args: str, method: str | None = None, timeout: float = 60
) -> CurlResponse:
    """Fetch ``url`` with curl and parse status, headers and body of the (last) response.

    No ``-f``: a 4xx is returned, not raised, so tests can look at error answers too.
    """
    extra = ["--head"] if method == "HEAD" else (["-X", method] if method else [])
    proc = curl([*extra, "--include", *args, url], timeout=timeout)
    raw = proc.stdout
    # With --include, header blocks (one per 1xx/redirect hop) precede the body.
    while True:
        head, sep, rest = raw.partition(b"\r\n\r\n")
        if not sep:
            head, rest = raw, b""
        status_line, *lines = head.decode("iso-8859-1").split("\r\n")
        status = int(status_line.split()[1])
        if 100 <= status < 200 and rest.startswith(b"HTTP/"):
            raw = rest
            continue
        break
    header_lines = []
    for line in lines:
        name, _, value = line.partition(":")
        header_lines.append((name.strip().lower(), value.strip()))
    return CurlResponse(status, dict(header_lines), header_lines, rest)


# --- The truth: what the fake hub holds -------------------------------------------------

MODEL = "model"
DATASET = "dataset"

TINY_BERT = fakehub.TINY_BERT
MANY_FILES = fakehub.MANY_FILES
GATED = fakehub.GATED_MODEL
PRIVATE = fakehub.PRIVATE_MODEL
TINY_CSV = fakehub.TINY_CSV
TINY_PARQUET = fakehub.TINY_PARQUET

# User-agent origin of client runs that ask the fake hub directly, for a reference answer.
REFERENCE_ORIGIN = "e2e-reference"

OWNER_TOKEN = fakehub.OWNER_TOKEN
USER_TOKEN = fakehub.USER_TOKEN


def hub_tree(hub, repo_type: str, repo_id: str, revision: str, token: str = OWNER_TOKEN) -> list:
    """Every file entry of a repo at a revision, asked of the fake hub itself (the truth).

    Uses plain urllib, so these requests do not look like they came from a client.
    """
    api = f"{repo_type}s"
    quoted = urllib.parse.quote(revision, safe="")
    url = f"{hub.url}/api/{api}/{repo_id}/tree/{quoted}?recursive=true&expand=false"
    entries: list = []
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while url:
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        with opener.open(request, timeout=30) as response:
            entries.extend(json.loads(response.read()))
            url = _next_link(response.headers.get("Link", ""))
    return [entry for entry in entries if entry["type"] == "file"]


def _next_link(link_header: str) -> str | None:
    for part in link_header.split(","):
        if 'rel="next"' in part:
            return part.split(";")[0].strip().strip("<>")
    return None


def hub_files(hub, repo_type: str, repo_id: str, revision: str) -> set[str]:
    return {entry["path"] for entry in hub_tree(hub, repo_type, repo_id, revision)}


def git_blob_sha1(data: bytes) -> str:
    """The git object id of a file: what the Hub uses as ETag and blob name of non-LFS files."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def blob_of(snapshot_file: Path | str) -> Path:
    """The cache blob that a snapshot entry (a symlink in the HF cache) points to."""
    return Path(snapshot_file).resolve()


def _run_in(home, argv, endpoint, token, env, timeout) -> subprocess.CompletedProcess:
    """One client process with the client environment, run from its HF_HOME."""
    return subprocess.run(
        argv,
        env=client_env(endpoint, home, token, env),
        cwd=home,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
