"""How long each real client waits to learn that the mirror cannot help, and what it reads.

Not a speed benchmark: for every failure case of a mirror that cannot help (deliberately
offline, upstream unreachable in four ways, upstream answering 5xx), each client is run
once against ``hubmirror serve`` on an empty data directory, and the script records the
wall time until the client gave up and the lines of its output that say why. Run from a
checkout after ``pip install -e '.[test]'``:

    python -m bench.failures                 # ~3 min; bench/results/failures-<time>.md
    python -m bench.failures --cases offline,refused --clients curl

To compare with an older version, run the same file from that checkout's tree with
``PYTHONPATH=<old checkout>/src`` (the clients only speak HTTP to ``hubmirror serve``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bench import machine
from tests.fakehub.hub import FakeHub
from tests.support.clients import client_env, hf_executable
from tests.support.ports import blackhole, free_port, wait_listening

MODEL = "acme/tiny-bert"
DATASET = "acme/tiny-csv"
PATIENCE = 420.0  # seconds before a client still waiting is counted as "still waiting"

CLIENTS: dict[str, list[str]] = {
    "hf_hub_download": [
        sys.executable,
        "-c",
        f"from huggingface_hub import hf_hub_download; hf_hub_download({MODEL!r}, 'config.json')",
    ],
    "snapshot_download": [
        sys.executable,
        "-c",
        f"from huggingface_hub import snapshot_download; snapshot_download({MODEL!r})",
    ],
    "hf download": [*hf_executable(), "download", MODEL, "config.json"],
    "from_pretrained": [
        sys.executable,
        "-c",
        f"from transformers import AutoConfig; AutoConfig.from_pretrained({MODEL!r})",
    ],
    "load_dataset": [
        sys.executable,
        "-c",
        f"from datasets import load_dataset; load_dataset({DATASET!r})",
    ],
    "curl": ["curl", "-sS", "--fail-with-body", "--noproxy", "*"],  # + URL; says the body
}


@dataclass(frozen=True)
class Case:
    name: str
    what: str
    upstream: Callable[[FakeHub], str]
    extra: tuple[str, ...] = ()
    faults: Callable[[FakeHub], None] = lambda hub: None


def _closed_port(hub: FakeHub) -> str:
    return f"http://127.0.0.1:{free_port()}"


_HELD = contextlib.ExitStack()  # blackhole ports stay blocked until the script ends


def _blackhole(hub: FakeHub) -> str:
    return _HELD.enter_context(blackhole())


CASES = [
    Case("offline", "`--offline`, nothing held", lambda hub: hub.url, ("--offline",)),
    Case("dns", "upstream name does not resolve", lambda hub: "http://hub.invalid"),
    Case("refused", "nothing listens on the upstream port", _closed_port),
    Case(
        "tls",
        "https to a server that speaks plain HTTP",
        lambda h: h.url.replace("http:", "https:"),
    ),
    Case("blackhole", "connections to upstream never complete (SYNs dropped)", _blackhole),
    Case(
        "silent",
        "upstream takes the connection and never answers",
        lambda hub: hub.url,
        faults=lambda hub: setattr(hub.faults, "hang", True),
    ),
    Case(
        "5xx",
        "upstream answers 503 (transient: retry-friendly on purpose)",
        lambda hub: hub.url,
        faults=lambda hub: setattr(hub.faults, "fail_status", 503),
    ),
]


@contextlib.contextmanager
def mirror(upstream: str, extra: tuple[str, ...], tmp: Path) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUBMIRROR_"))}
    argv = ["--port", str(port), "--data", str(tmp / "data"), "--upstream", upstream, *extra]
    with (tmp / "mirror.log").open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hubmirror", "serve", *argv], stderr=log, env=env
        )
        try:
            wait_listening(port, proc)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def run_client(client: str, endpoint: str, home: Path) -> tuple[float, int | None, str]:
    argv = list(CLIENTS[client])
    if client == "curl":
        argv.append(f"{endpoint}/{MODEL}/resolve/main/config.json")
    env = client_env(endpoint, home)
    env.pop("HF_HUB_DISABLE_PROGRESS_BARS", None)
    started = time.monotonic()
    try:
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=PATIENCE)
    except subprocess.TimeoutExpired:
        return time.monotonic() - started, None, f"still waiting after {PATIENCE:.0f} s"
    return time.monotonic() - started, proc.returncode, said(proc.stdout + proc.stderr)


def said(output: str) -> str:
    """The lines a person reads to learn why: the mirror's words, else the last line."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", output)  # the hf CLI colours its errors
    lines = [line.strip() for line in plain.splitlines() if line.strip()]
    ours = [line for line in lines if "mirror" in line.lower() or "upstream" in line.lower()]
    chosen = ours[-1] if ours else (lines[-1] if lines else "(nothing)")
    return chosen.replace("|", "\\|")[:300]


def measure(cases: list[Case], clients: list[str]) -> list[str]:
    rows = []
    for case in cases:
        with FakeHub() as hub, tempfile.TemporaryDirectory() as tmp:
            case.faults(hub)
            with mirror(case.upstream(hub), case.extra, Path(tmp)) as endpoint:
                for client in clients:
                    home = Path(tmp) / client.replace(" ", "_")
                    seconds, code, text = run_client(client, endpoint, home)
                    row = f"| {case.name} | {client} | {seconds:.1f} s | {code} | {text} |"
                    print(row, flush=True)
                    rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(c.name for c in CASES))
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args()
    cases = [c for c in CASES if c.name in args.cases.split(",")]
    rows = measure(cases, args.clients.split(","))
    header = [
        "# What a client sees when the mirror cannot help",
        "",
        f"Machine: {machine.describe()}",
        "",
        "| case | what |",
        "|---|---|",
        *(f"| {c.name} | {c.what} |" for c in cases),
        "",
        "| case | client | time to fail | exit | what it says |",
        "|---|---|---|---|---|",
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"failures-{time.strftime('%Y%m%d-%H%M%S')}.md"
    path.write_text("\n".join([*header, *rows]) + "\n")
    print(f"written: {path}")


if __name__ == "__main__":
    main()
