"""Parse incoming raw paths into typed routes, and build the matching upstream paths.

Routing works on the raw, still percent-encoded path: clients send a revision as
one segment (``refs%2Fpr%2F1``) and nested tree folders as ``a%2Fb``, so the path
is split on ``/`` first and each segment decoded afterwards. Empty segments
(``//`` from a trailing-slash ``HF_ENDPOINT``) are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote

from hubmirror.errors import InvalidInput, NoSuchRoute
from hubmirror.types import FileRef, RepoId, RepoPath, RepoType, Revision

_API_ACTIONS = ("revision", "tree", "paths-info", "refs", "commits", "xet-read-token", "treesize")
_TYPE_PREFIXES = {"datasets": RepoType.DATASET, "spaces": RepoType.SPACE}


@dataclass(frozen=True, slots=True)
class Resolve:
    """``/{T}{repo}/resolve/{rev}/{path}``: a file's bytes and metadata headers."""

    file: FileRef

    @property
    def repo(self) -> RepoId:
        return self.file.repo

    @property
    def revision(self) -> Revision:
        return self.file.revision

    @property
    def path(self) -> RepoPath:
        return self.file.path


@dataclass(frozen=True, slots=True)
class RepoApi:
    """``/api/{t}/{repo}[/{action}[/{rev}[/{path}]]]``: the JSON API of one repo."""

    repo: RepoId
    action: str  # "info", "revision", "tree", "paths-info", "refs", "commits", ...
    revision: Revision | None = None
    path: RepoPath | None = None


@dataclass(frozen=True, slots=True)
class Housekeeping:
    """Routes that only have to answer quickly: agent-harnesses, telemetry."""

    name: str


@dataclass(frozen=True, slots=True)
class Whoami:
    """``/api/whoami-v2``: whom the caller's token stands for (``hf auth login`` asks it)."""


Route = Resolve | RepoApi | Housekeeping | Whoami


def split_raw_path(raw_path: str, prefix: str = "") -> list[str]:
    """Raw segments of ``raw_path`` below ``prefix``, empty segments dropped."""
    segments = [s for s in raw_path.split("?", 1)[0].split("/") if s]
    prefix_segments = [s for s in prefix.split("/") if s]
    if prefix_segments and segments[: len(prefix_segments)] == prefix_segments:
        segments = segments[len(prefix_segments) :]
    return segments


def decode(segment: str) -> str:
    """Percent-decode one segment; undecodable bytes are the caller's mistake."""
    try:
        return unquote(segment, errors="strict")
    except UnicodeDecodeError:
        raise InvalidInput("Path is not valid percent-encoded UTF-8") from None


def parse_route(segments: list[str]) -> Route:
    """Map raw segments to a route; unknown shapes raise ``NoSuchRoute``."""
    if segments[:1] == ["api"]:
        return _parse_api(segments[1:])
    return _parse_resolve(segments)


def _parse_api(rest: list[str]) -> Route:
    if rest[:1] == ["agent-harnesses"] and len(rest) == 1:
        return Housekeeping("agent-harnesses")
    if rest[:1] == ["telemetry"]:
        return Housekeeping("telemetry")
    if rest == ["whoami-v2"]:
        return Whoami()
    if len(rest) < 2 or rest[0] not in ("models", "datasets", "spaces"):
        raise NoSuchRoute("No such API route")
    repo_type = RepoType.from_plural(rest[0])
    name_len = _repo_name_length(rest[1:])
    repo = RepoId(repo_type, "/".join(decode(s) for s in rest[1 : 1 + name_len]))
    return _parse_repo_action(repo, rest[1 + name_len :])


def _repo_name_length(rest: list[str]) -> int:
    """1 for a legacy single-segment id followed by an action, else 2."""
    if len(rest) == 1 or (len(rest) >= 3 and rest[1] in _API_ACTIONS):
        return 1
    return 2


def _parse_repo_action(repo: RepoId, rest: list[str]) -> RepoApi:
    if not rest:
        return RepoApi(repo, "info")
    action, args = rest[0], rest[1:]
    if action == "refs" and not args:
        return RepoApi(repo, "refs")
    if action not in _API_ACTIONS or not args:
        raise NoSuchRoute(f"No such API route for {repo}")
    revision = Revision(decode(args[0]))
    if action == "revision" and len(args) > 1:
        raise NoSuchRoute(f"No such API route for {repo}")
    path = RepoPath("/".join(decode(s) for s in args[1:]).strip("/"))
    return RepoApi(repo, action, revision, path)


def _parse_resolve(segments: list[str]) -> Resolve:
    repo_type = _TYPE_PREFIXES.get(segments[0], RepoType.MODEL) if segments else RepoType.MODEL
    rest = segments[1:] if repo_type is not RepoType.MODEL else segments
    for name_len in (2, 1):
        if len(rest) > name_len + 2 and rest[name_len] == "resolve":
            repo = RepoId(repo_type, "/".join(decode(s) for s in rest[:name_len]))
            revision, path_segments = _split_revision(rest[name_len + 1 :])
            path = RepoPath("/".join(decode(s) for s in path_segments))
            if not path.value:
                raise InvalidInput("A file path is required after the revision")
            return Resolve(FileRef(repo, revision, path))
    raise NoSuchRoute("No such route")


def _split_revision(rest: list[str]) -> tuple[Revision, list[str]]:
    """Take the revision off the front: one segment, or unencoded ``refs/pr/N``."""
    if rest[0] == "refs" and len(rest) > 3 and rest[1] in ("pr", "convert"):
        return Revision("/".join(rest[:3])), rest[3:]
    return Revision(decode(rest[0])), rest[1:]


def encode_revision(revision: Revision | str) -> str:
    return quote(str(revision), safe="")


def encode_path(path: RepoPath | str) -> str:
    return quote(str(path))


def resolve_path(repo: RepoId, revision: Revision | str, path: RepoPath | str) -> str:
    """Upstream path of a file: ``/{T}{repo}/resolve/{rev}/{path}``."""
    prefix = repo.repo_type.url_prefix
    return f"/{prefix}{repo.name}/resolve/{encode_revision(revision)}/{encode_path(path)}"


def api_path(repo: RepoId, *parts: str) -> str:
    """Upstream API path: ``/api/{t}/{repo}/...`` with already-encoded parts."""
    tail = "".join("/" + p for p in parts if p)
    return f"/api/{repo.repo_type.plural}/{repo.name}{tail}"
