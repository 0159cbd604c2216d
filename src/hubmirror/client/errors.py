"""Errors of the client side, on top of ``hubmirror.errors``.

Refusals (``RepoNotFound``, ``GatedRepo``, ...) and ``IntegrityError`` come from
``hubmirror.errors`` unchanged; these add what only a client with several mirrors sees.
"""

from __future__ import annotations

from hubmirror.errors import HubMirrorError, UpstreamUnavailable


class NoMirrorAnswered(UpstreamUnavailable):
    """Every mirror failed; ``failures`` holds (mirror, what went wrong) in the order tried."""

    def __init__(self, what: str, failures: list[tuple[str, str]]) -> None:
        lines = "".join(f"\n  {_with_mirror(mirror, problem)}" for mirror, problem in failures)
        super().__init__(f"{what}; every mirror failed:{lines}")
        self.failures = failures


class DownloadFailed(HubMirrorError):
    """Some files could not be downloaded; ``errors`` maps each repo path to its error."""

    def __init__(self, errors: dict[str, Exception], shown: int = 10) -> None:
        lines = [f"{path}: {error}" for path, error in sorted(errors.items())]
        if len(lines) > shown:
            lines[shown:] = [f"... and {len(lines) - shown} more"]
        super().__init__(f"{len(errors)} file(s) failed:\n" + "\n".join(lines))
        self.errors = errors


def _with_mirror(mirror: str, problem: str) -> str:
    return problem if mirror in problem else f"{mirror}: {problem}"
