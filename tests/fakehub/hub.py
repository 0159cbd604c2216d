"""FakeHub: the object tests hold. Owns the repos, the log, the faults and the two servers.

Usage:
    hub = FakeHub(repos=default_repos(), page_size=1000).start()
    hub.url, hub.cdn_url            # http://127.0.0.1:<port>, no trailing slash
    hub.faults.fail_status = 503    # see faults.py
    hub.body_bytes(host="cdn")      # bytes of body the fake actually sent
    hub.stop()

Faults (apply to both ports unless noted):
    latency      seconds slept before answering every request
    bandwidth    bytes/s cap per file body (hub and CDN)
    fail_status  answer every request with this status; fail_count limits it to N requests
    fail_every   flapping: only every Nth request fails (with fail_status, default 503)
    retry_after  Retry-After seconds sent with injected failures
    drop_after   file bodies: send this many bytes, then end the connection early
                 (every file response longer than that, or drop_count of them)
    hang         accept requests and answer none until it is reset
    reset_connections  accept requests, then reset the connection (RST) without an answer
    down         connection refused: sockets closed; same ports again when back up
    gzip         gzip regular-file bodies on the hub when the request accepts gzip
    corrupt_xorbs  the CAS flips a data byte in every xorb body (see xetcas.py)
    wrong_xet_hashes  sha256s whose advertised Xet hash is wrong (not their bytes' hash)
    info_body    repo info answers are this JSON value with status 200, whoever asks and
                 whatever the repo (an error object, a trimmed card): an odd 200 upstream

Xet (a third port, the CAS): with `xet_files` on, LFS files are Xet-backed: their real Xet
hash is advertised and `cas_url` serves reconstructions and xorbs (xetcas.py). `cas_down()`
and `cas_up()` take only the CAS port down and up again.

Git (gitserve.py, gitrepo.py): the hub port answers `git clone {url}/{repo}` (smart HTTP,
read only, protocol v0 and v2) from bare repos written on first use into a temp dir the hub
owns (`git_repos()`), refs brought up to date whenever a branch moved. Commit ids are real git
ids, so a clone's HEAD is the API's `sha`. Gated/private repos take the token as the HTTP
Basic password; `POST /{repo}.git/info/lfs/objects/batch` hands out signed CDN links. Git
requests are logged like every other (`.../info/refs?service=...`, `.../git-upload-pack`).
"""

import secrets
import tempfile
import threading
import time
from pathlib import Path

from tests.fakehub.blobs import Blob
from tests.fakehub.defaults import default_repos
from tests.fakehub.faults import Faults
from tests.fakehub.gitrepo import GitRepos
from tests.fakehub.largefiles import large_file
from tests.fakehub.repos import Commit, Repo, make_blob
from tests.fakehub.requestlog import LogEntry, total_body_bytes
from tests.fakehub.server import make_app
from tests.fakehub.serving import BackgroundLoop, Listener
from tests.fakehub.signing import signed_query
from tests.fakehub.xetcas import real_xet_hash

__all__ = ["FakeHub", "LogEntry"]

DEFAULT_PAGE_SIZE = 1000
DEFAULT_CDN_TTL = 3600


class FakeHub:
    def __init__(self, repos: list[Repo] | None = None, page_size: int = DEFAULT_PAGE_SIZE):
        repos = default_repos() if repos is None else repos
        self._initial = {repo.key: repo.copy() for repo in repos}
        self.repos: dict[tuple[str, str], Repo] = {repo.key: repo for repo in repos}
        self.page_size = self._initial_page_size = page_size
        self.log: list[LogEntry] = []
        self.faults = Faults()
        self.xet = True
        self.xet_files = False  # LFS files Xet-backed: real Xet hashes, served by the CAS
        self._xet_hashes: dict[str, str] = {}  # sha256 -> real Xet hash, computed once
        self._xet_blobs: dict[str, Blob] = {}  # real Xet hash -> blob
        self.cdn_ttl = DEFAULT_CDN_TTL  # seconds a signed CDN link stays valid
        self.signing_key = secrets.token_bytes(32)  # signs CDN links
        self._lock = threading.Lock()
        self._lfs: dict[str, Blob] = {}
        self._index_lfs()
        self._loop: BackgroundLoop | None = None
        self._listeners: dict[str, Listener] = {}
        self._git_dir: tempfile.TemporaryDirectory | None = None
        self._git_repos: GitRepos | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self, port: int = 0, cdn_port: int = 0, cas_port: int = 0) -> "FakeHub":
        """Listen on 127.0.0.1 (free ports by default); returns once all ports accept."""
        self._loop = BackgroundLoop()
        self._loop.start()
        self._listeners = {
            "hub": Listener(make_app(self, "hub"), port=port),
            "cdn": Listener(make_app(self, "cdn"), port=cdn_port),
            "cas": Listener(make_app(self, "cas"), port=cas_port),
        }
        for listener in self._listeners.values():
            self._loop.run(listener.setup())
        self.faults._switch_down = self._switch_down
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        self.faults._switch_down = None
        self.faults.hang = False
        for listener in self._listeners.values():
            self._loop.run(listener.cleanup())
        self._loop.stop()
        self._loop = None
        if self._git_dir is not None:
            self._git_dir.cleanup()
            self._git_dir = self._git_repos = None

    def __enter__(self) -> "FakeHub":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listeners['hub'].port}"

    @property
    def cdn_url(self) -> str:
        return f"http://127.0.0.1:{self._listeners['cdn'].port}"

    @property
    def cas_url(self) -> str:
        return f"http://127.0.0.1:{self._listeners['cas'].port}"

    @property
    def xet_cas_url(self) -> str:
        """The casUrl handed out with Xet tokens: the CAS while files are Xet-backed."""
        return self.cas_url if self.xet_files else self.cdn_url

    def cas_down(self) -> None:
        """Refuse connections on the CAS port only (the hub and CDN stay up)."""
        self._loop.run(self._listeners["cas"].go_dark())

    def cas_up(self) -> None:
        self._loop.run(self._listeners["cas"].listen())

    def go_down(self) -> None:
        """Refuse connections on both ports and cut open ones (faults.down = True)."""
        self.faults.down = True

    def come_up(self) -> None:
        """Listen again on the same two ports (faults.down = False)."""
        self.faults.down = False

    def _switch_down(self, down: bool) -> None:
        for listener in self._listeners.values():
            self._loop.run(listener.go_dark() if down else listener.listen())

    # -- log and faults ------------------------------------------------------------------

    def clear_log(self) -> None:
        self.log.clear()

    def body_bytes(self, host: str | None = None, path_contains: str | None = None) -> int:
        """Response body bytes sent, over log entries of `host` whose target has the text."""
        return total_body_bytes(list(self.log), host, path_contains)

    def reset_faults(self) -> None:
        self.faults.reset()

    def reset(self) -> None:
        """Back to the state after construction: faults, log, xet, page size and repos."""
        self.reset_faults()
        self.clear_log()
        self.xet = True
        self.xet_files = False
        self.cdn_ttl = DEFAULT_CDN_TTL
        self.page_size = self._initial_page_size
        self.reset_repos()

    def reset_repos(self) -> None:
        """Undo move_branch/add_large_file: every repo back to its initial refs."""
        with self._lock:
            self.repos = {key: repo.copy() for key, repo in self._initial.items()}
            self._index_lfs()

    # -- the data ------------------------------------------------------------------------

    def git_repos(self) -> GitRepos:
        """The bare git repos the git endpoint serves, in a temp dir made on first use."""
        with self._lock:
            if self._git_repos is None:
                self._git_dir = tempfile.TemporaryDirectory(prefix="fakehub-git-")
                self._git_repos = GitRepos(Path(self._git_dir.name))
            return self._git_repos

    def repo(self, repo_type: str, repo_id: str) -> Repo:
        return self.repos[(repo_type, repo_id)]

    def find_repo(self, repo_type: str, repo_id: str) -> Repo | None:
        """The repo a request names, in any letter case: the Hub matches repo ids
        without case (``ACME/Tiny-Bert`` is ``acme/tiny-bert``)."""
        wanted = (repo_type, repo_id.lower())
        return next((r for k, r in self.repos.items() if (k[0], k[1].lower()) == wanted), None)

    def commit(self, repo_type: str, repo_id: str, revision: str) -> Commit:
        commit = self.repo(repo_type, repo_id).resolve(revision)
        if commit is None:
            raise KeyError(f"{repo_type} {repo_id} has no revision {revision!r}")
        return commit

    def commit_of(self, repo_type: str, repo_id: str, revision: str) -> str:
        return self.commit(repo_type, repo_id, revision).sha

    def blob(self, repo_type: str, repo_id: str, revision: str, path: str) -> Blob:
        return self.commit(repo_type, repo_id, revision).files[path]

    def file_bytes(self, repo_type: str, repo_id: str, revision: str, path: str) -> bytes:
        return self.blob(repo_type, repo_id, revision, path).read()

    def file_sha256(self, repo_type: str, repo_id: str, revision: str, path: str) -> str:
        return self.blob(repo_type, repo_id, revision, path).sha256

    def signed_cdn_url(self, sha256: str, expires: int | None = None) -> str:
        """The CDN link the hub redirects to; valid for cdn_ttl seconds unless `expires`."""
        if expires is None:
            expires = int(time.time() + self.cdn_ttl)
        return f"{self.cdn_url}/repos/{sha256}?{signed_query(self.signing_key, sha256, expires)}"

    def lfs_blob(self, sha256: str) -> Blob | None:
        return self._lfs.get(sha256)

    def xet_hash_of(self, blob: Blob) -> str:
        """The Xet hash advertised for an LFS blob: always the real one, as huggingface.co's
        (a mirror with xet_serve checks it); its CAS serves the blob only while `xet_files`."""
        known = self._xet_hashes.get(blob.sha256)
        if known is None:
            known = real_xet_hash(blob)
            with self._lock:
                self._xet_hashes[blob.sha256] = known
        if self.xet_files:
            with self._lock:
                self._xet_blobs[known] = blob
        if blob.sha256 in self.faults.wrong_xet_hashes:
            return known[::-1]  # still 64 hex digits, but not these bytes' hash
        return known

    def xet_blob(self, xet_hash: str) -> Blob | None:
        """The Xet-backed blob with this (real) Xet hash, once advertised."""
        return self._xet_blobs.get(xet_hash) if self.xet_files else None

    def move_branch(
        self, repo_type: str, repo_id: str, branch: str, files: dict[str, bytes | None]
    ) -> str:
        """Commit `files` (added or replaced; None removes) on top of `branch`; new sha.

        A branch that does not exist yet starts from main.
        """
        changes = {p: None if d is None else make_blob(p, d) for p, d in files.items()}
        return self._commit(repo_type, repo_id, branch, changes, "Update " + ", ".join(files))

    def add_large_file(
        self, repo_type: str, repo_id: str, path: str, size: int, seed: int = 0
    ) -> str:
        """Commit an LFS file of `size` seeded pseudo-random bytes on main; its sha256.

        The bytes live in a per-process temp file (generated once per (size, seed)).
        """
        disk_path, sha256 = large_file(size, seed)
        blob = Blob.lfs_file(disk_path, size, sha256)
        self._commit(repo_type, repo_id, "main", {path: blob}, f"Add {path}")
        return sha256

    def add_to_pull_request(
        self, repo_type: str, repo_id: str, number: int, files: dict[str, bytes]
    ) -> str:
        """Commit `files` on top of the pull request's head (``refs/pr/{number}``); new sha."""
        with self._lock:
            repo = self.repo(repo_type, repo_id)
            changes = {p: make_blob(p, d) for p, d in files.items()}
            commit = repo.add_commit(repo.pull_requests[number], changes, "Update the PR")
            repo.pull_requests[number] = commit.sha
            self._index_lfs()
        return commit.sha

    def _commit(self, repo_type, repo_id, branch, changes, title) -> str:
        with self._lock:
            repo = self.repo(repo_type, repo_id)
            parent = repo.branches.get(branch, repo.branches.get("main"))
            commit = repo.add_commit(parent, changes, title)
            repo.branches[branch] = commit.sha
            self._index_lfs()
        return commit.sha

    def _index_lfs(self) -> None:
        """sha256 -> LFS blob over every commit, for the CDN (rebuilt on each change)."""
        index = {}
        for repo in list(self.repos.values()):
            for commit in list(repo.commits.values()):
                index.update({b.sha256: b for b in commit.files.values() if b.lfs})
        self._lfs = index
