"""What a real client gets from the mirror through Xet against plain HTTP, for a warm file.

    python -m bench.xetserve                      # 1 GiB, 3 rounds
    python -m bench.xetserve --size 128 --rounds 1

One `hubmirror serve` with default settings (xet_serve on, access log on: it counts the
xorb requests) in front of the fake hub, primed with one LFS file and waited until it
advertises its Xet hash. Each round, in rotated order, a fresh client process with an
empty HF_HOME downloads the file: `hf_hub_download` with hf_xet on (xet), the same with
`HF_HUB_DISABLE_XET=1` (plain), and `curl -o /dev/null` of the resolve URL (the wire-speed
reference). The client times its own download call; an untimed first pass checks each
config's sha256 and that only the xet config reached the mirror's CAS.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from bench import machine
from bench.hfclient import HF_ENV
from bench.load import download as curl_batch
from bench.procs import Child, free_port, start_server, tree_pids
from bench.report import RESULTS
from bench.servers import MIRROR_ENV, FakeUpstream, start_fakehub
from bench.setup import wait_hashed
from bench.stats import paired_ratio, rotated, summary

REPO = "bench/large"
PATH = "model.bin"
CONFIGS = ["xet", "plain", "curl"]
TIMEOUT = 900.0
CLIENT_ENV = {k: v for k, v in HF_ENV.items() if k != "HF_HUB_DISABLE_XET"}  # set per config
# The child proves which path it is on before it starts the clock, times only the call, and
# hashes the file afterwards when asked (the untimed check pass).
CLIENT = """
import hashlib, json, os, sys, time
from huggingface_hub import constants, hf_hub_download
from huggingface_hub.utils._runtime import is_xet_available
args = json.loads(sys.argv[1])
xet = is_xet_available() and not constants.HF_HUB_DISABLE_XET
assert xet == args["xet"], f"hf_xet on: {xet}, wanted {args['xet']}"
start = time.monotonic()
path = hf_hub_download(args["repo"], args["path"])
seconds = time.monotonic() - start
digest = None
if args["check"]:
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            h.update(block)
    digest = h.hexdigest()
print(json.dumps({"seconds": seconds, "size": os.path.getsize(path), "sha256": digest}))
"""
CURL_FORMAT = "%{http_code} %{size_download} %{time_total}"
ACCESS = re.compile(r"(GET|HEAD|POST) (\S+) (\d{3}) (\d+) (\S+) ([\d.]+)ms")


def run_child(argv: list[str], env: dict, scratch: Path) -> tuple[int, str, str, dict]:
    """Run to the end; (exit code, stdout, stderr, its own rusage: peak RSS MiB, CPU s).
    os.wait4 reaps this one child, so the rusage is its alone (RUSAGE_CHILDREN is a max
    over every child ever waited for)."""
    out, err = scratch / "child.out", scratch / "child.err"
    with open(out, "wb") as o, open(err, "wb") as e:
        proc = subprocess.Popen(argv, stdout=o, stderr=e, stdin=subprocess.DEVNULL, env=env)
    timer = threading.Timer(TIMEOUT, proc.kill)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    use = {"rss_mib": usage.ru_maxrss / 1024, "cpu_s": usage.ru_utime + usage.ru_stime}
    return proc.returncode, out.read_text(), err.read_text(), use


def client_env(endpoint: str, home: Path, xet: bool) -> dict:
    """The shell's environment without any HF_ variable (no HF_TOKEN), then ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(CLIENT_ENV, HF_ENDPOINT=endpoint, HF_HOME=str(home))
    env["HF_HUB_DISABLE_XET"] = "0" if xet else "1"
    return env


def hf_download(endpoint: str, scratch: Path, xet: bool, check: bool) -> dict:
    """One hf_hub_download in a fresh process with an empty HF_HOME, which is then removed."""
    home = Path(tempfile.mkdtemp(prefix="hf-home-", dir=scratch))
    args = json.dumps({"repo": REPO, "path": PATH, "xet": xet, "check": check})
    try:
        code, out, err, use = run_child(
            [sys.executable, "-c", CLIENT, args], client_env(endpoint, home, xet), scratch
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if code != 0:
        raise RuntimeError(f"hf_hub_download (xet={xet}) failed: {err[-1500:]}")
    return {**json.loads(out.strip().splitlines()[-1]), **use}


def curl_download(url: str, scratch: Path) -> dict:
    """curl -o /dev/null; its own time_total (process start-up not counted)."""
    argv = ["curl", "-s", "-o", "/dev/null", "-w", CURL_FORMAT, "--max-time", str(TIMEOUT), url]
    code, out, err, use = run_child(argv, dict(os.environ), scratch)
    status, size, total = out.split()
    if code != 0 or status != "200":
        raise RuntimeError(f"curl {url}: exit {code}, status {status}: {err[-500:]}")
    return {"seconds": float(total), "size": int(size), "sha256": None, **use}


def curl_sha256(url: str) -> str:
    """The resolve URL's bytes hashed, untimed: curl itself writes only to /dev/null."""
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=TIMEOUT) as answer:
        while block := answer.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def metrics(url: str) -> dict[str, float]:
    """Mirror-wide counters: /xet-cas/ requests (route xet), resolve requests, body bytes."""
    found = {"xet_requests": 0.0, "resolve_requests": 0.0, "served_bytes": 0.0}
    with urllib.request.urlopen(f"{url}/metrics", timeout=30) as answer:
        for line in answer.read().decode().splitlines():
            name, _, value = line.rpartition(" ")
            if name.startswith('hubmirror_requests_total{route="xet"'):
                found["xet_requests"] += float(value)
            elif name.startswith('hubmirror_requests_total{route="resolve"'):
                found["resolve_requests"] += float(value)
            elif name.startswith("hubmirror_served_bytes_total"):
                found["served_bytes"] += float(value)
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the mirror's process tree so far."""
    total = 0
    for each in tree_pids(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def access_lines(log: Path, offset: int) -> list[tuple[str, str, int, int, float]]:
    """The mirror's access-log lines after `offset`: (method, path, status, bytes, ms)."""
    with open(log, "rb") as handle:
        handle.seek(offset)
        text = handle.read().decode(errors="replace")
    found = []
    for match in ACCESS.finditer(text):
        method, path, status, sent, _, ms = match.groups()
        found.append((method, path.split("?")[0], int(status), int(sent), float(ms)))
    return found


def one_download(mirror: Child, config: str, scratch: Path, check: bool) -> dict:
    """One download with what the mirror saw meanwhile (metric deltas, access log)."""
    url = f"{mirror.url}/{REPO}/resolve/main/{PATH}"
    os.sync()  # the last client's written file is not still being flushed during this one
    before, cpu, offset = (
        metrics(mirror.url),
        cpu_seconds(mirror.pid),
        mirror.log_path.stat().st_size,
    )
    if config == "curl":
        result = curl_download(url, scratch)
    else:
        result = hf_download(mirror.url, scratch, config == "xet", check)
    result["mirror_cpu_s"] = cpu_seconds(mirror.pid) - cpu
    after = metrics(mirror.url)
    result.update({k: after[k] - before[k] for k in after})
    result["requests"] = access_lines(mirror.log_path, offset)
    return result


def checked(result: dict, config: str, size: int) -> dict:
    """Raise unless the bytes are whole and the path is the one the config names."""
    if result["size"] != size:
        raise RuntimeError(f"{config}: {result['size']} bytes, expected {size}")
    if (config == "xet") != (result["xet_requests"] > 0):
        raise RuntimeError(f"{config}: {result['xet_requests']:.0f} /xet-cas/ requests")
    if config == "xet" and any(r[0] == "GET" and "/resolve/" in r[1] for r in result["requests"]):
        raise RuntimeError("xet: the client also sent a plain GET of the file")
    return result


def xorb_summary(result: dict) -> str:
    """Xorb GETs of one Xet download: count, sizes and slowest answer."""
    xorbs = [r for r in result["requests"] if "/xet-cas/xorbs/" in r[1]]
    if not xorbs:
        return "-"
    sizes = [r[3] / 2**20 for r in xorbs]
    return (
        f"{len(xorbs)} xorb GETs, {min(sizes):.1f}–{max(sizes):.1f} MiB each, "
        f"{sum(sizes):.0f} MiB, slowest {max(r[4] for r in xorbs) / 1000:.2f} s"
    )


def start_mirror(scratch: Path, upstream: str) -> Child:
    """`hubmirror serve` with default settings: MIRROR_ENV's access log and info level put
    back (as shipped), so the log lists each xorb request with its size and duration."""
    port = free_port()
    argv = ["hubmirror", "serve", "--port", str(port), "--data", str(scratch / "mirror")]
    argv += ["--upstream", upstream]
    env = {**MIRROR_ENV, "HUBMIRROR_ACCESS_LOG": "true", "HUBMIRROR_LOG_LEVEL": "info"}
    return start_server("mirror", argv, port, scratch, env=env)


def prime(mirror: Child, hub: FakeUpstream) -> None:
    """The mirror stores the file (one curl) and hashes it for Xet before any timing."""
    url = f"{mirror.url}/{REPO}/resolve/main/{PATH}"
    batch = curl_batch(url, 1, TIMEOUT)
    if not batch.ok or batch.bytes != hub.files[0].size:
        raise RuntimeError(f"priming the mirror got {batch.bytes} bytes")
    wait_hashed(url, timeout=TIMEOUT)


def check_pass(mirror: Child, scratch: Path, size: int, sha256: str) -> None:
    """Untimed: each config once, its bytes hashed, its path checked (also a warm-up)."""
    for config in CONFIGS:
        result = checked(one_download(mirror, config, scratch, check=True), config, size)
        if config == "curl":
            result["sha256"] = curl_sha256(f"{mirror.url}/{REPO}/resolve/main/{PATH}")
        if result["sha256"] != sha256:
            raise RuntimeError(f"{config}: sha256 {result['sha256']}, expected {sha256}")
        print(
            f"check {config}: sha256 ok, {result['xet_requests']:.0f} /xet-cas/ requests, "
            f"{size / result['seconds'] / 1e6:.0f} MB/s, client {result['rss_mib']:.0f} MiB"
        )


def run_rounds(mirror: Child, scratch: Path, size: int, rounds: int) -> dict[str, list[dict]]:
    results: dict[str, list[dict]] = {config: [] for config in CONFIGS}
    for round_no in range(rounds):
        for config in rotated(CONFIGS, round_no):
            result = checked(one_download(mirror, config, scratch, check=False), config, size)
            results[config].append(result)
            print(
                f"round {round_no + 1} {config}: {size / result['seconds'] / 1e6:.0f} MB/s, "
                f"client {result['rss_mib']:.0f} MiB",
                flush=True,
            )
    return results


def _cell(values: list[float], fmt: str) -> str:
    stats = summary(values)
    spread = "" if stats["n"] < 2 else f" ({fmt.format(stats['min'])}–{fmt.format(stats['max'])})"
    return fmt.format(stats["median"]) + spread


def table(size: int, results: dict[str, list[dict]]) -> list[str]:
    rows = [
        "| config | MB/s | s | client peak RSS MiB | client CPU s | mirror CPU s "
        "| mirror requests: /xet-cas/, resolve |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    names = {"xet": "hf_hub_download, hf_xet", "plain": "hf_hub_download, plain GET"}
    for config, runs in results.items():
        last = runs[-1]
        rows.append(
            f"| {names.get(config, 'curl -o /dev/null')} "
            f"| {_cell([size / r['seconds'] / 1e6 for r in runs], '{:.0f}')} "
            f"| {_cell([r['seconds'] for r in runs], '{:.2f}')} "
            f"| {_cell([r['rss_mib'] for r in runs], '{:.0f}')} "
            f"| {_cell([r['cpu_s'] for r in runs], '{:.2f}')} "
            f"| {_cell([r['mirror_cpu_s'] for r in runs], '{:.2f}')} "
            f"| {last['xet_requests']:.0f}, {last['resolve_requests']:.0f} |"
        )
    return rows


def ratio_lines(results: dict[str, list[dict]]) -> list[str]:
    """Paired medians of throughput (each round's value ÷ the same round's other)."""
    rate = {c: [1 / r["seconds"] for r in runs] for c, runs in results.items()}
    pairs = [("xet", "plain"), ("plain", "curl"), ("xet", "curl")]
    return [f"- {a} ÷ {b}: {paired_ratio(rate[a], rate[b]):.2f}×" for a, b in pairs]


def document(size: int, args, results: dict, facts: dict) -> str:
    xorbs = [f"- round {i + 1}: {xorb_summary(r)}" for i, r in enumerate(results["xet"])]
    return "\n".join(
        [
            f"# xetserve — {facts['stamp']}",
            "",
            f"`{facts['command']}`: {size} bytes ({args.size} MiB), warm in the mirror, "
            f"{args.rounds} round(s), fresh client process and HF_HOME per download. "
            f"Scratch (fake hub file, mirror data, each HF_HOME): {facts['scratch']}.",
            "",
            *table(size, results),
            "",
            "Cells: median (min–max) over rounds. Ratios of MB/s, paired medians:",
            "",
            *ratio_lines(results),
            "",
            "What the mirror's access log shows of each Xet download:",
            "",
            *xorbs,
            "",
            "## Machine",
            "",
            *[f"- {k}: {v}" for k, v in facts["machine"].items()],
            f"- load_average after: {facts['load_after']}",
            "",
            f"Wall time of the run: {facts['wall']:.0f} s.",
            "",
        ]
    )


def filesystem(path: Path) -> str:
    """The type of the filesystem holding `path` (clients write their download there)."""
    best, kind = "", "?"
    for line in Path("/proc/mounts").read_text().splitlines():
        mount, fstype = line.split()[1:3]
        if str(path).startswith(mount) and len(mount) > len(best):
            best, kind = mount, fstype
    return f"{kind} at {best}"


def write(text: str, stamp: str) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"xetserve-{stamp}.md"
    path.write_text(text)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.xetserve", description=__doc__)
    parser.add_argument("--size", type=int, default=1024, help="MiB (default 1024)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the scratch dir (logs)")
    args = parser.parse_args(argv)
    size, started = args.size * 1024 * 1024, time.monotonic()
    facts = {"machine": {**machine.describe(), "hf_xet": machine._version("hf_xet")}}
    scratch = Path(tempfile.mkdtemp(prefix="hubmirror-xetserve-"))
    facts["scratch"] = f"{scratch} ({filesystem(scratch)})"
    print(f"generating {args.size} MiB upstream file in {scratch}...", flush=True)
    hub = start_fakehub(scratch, [f"model:{REPO}:{PATH}:{size}:1"], 0)
    mirror = None
    try:
        mirror = start_mirror(scratch, hub.url)
        prime(mirror, hub)
        check_pass(mirror, scratch, size, hub.files[0].sha256)
        results = run_rounds(mirror, scratch, size, args.rounds)
    finally:
        for child in (mirror, hub):
            if child is not None:
                child.stop()
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    facts.update(stamp=time.strftime("%Y%m%d-%H%M%S"), wall=time.monotonic() - started)
    facts.update(
        load_after=os.getloadavg(),
        command=" ".join(["python -m bench.xetserve", *(argv or sys.argv[1:])]),
    )
    text = document(size, args, results, facts)
    print(text)
    print(f"written to {write(text, facts['stamp'])}")


if __name__ == "__main__":
    main()
