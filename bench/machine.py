"""What machine and which versions produced a result file."""

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from bench.servers import REPO_ROOT, nginx_version, olah_version


def describe() -> dict:
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(_meminfo_kib("MemTotal") / 1024**2, 1),
        "kernel": platform.release(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "aiohttp": _version("aiohttp"),
        "huggingface_hub": _version("huggingface_hub"),
        "hubmirror": _version("hubmirror"),
        "nginx": nginx_version(),
        "olah": olah_version(),
        "curl": _first_line(["curl", "--version"]),
        "ab": _first_line(["ab", "-V"]),
        "git_commit": _first_line(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"]),
        "load_average": os.getloadavg(),
    }


def _meminfo_kib(key: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def _first_line(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "absent"
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else ""
