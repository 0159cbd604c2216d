"""How much of what strangers can make the mirror remember is kept.

Every made-up path, query or repo name a caller sends can leave a row behind: a
remembered miss, a stored API answer, an audit record, an approval request. Each
kind is kept to a number of rows (``IndexLimits``); ``RowBounds`` counts the writes
and, every ``TRIM_EVERY`` of them (a tenth of a small limit), forgets the oldest rows
beyond the limit: a table never holds more than a tenth over its limit. Misses at paths
longer than ``MISS_PATH_MAX`` are not remembered at all, so a row stays small.
"""

from __future__ import annotations

from dataclasses import dataclass

from hubmirror.index.queries import Index

TRIM_EVERY = 100  # writes between two trims: counting a table is not free
MISS_PATH_MAX = 256  # longer missing paths are not remembered: no client probes such names


@dataclass(frozen=True, slots=True)
class IndexLimits:
    """Rows kept per table strangers can grow (the settings of the same names; 0 = no limit)."""

    max_api_answers: int = 100_000  # stored API answers, remembered 404s included
    max_missing_files: int = 10_000  # files, and API 404s (folders), upstream said are not there
    max_pending_approvals: int = 1_000
    approval_requests_per_hour: int = 20  # new approval requests per client address


class RowBounds:
    """Trims stored answers and remembered misses (``trims.KINDS``) as they grow."""

    def __init__(self, index: Index, limits: IndexLimits, every: int = TRIM_EVERY) -> None:
        self.index = index
        self.keep = {
            "api_answers": limits.max_api_answers,
            "missing_answers": limits.max_missing_files,
            "missing_entries": limits.max_missing_files,
        }
        self.every = {t: max(1, min(every, keep // 10)) for t, keep in self.keep.items()}
        self._writes = dict.fromkeys(self.keep, 0)

    @staticmethod
    def keeps_miss(path: str) -> bool:
        """Is a miss at ``path`` worth a row? Clients probe short names (a config, a
        template folder); a miss at a 4 KiB made-up path would cost a row of 10 KiB."""
        return len(path) <= MISS_PATH_MAX

    def wrote(self, kind: str) -> None:
        """One more row of ``kind``; trim it when enough writes went by."""
        if not self.keep[kind]:
            return
        self._writes[kind] += 1
        if self._writes[kind] >= self.every[kind]:
            self._writes[kind] = 0
            self.index.trim(kind, self.keep[kind])
