"""The ``sync --from-file`` list: one ``REPO[@REV]`` per line, with its own filters.

Kept in git and run from cron or a systemd timer, so it reads like the command
line it replaces::

    # models the team uses
    acme/bert@main
    dataset:acme/squad --include "data/*.parquet"
    acme/llama --exclude "*.pth" --exclude "original/"
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from hubmirror.errors import InvalidInput
from hubmirror.hub.specs import FileFilter, RepoSpec, parse_repo_spec
from hubmirror.types import RepoType


@dataclass(frozen=True, slots=True)
class SyncItem:
    spec: RepoSpec
    files: FileFilter


def parse_sync_list(text: str, source: str = "sync list") -> list[SyncItem]:
    """Every item of the list; a bad line raises ``InvalidInput`` naming its number."""
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            tokens = shlex.split(line, comments=True)
            if tokens:
                items.append(_item(tokens))
        except (InvalidInput, ValueError) as exc:
            raise InvalidInput(f"{source}, line {number}: {exc}") from None
    return items


def _item(tokens: list[str]) -> SyncItem:
    options: dict[str, list[str]] = {"--type": [], "--include": [], "--exclude": []}
    names: list[str] = []
    rest = iter(tokens)
    for token in rest:
        name, equals, value = token.partition("=")
        if name in options:
            options[name].append(value if equals else next(rest, ""))
        elif token.startswith("-"):
            raise InvalidInput(f"unknown option {token} (use --type, --include, --exclude)")
        else:
            names.append(token)
    if len(names) != 1:
        raise InvalidInput(f"expected one REPO[@REV], got {len(names)}")
    repo_type = RepoType(options["--type"][-1]) if options["--type"] else None
    spec = parse_repo_spec(names[0], repo_type)
    return SyncItem(spec, FileFilter(tuple(options["--include"]), tuple(options["--exclude"])))
