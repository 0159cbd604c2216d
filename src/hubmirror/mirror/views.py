"""Plain values the dashboard's pages are built from, read from the index by the facade.

The pages never query the index themselves: ``Mirror.pending_approvals`` and
``Mirror.repo_contents`` hand them one of these.
"""

from __future__ import annotations

from dataclasses import dataclass

from hubmirror.index.access import Approval
from hubmirror.index.queries import CachedFile


@dataclass(frozen=True)
class ApprovalsPage:
    """One page of the repos awaiting an operator's decision, newest first."""

    total: int  # pending in all, not only on this page
    pending: list[Approval]


@dataclass(frozen=True)
class CommitFiles:
    commit: str
    files: list[CachedFile]  # each with whether its blob is stored, and its last read


@dataclass(frozen=True)
class RepoContents:
    """What the mirror holds of one repo: revisions as last resolved, files per commit."""

    revisions: dict[str, str]  # revision -> commit
    commits: list[CommitFiles]
