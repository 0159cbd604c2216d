"""Raw request paths -> what was asked, as a small frozen value (no aiohttp here).

The router works on the raw, undecoded path: split on "/" first, then
percent-decode each segment, because a revision is one segment such as `refs%2Fpr%2F1` and
a tree path may be `a%2Fb`. Empty segments are dropped, which collapses the `//` that
datasets sends when HF_ENDPOINT ends with a slash.
"""

from dataclasses import dataclass
from urllib.parse import unquote

TYPE_PREFIXES = {"datasets": "dataset", "spaces": "space"}
API_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
REV_ENDPOINTS = ("revision", "paths-info", "commits", "xet-read-token", "treesize")
SPREAD_REFS = ("pr", "convert")


@dataclass(frozen=True)
class Route:
    """kind: resolve, info, tree, paths-info, refs, commits, xet-read-token, treesize,
    agent-harnesses, telemetry, whoami, cdn-blob, git-info-refs, git-upload-pack,
    git-receive-pack, lfs-batch or unknown."""

    kind: str
    repo_type: str = ""
    repo_id: str = ""
    revision: str | None = None
    path: str = ""


UNKNOWN = Route("unknown")


def segments(raw_path: str) -> list[str]:
    return [s for s in raw_path.split("?", 1)[0].split("/") if s]


def split_revision(parts: list[str]) -> tuple[str, list[str]]:
    """(revision, remaining raw segments); unencoded refs/pr/N spans 3 segments."""
    if len(parts) >= 3 and parts[0] == "refs" and parts[1] in SPREAD_REFS:
        return "/".join(unquote(p) for p in parts[:3]), parts[3:]
    return unquote(parts[0]), parts[1:]


def join_path(parts: list[str]) -> str:
    return "/".join(unquote(p) for p in parts)


def parse_hub(raw_path: str) -> Route:
    parts = segments(raw_path)
    if parts[:1] == ["api"]:
        return _parse_api(parts[1:])
    return _parse_resolve(parts)


def parse_cdn(raw_path: str) -> Route:
    parts = segments(raw_path)
    if len(parts) == 2 and parts[0] == "repos":
        return Route("cdn-blob", path=parts[1])
    return UNKNOWN


GIT_ENDPOINTS = {
    ("info", "refs"): "git-info-refs",
    ("git-upload-pack",): "git-upload-pack",
    ("git-receive-pack",): "git-receive-pack",
    ("info", "lfs", "objects", "batch"): "lfs-batch",
}


def _parse_resolve(parts: list[str]) -> Route:
    repo_type = TYPE_PREFIXES.get(parts[0], "model") if parts else "model"
    if repo_type != "model":
        parts = parts[1:]
    git_kind = GIT_ENDPOINTS.get(tuple(parts[2:]))
    if len(parts) >= 3 and git_kind:
        name = unquote(parts[1]).removesuffix(".git")
        return Route(git_kind, repo_type, f"{unquote(parts[0])}/{name}")
    if len(parts) < 5 or parts[2] != "resolve":
        return UNKNOWN
    revision, rest = split_revision(parts[3:])
    if not rest:
        return UNKNOWN
    return Route("resolve", repo_type, f"{parts[0]}/{parts[1]}", revision, join_path(rest))


def _parse_api(parts: list[str]) -> Route:
    if parts == ["agent-harnesses"]:
        return Route("agent-harnesses")
    if parts[:1] == ["telemetry"]:
        return Route("telemetry")
    if parts == ["whoami-v2"]:
        return Route("whoami")
    if len(parts) < 3 or parts[0] not in API_TYPES:
        return UNKNOWN
    repo_type, repo_id, rest = API_TYPES[parts[0]], f"{parts[1]}/{parts[2]}", parts[3:]
    if not rest:
        return Route("info", repo_type, repo_id)
    if rest == ["refs"]:
        return Route("refs", repo_type, repo_id)
    if len(rest) < 2 or rest[0] not in (*REV_ENDPOINTS, "tree"):
        return UNKNOWN
    revision, tail = split_revision(rest[1:])
    if rest[0] == "tree":
        return Route("tree", repo_type, repo_id, revision, join_path(tail))
    if tail:
        return UNKNOWN
    kind = "info" if rest[0] == "revision" else rest[0]
    return Route(kind, repo_type, repo_id, revision)
