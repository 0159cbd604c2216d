"""Who may read what, and the Hub's error signals (status + X-Error-Code + message).

Mirrors the Hub as the clients see it: repo info of a gated repo is public,
its files are not; a private or missing repo is "not found" (401 anonymous, 404 signed in);
an unknown token is refused everywhere.
"""

import base64
import binascii
import enum
from collections.abc import Mapping

from tests.fakehub.repos import Commit, Repo

OWNER_TOKEN = "hf_owner"  # reads everything: gated access granted, owner of private repos
USER_TOKEN = "hf_user"  # a valid account without access to the gated/private repos
INVALID_CREDENTIALS = "Invalid credentials in Authorization header"


class Caller(enum.Enum):
    ANONYMOUS = "anonymous"
    USER = "user"
    OWNER = "owner"


class HubError(Exception):
    """An error answer: status, X-Error-Code (None = no code) and X-Error-Message."""

    def __init__(self, status: int, code: str | None, message: str, headers=None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers: dict[str, str] = dict(headers or {})


def caller_of(headers: Mapping[str, str]) -> Caller:
    """Map the Authorization header to a caller; unknown tokens get the Hub's 401.

    The Hub sends no X-Error-Code for bad credentials, only this exact message, which
    huggingface_hub checks so that it does not turn the 401 into RepositoryNotFound.
    HTTP Basic credentials (git's way) carry the token as the password.
    """
    value = headers.get("Authorization")
    if value is None:
        return Caller.ANONYMOUS
    token = _basic_password(value) or value.removeprefix("Bearer ").strip()
    if token == OWNER_TOKEN:
        return Caller.OWNER
    if token == USER_TOKEN:
        return Caller.USER
    raise HubError(401, None, INVALID_CREDENTIALS)


def _basic_password(value: str) -> str | None:
    """The password of HTTP Basic credentials: git sends the token so (any user name)."""
    if not value.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(value.removeprefix("Basic ").strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded.decode("utf-8", errors="replace").partition(":")[2]


def readable_repo(repo: Repo | None, caller: Caller, repo_id: str, *, files: bool) -> Repo:
    """The repo if `caller` may see it (`files`: its contents, not just its info card)."""
    if repo is None or (repo.private and caller is not Caller.OWNER):
        status = 401 if caller is Caller.ANONYMOUS else 404
        raise HubError(status, "RepoNotFound", f"Repository not found: {repo_id}")
    if files and repo.gated and (caller is not Caller.OWNER or repo.access_withdrawn):
        raise _gated(repo, caller)
    return repo


def _gated(repo: Repo, caller: Caller) -> HubError:
    if caller is Caller.ANONYMOUS:
        message = (
            f"Access to {repo.repo_type} {repo.repo_id} is restricted. You must have access to "
            "it and be authenticated to access it. Please log in."
        )
        return HubError(401, "GatedRepo", message)
    message = (
        f"Access to {repo.repo_type} {repo.repo_id} is restricted and you are not in the "
        "authorized list."
    )
    return HubError(403, "GatedRepo", message)


def commit_at(repo: Repo, revision: str) -> Commit:
    commit = repo.resolve(revision)
    if commit is None:
        raise HubError(404, "RevisionNotFound", f"Invalid rev id: {revision}")
    return commit


def entry_not_found(commit: Commit, path: str) -> HubError:
    """A missing file or folder; X-Repo-Commit lets clients cache the miss (.no_exist)."""
    return HubError(404, "EntryNotFound", f"Entry not found: {path}", {"X-Repo-Commit": commit.sha})
