"""How each contender is started: the fake upstream, the mirror, olah and nginx.

Every one is a separate process on a free loopback port, with its own data directory under
the run's scratch dir, so cold runs can start from an empty cache by starting a new process.
"""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.procs import Child, free_port, spawn, start_server, wait_for_port

REPO_ROOT = Path(__file__).resolve().parent.parent
OLAH_VENV = Path(__file__).resolve().parent / ".venv-olah"
OLAH_VERSION = "0.5.4"
MIRROR_ENV = {"HUBMIRROR_ACCESS_LOG": "false", "HUBMIRROR_LOG_LEVEL": "warning"}


@dataclass(frozen=True)
class LargeFile:
    repo_type: str
    repo_id: str
    path: str
    size: int
    sha256: str
    disk_path: Path

    @property
    def url_path(self) -> str:
        return f"/{self.repo_id}/resolve/main/{self.path}"


class FakeUpstream:
    """`python -m tests.fakehub` with its control port: log totals and fault switches."""

    def __init__(self, child: Child, cdn_url: str, control: str, files: list[LargeFile]):
        self.child, self.cdn_url, self.control, self.files = child, cdn_url, control, files

    @property
    def url(self) -> str:
        return self.child.url

    def set_faults(self, **faults) -> None:
        _post_json(f"{self.control}/_faults", faults)

    def clear_log(self) -> None:
        _post_json(f"{self.control}/_log/clear", {})

    def log_totals(self, contains: str) -> dict:
        with urllib.request.urlopen(f"{self.control}/_log?contains={contains}") as answer:
            return json.load(answer)

    def stop(self) -> None:
        self.child.stop()


def _post_json(url: str, body: dict) -> dict:
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)


def start_fakehub(log_dir: Path, large: list[str], many_files: int) -> FakeUpstream:
    """Start the hub (Xet off: the clients here speak plain LFS) and read what it printed."""
    port = free_port()
    argv = [sys.executable, "-m", "tests.fakehub", "--port", str(port), "--no-xet"]
    argv += ["--control-port", "0", "--many-files-repo", str(many_files)]
    for spec in large:
        argv += ["--large-file", spec]
    proc, log_path = spawn("fakehub", argv, log_dir, cwd=REPO_ROOT)
    child = Child("fakehub", proc, port, log_path)
    lines = _wait_for_line(log_path, "control: ", proc, timeout=600)
    files = [_large_line(line) for line in lines if line.startswith("large: ")]
    cdn = next(line.split(" ", 1)[1] for line in lines if line.startswith("cdn: "))
    control = lines[-1].split(" ", 1)[1]
    wait_for_port(port, proc)
    return FakeUpstream(child, cdn, control, files)


def _large_line(line: str) -> LargeFile:
    _, repo_type, repo_id, path, size, sha256, disk = line.split(" ", 6)
    return LargeFile(repo_type, repo_id, path, int(size), sha256, Path(disk))


def _wait_for_line(log_path: Path, prefix: str, proc, timeout: float) -> list[str]:
    """Lines of the log up to the first starting with `prefix` (large files take a while)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = log_path.read_text().splitlines()
        if any(line.startswith(prefix) for line in lines):
            return lines
        if proc.poll() is not None:
            raise RuntimeError(f"fake hub exited: {log_path.read_text()[-2000:]}")
        time.sleep(0.2)
    raise RuntimeError("fake hub did not start in time")


def mirror_flags() -> set[str]:
    """The flags `hubmirror serve` has today (the mirror grows them while we measure)."""
    out = subprocess.run(["hubmirror", "serve", "--help"], capture_output=True, text=True)
    return {word.rstrip(",") for word in out.stdout.split() if word.startswith("--")}


def start_mirror(log_dir: Path, data: Path, upstream: str, workers: int = 0) -> Child:
    port = free_port()
    argv = ["hubmirror", "serve", "--port", str(port), "--data", str(data)]
    argv += ["--upstream", upstream]
    if workers and "--workers" in mirror_flags():
        argv += ["--workers", str(workers)]
    child = start_server("mirror", argv, port, log_dir, env=MIRROR_ENV)
    child.extra["argv"] = argv
    return child


def ensure_olah() -> Path | None:
    """olah-cli from bench/.venv-olah, creating the venv on first use; None if it can't be had."""
    cli = OLAH_VENV / "bin" / "olah-cli"
    if cli.exists():
        return cli
    try:
        subprocess.run([sys.executable, "-m", "venv", str(OLAH_VENV)], check=True)
        pip = [str(OLAH_VENV / "bin" / "pip"), "install", "-q", f"olah=={OLAH_VERSION}"]
        subprocess.run(pip, check=True, timeout=600)
    except (subprocess.SubprocessError, OSError) as error:
        print(f"olah unavailable: {error}", file=sys.stderr)
        return None
    return cli if cli.exists() else None


def start_olah(log_dir: Path, repos: Path, hub: FakeUpstream) -> Child:
    """olah pointed at the fake hub (http, hub and CDN ports), caching under `repos`."""
    cli = ensure_olah()
    port = free_port()
    here = f"127.0.0.1:{port}"
    argv = [str(cli), "--host", "127.0.0.1", "--port", str(port), "--hf-scheme", "http"]
    argv += ["--hf-netloc", hub.url.split("//")[1], "--hf-lfs-netloc", hub.cdn_url.split("//")[1]]
    argv += ["--mirror-netloc", here, "--mirror-lfs-netloc", here, "--repos-path", str(repos)]
    argv += ["--log-path", str(log_dir / "olah-logs")]
    repos.mkdir(parents=True, exist_ok=True)
    return start_server("olah", argv, port, log_dir, cwd=repos)


def ensure_nginx() -> str | None:
    """Path of nginx, installing Debian's package when root and it is missing."""
    found = _nginx_path()
    if found or os.geteuid() != 0:
        return found or None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "nginx"]):
        subprocess.run(argv, env=env, capture_output=True, timeout=600)
    return _nginx_path()


def _nginx_path() -> str | None:
    if shutil.which("nginx"):
        return shutil.which("nginx")
    return "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None


NGINX_CONF = """worker_processes auto;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
{user}
events {{ worker_connections 4096; }}
http {{
    sendfile on;
    tcp_nopush on;
    access_log off;
    keepalive_requests 1000000;
    default_type application/octet-stream;
    client_body_temp_path {dir}/tmp-body;
    proxy_temp_path {dir}/tmp-proxy;
    fastcgi_temp_path {dir}/tmp-fastcgi;
    uwsgi_temp_path {dir}/tmp-uwsgi;
    scgi_temp_path {dir}/tmp-scgi;
    server {{
        listen 127.0.0.1:{port} reuseport;
        root {root};
    }}
}}
"""


def start_nginx(log_dir: Path, work: Path, root: Path) -> Child | None:
    """nginx serving `root` as static files with our own config; None when not installed."""
    binary = ensure_nginx()
    if not binary:
        return None
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    user = "user root;" if os.geteuid() == 0 else ""
    conf = work / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=work, port=port, root=root, user=user))
    argv = [binary, "-p", str(work), "-e", str(work / "error.log"), "-c", str(conf)]
    argv += ["-g", "daemon off;"]
    return start_server("nginx", argv, port, log_dir)


def nginx_version() -> str:
    binary = ensure_nginx()
    if not binary:
        return "absent"
    out = subprocess.run([binary, "-v"], capture_output=True, text=True)
    return out.stderr.strip().split("/")[-1]


def olah_version() -> str:
    python = OLAH_VENV / "bin" / "python"
    if not python.exists():
        return "absent"
    code = "import importlib.metadata as m; print(m.version('olah'))"
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True).stdout.strip()
