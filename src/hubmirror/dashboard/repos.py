"""The browser of cached repos: which repos, their revisions and commits, their files."""

from __future__ import annotations

from urllib.parse import quote

from hubmirror.dashboard.context import DashboardContext
from hubmirror.dashboard.html import esc, size, table, when
from hubmirror.mirror.service import Viewer
from hubmirror.mirror.views import CommitFiles
from hubmirror.types import RepoId


def repo_link(ctx: DashboardContext, repo: RepoId) -> str:
    path = f"/dashboard/repos/{repo.repo_type.value}/{quote(repo.name, safe='/')}"
    return f'<a href="{esc(ctx.link(path))}">{esc(repo.name)}</a>'


def repos_body(ctx: DashboardContext, viewer: Viewer) -> str:
    """The cached repos this visitor may see named (gated and private ones: see disclosure.py)."""
    repos = ctx.mirror.repos_seen_by(viewer)
    if not repos:
        return "<p>Nothing cached yet.</p>"
    rows = [[esc(r.repo_type.value), repo_link(ctx, r)] for r in repos]
    return table(["Type", "Repo"], rows)


def repo_body(ctx: DashboardContext, repo: RepoId) -> str:
    """One repo's revisions and files: only for a visitor who may see it (``Mirror.may_see``)."""
    contents = ctx.mirror.repo_contents(repo)
    revisions = contents.revisions
    rows = [[esc(rev), f"<code>{esc(commit)}</code>"] for rev, commit in revisions.items()]
    parts = ["<section><h2>Revisions</h2>" + table(["Revision", "Commit"], rows) + "</section>"]
    for commit in contents.commits:
        parts.append(_commit_section(commit, revisions))
    return "".join(parts)


def _commit_section(commit_files: CommitFiles, revisions: dict[str, str]) -> str:
    commit = commit_files.commit
    names = [rev for rev, c in revisions.items() if c == commit]
    label = f" ({esc(', '.join(names))})" if names else ""
    rows = [
        [
            esc(f.path),
            f'<span class="num" title="{f.size} bytes">{esc(size(f.size))}</span>',
            "stored" if f.stored else "not stored",
            esc(when(f.last_access)),
        ]
        for f in commit_files.files
    ]
    headings = ["File", "Size", "Cache", "Last access"]
    return (
        f'<section class="commit"><h2>Commit <code>{esc(commit)}</code>{label}</h2>'
        + table(headings, rows)
        + "</section>"
    )
