"""Bringing the warm contenders up: fake hub, mirror, olah and nginx, primed with the blob.

"Warm" means each server already holds the large file, config.json and the many-files repo,
fetched once through the uncapped upstream before any round is timed.
"""

import os
import shutil
import time
from pathlib import Path

from bench.context import Context
from bench.load import download
from bench.procs import Child
from bench.servers import start_fakehub, start_mirror, start_nginx, start_olah

LARGE_REPO = "bench/large"
COLD_REPO = "bench/cold"
PRIME_TIMEOUT = 900.0


def start_upstream(ctx: Context) -> None:
    o = ctx.options
    specs = [
        f"model:{LARGE_REPO}:model.bin:{o.size}:1",
        f"model:{COLD_REPO}:model.bin:{o.cold_size}:2",
    ]
    print(f"generating {o.size >> 20} MiB + {o.cold_size >> 20} MiB upstream files...", flush=True)
    ctx.hub = start_fakehub(ctx.logs, specs, o.many_files)
    ctx.warm_file, ctx.cold_file = ctx.hub.files


def start_warm(ctx: Context) -> None:
    """Start mirror, olah and nginx for the warm scenarios and prime their caches."""
    fetch_config(ctx)
    data = ctx.scratch_dir("mirror-warm")
    ctx.paths["mirror"] = data
    ctx.servers["mirror"] = start_mirror(ctx.logs, data, ctx.hub.url, ctx.options.mirror_workers)
    ctx.note("mirror: " + " ".join(ctx.servers["mirror"].extra["argv"][1:]) + " (access log off)")
    if ctx.options.olah:
        _start_optional(ctx, "olah", lambda: _olah(ctx))
    if ctx.options.nginx:
        _start_optional(ctx, "nginx", lambda: _nginx(ctx))
    for name in ("mirror", "olah"):
        if name in ctx.servers:
            prime(ctx, ctx.servers[name])


def _start_optional(ctx: Context, name: str, starter) -> None:
    try:
        child = starter()
    except Exception as error:  # noqa: BLE001 - a missing contender is a note, not a crash
        ctx.note(f"{name} could not start ({error}); its rows are skipped")
        return
    if child is None:
        ctx.note(f"{name} is not installed; its rows are skipped")
        return
    ctx.servers[name] = child


def _olah(ctx: Context) -> Child:
    repos = ctx.scratch_dir("olah-warm")
    ctx.paths["olah"] = repos
    return start_olah(ctx.logs, repos, ctx.hub)


def _nginx(ctx: Context) -> Child | None:
    """nginx's docroot mirrors the URL layout: /{repo}/resolve/main/{path} are plain files."""
    root = ctx.scratch_dir("nginx-root")
    os.chmod(ctx.scratch, 0o755)
    os.chmod(root, 0o755)
    folder = root / LARGE_REPO / "resolve" / "main"
    folder.mkdir(parents=True)
    _link_or_copy(ctx.warm_file.disk_path, folder / "model.bin")
    config = ctx.scratch / "config.json"
    if not config.exists():
        raise RuntimeError("config.json was not fetched from the hub")
    shutil.copy(config, folder / "config.json")
    ctx.paths["nginx"] = folder / "model.bin"
    return start_nginx(ctx.logs, ctx.scratch_dir("nginx-work"), root)


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy(source, target)


def fetch_config(ctx: Context) -> None:
    """config.json's bytes from the hub, for nginx's static copy."""
    import urllib.request

    url = f"{ctx.hub.url}/{LARGE_REPO}/resolve/main/config.json"
    with urllib.request.urlopen(url) as answer:
        (ctx.scratch / "config.json").write_bytes(answer.read())


def prime(ctx: Context, server: Child) -> None:
    """Fetch the large file and config.json once so the server holds them."""
    batch = download(server.url + ctx.warm_file.url_path, 1, PRIME_TIMEOUT)
    if not batch.ok or batch.bytes != ctx.warm_file.size:
        raise RuntimeError(f"priming {server.name} got {batch.bytes} bytes")
    download(server.url + f"/{LARGE_REPO}/resolve/main/config.json", 1, 60)
    if server.name == "mirror":
        wait_hashed(server.url + ctx.warm_file.url_path)


def wait_hashed(url: str, timeout: float = 300.0) -> None:
    """Wait for the mirror's one-time Xet hash of a stored file (``xet_serve``, on by
    default, hashes each blob once in the background): rounds time the steady state."""
    import urllib.request

    if os.environ.get("HUBMIRROR_XET_SERVE", "").lower() in ("false", "0", "no", "off"):
        return  # strip mode: nothing is hashed
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD")) as answer:
            if answer.headers.get("X-Xet-Hash"):
                return
        time.sleep(0.2)
    raise RuntimeError(f"the mirror never advertised a Xet hash for {url}")
