"""Git object ids, computed the way git and the Hub compute them.

Clients check these: `hf cache verify` compares a regular file with its tree `oid` (git blob
sha1) and an LFS file with `lfs.oid` (sha256), so the fake must produce real hashes, not
random hex. Commit ids are the one thing we only fake (stable sha1 of their inputs).
"""

import hashlib

LFS_SPEC = "https://git-lfs.github.com/spec/v1"


def git_blob_oid(data: bytes) -> str:
    """The sha1 git gives a blob: sha1(b"blob <len>\\0" + data)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The pointer text git-lfs stores in the repo in place of the real bytes."""
    return f"version {LFS_SPEC}\noid sha256:{sha256}\nsize {size}\n".encode()


def tree_oid(entries: list[tuple[str, bool, str]]) -> str:
    """The sha1 of a git tree object made of (name, is_dir, oid hex) entries.

    Git sorts entries by name, comparing a directory as if its name ended with "/".
    """

    def sort_key(entry: tuple[str, bool, str]) -> bytes:
        name, is_dir, _ = entry
        return (name + "/" if is_dir else name).encode()

    body = b"".join(
        (b"40000 " if is_dir else b"100644 ") + name.encode() + b"\0" + bytes.fromhex(oid)
        for name, is_dir, oid in sorted(entries, key=sort_key)
    )
    return hashlib.sha1(b"tree %d\0" % len(body) + body).hexdigest()


def commit_sha(repo_key: str, tree: str, parent: str | None, title: str, date: str) -> str:
    """A stable 40-hex commit id; the repo key keeps equal trees in two repos apart."""
    text = f"repo {repo_key}\ntree {tree}\nparent {parent or ''}\ndate {date}\n\n{title}\n"
    return hashlib.sha1(b"commit %d\0" % len(text) + text.encode()).hexdigest()


def xet_hash(sha256: str) -> str:
    """A stable 64-hex stand-in for the Xet hash of an LFS file."""
    return hashlib.sha256(b"xet:" + sha256.encode()).hexdigest()
