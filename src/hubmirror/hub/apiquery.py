"""The query parameters (and paths-info form fields) each API route takes, in one form.

A stored API answer is keyed by what it answers, so the key must hold only what
changes the answer, written one way. Real clients send few parameters:
``recursive`` and ``expand`` on tree listings (and the upstream's ``cursor`` when
following a ``Link``), ``blobs``, ``securityStatus`` and repeated ``expand`` on
repo info, ``include_prs`` on refs, ``expand[]`` on commits, and ``paths`` with
``expand`` in a paths-info form. Everything else (a stray ``token=``, random
padding) is dropped from the key and from the upstream request alike: no client
sends it, and keeping it would let anyone grow the index with one row — and one
upstream request — per made-up value. Flags become ``true``/``false``, lists are
deduplicated and sorted, so spelling variants share one stored answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from hubmirror.errors import InvalidInput

Pairs = list[tuple[str, str]]

MAX_CURSOR = 1024  # an upstream cursor is opaque but short
MAX_VALUES = 64  # values of one repeated parameter (expand=...)
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.]{0,63}")  # an expand property name
_TRUE = ("1", "true", "yes")


def _flag(true: str, false: str | None) -> Callable[[list[str]], list[str]]:
    """A boolean: the last value decides; ``false=None`` leaves a false flag out."""

    def normal(values: list[str]) -> list[str]:
        truth = true if values[-1].lower() in _TRUE else false
        return [truth] if truth is not None else []

    return normal


def _names(values: list[str]) -> list[str]:
    """Property names (expand=sha&expand=siblings): sorted, deduplicated, well-formed."""
    names = sorted({v for v in values if _NAME.fullmatch(v)})
    if len(names) > MAX_VALUES:
        raise InvalidInput(f"At most {MAX_VALUES} expand values are accepted")
    return names


def _cursor(values: list[str]) -> list[str]:
    """The upstream's page cursor, passed on as it came (its meaning is the upstream's)."""
    if len(values[-1]) > MAX_CURSOR:
        raise InvalidInput("cursor is too long")
    return [values[-1]] if values[-1] else []


def _page(values: list[str]) -> list[str]:
    """A page number (``p=``), digits only."""
    value = values[-1]
    return [value] if value.isdigit() and len(value) <= 6 else []


def _paths(values: list[str]) -> list[str]:
    return sorted({v for v in values if v})


_INFO = {"blobs": _flag("true", None), "securityStatus": _flag("true", None), "expand": _names}
_BY_ACTION: dict[str, dict[str, Callable[[list[str]], list[str]]]] = {
    "info": _INFO,
    "revision": _INFO,
    "tree": {
        "recursive": _flag("true", "false"),
        "expand": _flag("true", "false"),
        "cursor": _cursor,
    },
    "refs": {"include_prs": _flag("1", None)},
    "commits": {"expand[]": _names, "cursor": _cursor, "p": _page},
}
_PATHS_INFO_FORM = {"paths": _paths, "expand": _flag("true", "false")}


def normal_query(action: str, query: Iterable[tuple[str, str]]) -> Pairs:
    """The parameters of ``query`` that ``action`` takes, normalised and in a fixed order."""
    return _normalise(_BY_ACTION.get(action, {}), query)


def normal_form(form: Iterable[tuple[str, str]]) -> Pairs:
    """A paths-info form: its ``paths`` (sorted, once each) and ``expand``, nothing else."""
    return _normalise(_PATHS_INFO_FORM, form)


def _normalise(spec: dict[str, Callable[[list[str]], list[str]]], pairs) -> Pairs:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        if name in spec:
            grouped.setdefault(name, []).append(value)
    return [(name, value) for name in sorted(grouped) for value in spec[name](grouped[name])]
