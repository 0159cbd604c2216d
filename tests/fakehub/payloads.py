"""Hub JSON bodies built from the data model: repo info, tree entries, refs, commits."""

from collections.abc import Iterable

from tests.fakehub.repos import Commit, Entry, Repo

SECURITY_STATUS = {"scansDone": True, "filesWithIssues": []}


def tree_entry(repo: Repo, commit: Commit, entry: Entry, *, xet, expand: bool) -> dict:
    """One tree/paths-info row; `xetHash` only when Xet is advertised, like huggingface.co.

    `xet`: None, or what gives an LFS blob's Xet hash (the hub's `xet_hash_of`).
    """
    if entry.is_dir:
        row = {"type": "directory", "oid": entry.oid, "size": 0, "path": entry.path}
    else:
        row = {"type": "file", "oid": entry.oid, "size": entry.blob.size, "path": entry.path}
        if entry.blob.lfs:
            row["lfs"] = {
                "oid": entry.blob.sha256,
                "size": entry.blob.size,
                "pointerSize": entry.blob.pointer_size,
            }
            if xet:
                row["xetHash"] = xet(entry.blob)
    if expand:
        changed = repo.last_change(commit.sha, entry.path)
        row["lastCommit"] = {"id": changed.sha, "title": changed.title, "date": changed.date}
    return row


def sibling(path: str, commit: Commit, blobs: bool) -> dict:
    row: dict = {"rfilename": path}
    if blobs:
        blob = commit.files[path]
        row.update(size=blob.size, blobId=blob.oid)
        if blob.lfs:
            row["lfs"] = {
                "sha256": blob.sha256,
                "size": blob.size,
                "pointerSize": blob.pointer_size,
            }
    return row


def repo_info(repo: Repo, commit: Commit, *, blobs: bool, security: bool) -> dict:
    """The repo info card at `commit` (`id`, `sha`, `siblings`...); optional keys when set."""
    first = repo.history(commit.sha)[-1]
    info = {
        "_id": repo.object_id,
        "id": repo.repo_id,
        "author": repo.repo_id.split("/")[0],
        "sha": commit.sha,
        "createdAt": first.date,
        "lastModified": commit.date,
        "private": repo.private,
        "gated": repo.gated,
        "disabled": False,
        "tags": list(repo.tags),
        "downloads": 0,
        "likes": 0,
        "siblings": [sibling(p, commit, blobs) for p in commit.files],
        "usedStorage": sum(blob.size for blob in commit.files.values()),
    }
    optional = {
        "library_name": repo.library_name,
        "pipeline_tag": repo.pipeline_tag,
        "cardData": repo.card_data,
        "securityRepoStatus": SECURITY_STATUS if security else None,
    }
    info.update({k: v for k, v in optional.items() if v is not None})
    info.update(repo.extra_info)
    return info


def only_expanded(info: dict, keys: Iterable[str]) -> dict:
    """What `expand=` asks for: just those keys, plus the ids."""
    wanted = {"_id", "id", *keys}
    return {k: v for k, v in info.items() if k in wanted}


def refs(repo: Repo, include_prs: bool) -> dict:
    def rows(table: dict, prefix: str) -> list[dict]:
        return [{"name": n, "ref": f"{prefix}{n}", "targetCommit": s} for n, s in table.items()]

    body = {
        "branches": rows(repo.branches, "refs/heads/"),
        "converts": rows(repo.converts, "refs/convert/"),
        "tags": rows(repo.git_tags, "refs/tags/"),
    }
    if include_prs:
        body["pullRequests"] = rows({f"refs/pr/{n}": s for n, s in repo.pull_requests.items()}, "")
    return body


def commit_row(commit: Commit) -> dict:
    return {
        "id": commit.sha,
        "title": commit.title,
        "message": commit.message,
        "authors": [{"user": "acme"}],
        "date": commit.date,
    }


def account(name: str) -> dict:
    """`/api/whoami-v2` of a user token: every key the Hub sends for a user, one org."""
    return {
        "type": "user",
        "id": f"0000{name}",
        "name": name,
        "fullname": f"Fake {name.title()}",
        "email": f"{name}@example.test",
        "emailVerified": True,
        "isPro": False,
        "canPay": False,
        "periodEnd": None,
        "avatarUrl": f"/avatars/{name}.svg",
        "orgs": [{"type": "org", "name": "acme", "fullname": "Acme", "avatarUrl": ""}],
        "auth": {
            "type": "access_token",
            "accessToken": {"displayName": f"{name}-laptop", "role": "read"},
        },
    }
