"""Run the fake hub standalone: python -m tests.fakehub --port 9000 --cdn-port 9001

Benchmarks run the hub as its own process, so everything they need is a flag here:
faults (--bandwidth, --latency), big LFS files (--large-file), a repo of many small files
(--many-files-repo) and a control port (--control-port) with the request log and the fault
switches over HTTP. The control port is a separate listener, so the hub's own routes and
request log stay exactly what the tests see.

Control port (JSON):
    GET  /_log?host=cdn&contains=TEXT   totals (requests, body_bytes) and the entries
    POST /_log/clear                    empty the request log
    POST /_faults  {"bandwidth": N, "latency": S, ...}   set fault switches (null = off)
"""

import argparse
import asyncio
import signal
import sys
import time

from aiohttp import web

from tests.fakehub import content
from tests.fakehub.defaults import default_repos
from tests.fakehub.hub import FakeHub
from tests.fakehub.repos import GITATTRIBUTES, Repo, make_blob

SETTABLE_FAULTS = ("bandwidth", "latency", "fail_status", "fail_count", "drop_after", "hang")
MANY_FILE_BYTES = 1024


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakehub",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--port", type=int, default=0, help="hub port (default: a free one)")
    parser.add_argument("--cdn-port", type=int, default=0, help="CDN port (default: a free one)")
    parser.add_argument("--page-size", type=int, default=1000, help="tree entries per page")
    parser.add_argument("--no-xet", action="store_true", help="do not advertise Xet")
    parser.add_argument(
        "--xet-files", action="store_true", help="LFS files are Xet-backed (served by the CAS)"
    )
    parser.add_argument("--cas-port", type=int, default=0, help="CAS port (default: a free one)")
    parser.add_argument(
        "--bandwidth",
        type=int,
        default=None,
        metavar="BYTES_PER_S",
        help="cap every file body at this rate (per response)",
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="sleep this long before answering each request",
    )
    parser.add_argument(
        "--large-file",
        action="append",
        default=[],
        metavar="TYPE:REPO:PATH:SIZE[:SEED]",
        help="commit a generated LFS file on main (repo created if new); repeat",
    )
    parser.add_argument(
        "--many-files-repo",
        type=int,
        default=0,
        metavar="N",
        help="add model repo bench/files-N holding N small files",
    )
    parser.add_argument(
        "--control-port",
        type=int,
        default=None,
        help="serve the log and fault switches here (0 = a free port)",
    )
    return parser.parse_args(argv)


def parse_large_file(spec: str) -> tuple[str, str, str, int, int]:
    """TYPE:REPO:PATH:SIZE[:SEED] -> its parts; REPO holds one slash (owner/name)."""
    parts = spec.split(":")
    if len(parts) not in (4, 5):
        raise SystemExit(f"--large-file {spec!r}: expected TYPE:REPO:PATH:SIZE[:SEED]")
    seed = int(parts[4]) if len(parts) == 5 else 0
    return parts[0], parts[1], parts[2], int(parts[3]), seed


def new_repo(repo_type: str, repo_id: str, files: dict[str, bytes]) -> Repo:
    """A repo whose main holds `files` plus .gitattributes (so *.bin etc. are LFS)."""
    repo = Repo(repo_type, repo_id)
    blobs = {".gitattributes": make_blob(".gitattributes", GITATTRIBUTES.encode())}
    blobs.update({path: make_blob(path, data) for path, data in files.items()})
    repo.branches["main"] = repo.add_commit(None, blobs, "Initial commit").sha
    return repo


def many_files_repo(count: int) -> Repo:
    """`count` regular files of ~1 KiB: what a snapshot of configs and shards costs in requests."""
    files = {f"data/file-{index:05d}.txt": _filler(index) for index in range(count)}
    return new_repo("model", f"bench/files-{count}", files)


def _filler(index: int) -> bytes:
    line = f"file {index} of the many-files bench repo\n".encode()
    return (line * (MANY_FILE_BYTES // len(line) + 1))[:MANY_FILE_BYTES]


def build_hub(args: argparse.Namespace) -> tuple[FakeHub, list[str]]:
    """The hub with the extra repos and large files; one description line per large file."""
    repos = default_repos()
    if args.many_files_repo:
        repos.append(many_files_repo(args.many_files_repo))
    known = {repo.key for repo in repos}
    specs = [parse_large_file(spec) for spec in args.large_file]
    for repo_type, repo_id, *_ in specs:
        if (repo_type, repo_id) not in known:
            repos.append(new_repo(repo_type, repo_id, {"config.json": content.bert_config()}))
            known.add((repo_type, repo_id))
    hub = FakeHub(repos=repos, page_size=args.page_size)
    lines = []
    for repo_type, repo_id, path, size, seed in specs:
        sha256 = hub.add_large_file(repo_type, repo_id, path, size, seed)
        disk_path = hub.lfs_blob(sha256).disk_path
        lines.append(f"large: {repo_type} {repo_id} {path} {size} {sha256} {disk_path}")
    return hub, lines


def apply_faults(hub: FakeHub, args: argparse.Namespace) -> None:
    hub.xet = not args.no_xet
    hub.xet_files = args.xet_files
    hub.faults.bandwidth = args.bandwidth
    hub.faults.latency = args.latency


def control_app(hub: FakeHub) -> web.Application:
    """The control routes; they read the hub's log from another thread (plain list reads)."""

    async def get_log(request: web.Request) -> web.Response:
        host, text = request.query.get("host"), request.query.get("contains")
        entries = [
            e
            for e in list(hub.log)
            if (host is None or e.host == host) and (text is None or text in e.target)
        ]
        rows = [
            {
                "host": e.host,
                "method": e.method,
                "target": e.target,
                "status": e.status,
                "range": e.headers.get("range"),
                "body_bytes": e.body_bytes,
            }
            for e in entries
        ]
        total = sum(e.body_bytes for e in entries)
        return web.json_response({"requests": len(rows), "body_bytes": total, "entries": rows})

    async def clear_log(request: web.Request) -> web.Response:
        hub.clear_log()
        return web.json_response({"ok": True})

    async def set_faults(request: web.Request) -> web.Response:
        changes = await request.json()
        unknown = set(changes) - set(SETTABLE_FAULTS)
        if unknown:
            return web.json_response({"error": f"unknown faults {sorted(unknown)}"}, status=400)
        for name, value in changes.items():
            setattr(hub.faults, name, value if value is not None else _off(name))
        return web.json_response({name: getattr(hub.faults, name) for name in SETTABLE_FAULTS})

    app = web.Application()
    app.router.add_get("/_log", get_log)
    app.router.add_post("/_log/clear", clear_log)
    app.router.add_post("/_faults", set_faults)
    return app


def _off(name: str):
    return {"latency": 0.0, "hang": False}.get(name)


async def serve_control(hub: FakeHub, port: int) -> None:
    """Serve the control app on 127.0.0.1 until cancelled; prints its URL once listening."""
    runner = web.AppRunner(control_app(hub), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]
    print(f"control: http://127.0.0.1:{bound}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def _interrupt(signum, frame) -> None:
    """SIGTERM ends the hub like Ctrl-C, so the large files' temp dir is removed at exit."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    hub, large_lines = build_hub(args)
    apply_faults(hub, args)
    hub.start(port=args.port, cdn_port=args.cdn_port, cas_port=args.cas_port)
    print(f"hub: {hub.url}", flush=True)
    print(f"cdn: {hub.cdn_url}", flush=True)
    print(f"cas: {hub.cas_url}", flush=True)
    for line in large_lines:
        print(line, flush=True)
    try:
        if args.control_port is not None:
            asyncio.run(serve_control(hub, args.control_port))
        else:
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        hub.stop()
        sys.stdout.flush()


if __name__ == "__main__":
    main()
