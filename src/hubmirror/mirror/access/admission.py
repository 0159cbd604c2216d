"""Which repos this mirror serves at all: deny and allow lists, and the approval queue.

Decided before anything is looked up or fetched, per repo, for every caller:

- a repo matching ``deny``, or one an operator denied, is refused in every mode;
- ``open`` serves every other repo;
- ``allowlist`` serves repos matching ``allow`` (or approved by an operator);
- ``approval`` does the same, and records a request for any other repo — who, what,
  when — answering 403 until ``hubmirror approve`` (or ``deny``) decides.

Decisions are read from the index and kept for ``RECHECK`` seconds, so an approval
given by the command in another process takes effect within seconds.

Anyone can ask for any name, so new requests are bounded: each client address may
open ``approval_requests_per_hour`` of them, and at most ``max_pending_approvals``
wait at once; past either, the caller gets a 429 and nothing is recorded. Asking
again for a repo already waiting only counts (``requests``).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from hubmirror.errors import AwaitingApproval, NotAllowed, TooManyRequests
from hubmirror.hub.repoglobs import RepoGlob, matches
from hubmirror.index.access import AccessRecords
from hubmirror.mirror.access.callers import Caller
from hubmirror.mirror.answers.bounds import IndexLimits
from hubmirror.mirror.lru import LRU
from hubmirror.types import RepoId

RECHECK = 5.0  # seconds a repo's verdict is reused before the index is read again
VERDICTS_KEPT = 100_000  # repos whose verdict stays in memory
ASKERS_KEPT = 100_000  # client addresses whose new requests this hour are counted
HOUR = 3600.0
OPEN, ALLOWLIST, APPROVAL = "open", "allowlist", "approval"


class Verdict(enum.Enum):
    ALLOWED = "allowed"
    DENIED = "denied"
    NOT_LISTED = "not-listed"
    PENDING = "pending"


REFUSAL_REASONS = {
    Verdict.DENIED: "matches a deny pattern, or an operator denied it",
    Verdict.NOT_LISTED: "not on the allow list",
    Verdict.PENDING: "awaits approval",
}


@dataclass(frozen=True, slots=True)
class AccessRules:
    """The operator's rules: a mode and two lists of ``TYPE:GLOB`` patterns."""

    mode: str = OPEN
    allow: tuple[RepoGlob | str, ...] = ()
    deny: tuple[RepoGlob | str, ...] = ()

    def verdict(self, repo: RepoId, decision: str | None) -> Verdict:
        """``decision`` is an operator's ``approved``/``denied``, if any."""
        if decision == "denied" or matches(repo, self.deny):
            return Verdict.DENIED
        if self.mode == OPEN or decision == "approved" or matches(repo, self.allow):
            return Verdict.ALLOWED
        return Verdict.PENDING if self.mode == APPROVAL else Verdict.NOT_LISTED


class DecisionLog(Protocol):
    """Where refusals are written down (the audit log)."""

    def decision(self, caller, repo, revision, path, verdict: str, reason: str) -> None: ...


class Admission:
    def __init__(
        self,
        rules: AccessRules,
        records: AccessRecords,
        clock: Callable[[], float] = time.time,
        *,
        audit: DecisionLog | None = None,
        limits: IndexLimits | None = None,
    ) -> None:
        """``audit``: every refusal is recorded there, with its reason."""
        self.rules = rules
        self.records = records
        self.clock = clock
        self.audit = audit
        self.limits = limits or IndexLimits()
        self._verdicts: LRU[str, tuple[Verdict, float]] = LRU(VERDICTS_KEPT)
        self._asked: LRU[str, tuple[float, int]] = LRU(ASKERS_KEPT)  # address: hour, count

    def admit(self, caller: Caller, repo: RepoId) -> None:
        """Return if this mirror serves ``repo``; else raise, recording a pending request."""
        verdict = self._verdict(repo)
        if verdict is Verdict.ALLOWED:
            return
        if verdict is Verdict.PENDING:
            self._request(caller, repo)
        if self.audit is not None:
            self.audit.decision(caller, repo, None, None, verdict.value, REFUSAL_REASONS[verdict])
        raise _refusal(repo, verdict)

    def _request(self, caller: Caller, repo: RepoId) -> None:
        """Record (or count again) a request; a new one only within the limits."""
        if self.records.approval(repo) is None:
            self._check_new_request(caller.address)
        self.records.request_approval(repo, caller.who, self.clock())

    def _check_new_request(self, address: str) -> None:
        now, per_hour = self.clock(), self.limits.approval_requests_per_hour
        start, count = self._asked.get(address) or (now, 0)
        if now - start >= HOUR:
            start, count = now, 0
        if per_hour and count >= per_hour:
            raise TooManyRequests(
                f"{address} asked for {count} repos not yet served this hour; wait for "
                "the operators' decisions",
                retry_after=int(start + HOUR - now) + 1,
            )
        most = self.limits.max_pending_approvals
        if most and self.records.pending_count() >= most:
            raise TooManyRequests(
                f"{most} repos already await approval on this mirror; try again once its "
                "operators have decided on them",
                retry_after=int(HOUR),
            )
        self._asked.put(address, (start, count + 1))

    def forget(self, repo: RepoId) -> None:
        """Drop the remembered verdict: an operator here just decided on ``repo``."""
        self._verdicts.pop(repo.key)

    def _verdict(self, repo: RepoId) -> Verdict:
        now = self.clock()
        known = self._verdicts.get(repo.key)
        if known is not None and now - known[1] < RECHECK:
            return known[0]
        approval = self.records.approval(repo)
        decision = approval.state if approval else None
        verdict = self.rules.verdict(repo, decision)
        self._verdicts.put(repo.key, (verdict, now))
        return verdict


def _refusal(repo: RepoId, verdict: Verdict) -> NotAllowed:
    name = f"{repo.repo_type.value} {repo.name}"
    if verdict is Verdict.PENDING:
        return AwaitingApproval(
            f"{name} is not yet available on this mirror: the request was recorded and "
            "awaits approval by its operators; try again once it is approved"
        )
    if verdict is Verdict.DENIED:
        return NotAllowed(f"{name} is not served by this mirror (denied by its operators)")
    return NotAllowed(f"{name} is not on this mirror's allow list; ask its operators to allow it")
