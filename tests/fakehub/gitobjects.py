"""Git object ids, computed the way git and the Hub compute them.

Clients check these: `hf cache verify` compares a regular file with its tree `oid` (git blob
sha1) and an LFS file with `lfs.oid` (sha256), so the fake must produce real hashes, not
random hex. Commit ids are real too (a fixed author, the commit's date as its timestamp), so
`git clone` of the fake's git endpoint yields the very commit ids its API hands out.
"""

import datetime as dt
import hashlib

LFS_SPEC = "https://git-lfs.github.com/spec/v1"


GIT_IDENTITY = "Fake Hub <fakehub@example.com>"  # author and committer of every commit


def git_object_oid(kind: str, body: bytes) -> str:
    """The sha1 git gives an object: sha1(b"<kind> <len>\\0" + body)."""
    return hashlib.sha1(b"%s %d\0" % (kind.encode(), len(body)) + body).hexdigest()


def git_blob_oid(data: bytes) -> str:
    """The sha1 git gives a blob: sha1(b"blob <len>\\0" + data)."""
    return git_object_oid("blob", data)


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The pointer text git-lfs stores in the repo in place of the real bytes."""
    return f"version {LFS_SPEC}\noid sha256:{sha256}\nsize {size}\n".encode()


def tree_oid(entries: list[tuple[str, bool, str]]) -> str:
    """The sha1 of a git tree object made of (name, is_dir, oid hex) entries."""
    return git_object_oid("tree", tree_body(entries))


def tree_body(entries: list[tuple[str, bool, str]]) -> bytes:
    """A git tree object's body; git sorts entries by name, a directory as if named "name/"."""

    def sort_key(entry: tuple[str, bool, str]) -> bytes:
        name, is_dir, _ = entry
        return (name + "/" if is_dir else name).encode()

    return b"".join(
        (b"40000 " if is_dir else b"100644 ") + name.encode() + b"\0" + bytes.fromhex(oid)
        for name, is_dir, oid in sorted(entries, key=sort_key)
    )


def commit_body(tree: str, parent: str | None, message: str, date: str) -> bytes:
    """A git commit object's body: fixed identity, `date` (ISO, UTC) as the unix timestamp."""
    when = dt.datetime.fromisoformat(date.replace("Z", "+00:00"))
    stamp = f"{GIT_IDENTITY} {int(when.timestamp())} +0000"
    parent_line = f"parent {parent}\n" if parent else ""
    text = f"tree {tree}\n{parent_line}author {stamp}\ncommitter {stamp}\n\n{message}"
    return text.encode()


def commit_sha(tree: str, parent: str | None, message: str, date: str) -> str:
    """The real git commit id of that commit object (what `git log` shows after a clone)."""
    return git_object_oid("commit", commit_body(tree, parent, message, date))


def xet_hash(sha256: str) -> str:
    """A stable 64-hex stand-in for the Xet hash of an LFS file."""
    return hashlib.sha256(b"xet:" + sha256.encode()).hexdigest()
