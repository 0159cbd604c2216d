"""The settings rows against what users read: the docs' settings tables, and reprs.

Every Markdown table in README.md or docs/ headed setting / environment / default
(/ flag) must agree with the rows: each setting listed, its variable, its default
as ``--help`` shows it, and a flag exactly where a command offers one.
"""

import re
from pathlib import Path

from hubmirror.settings import SETTINGS, Settings

ROOT = Path(__file__).resolve().parents[2]
DOCS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))


def test_secret_settings_stay_out_of_the_settings_repr():
    secrets = {s.name: f"secret-{s.name}" for s in SETTINGS if s.secret}
    shown = repr(Settings(**secrets))
    assert set(secrets) == {
        "admin_token",
        "upstream_token",
        "s3_access_key",
        "s3_secret_key",
        "node_secret",
    }
    assert not [value for value in secrets.values() if value in shown]


def test_docs_settings_table_lists_every_setting_with_its_variable_flag_and_default():
    rows = documented_settings()
    assert sorted({name for _, name, _ in rows}) == sorted(s.name for s in SETTINGS)
    by_name = {s.name: s for s in SETTINGS}
    flagged = settings_offered_as_flags()
    for source, name, cells in rows:
        setting, where = by_name[name], f"{source}: {name}"
        assert re.search(rf"\b{setting.env_var}\b", cells["environment"]), where
        assert _plain(cells["default"]) == _plain(setting.shown_default()), where
        if "flag" in cells:
            if name in flagged:
                assert re.search(rf"{setting.flag}\b(?!-)", cells["flag"]), where
            else:
                assert "--" not in cells["flag"], where


def documented_settings() -> list[tuple[str, str, dict[str, str]]]:
    """``(file, name, cells)`` for every row of a settings table in README.md or docs/.

    A settings table is a Markdown table whose header has a setting column first, and
    environment and default columns; cells are keyed by those words (and ``flag``).
    """
    found = []
    for path in DOCS:
        if not path.exists():
            continue
        lines = path.read_text().splitlines()
        for at, line in enumerate(lines[:-1]):
            columns = _header(line, lines[at + 1])
            if columns is None:
                continue
            for row in lines[at + 2 :]:
                cells = _cells(row)
                if cells is None:
                    break
                keyed = {key: cells[i] for key, i in columns.items() if i < len(cells)}
                found.append((path.name, cells[0].strip("` "), keyed))
    return found


def settings_offered_as_flags() -> set[str]:
    from hubmirror.cli import main

    rows = {s.name: s for s in SETTINGS}
    commands, offered = [main], set()
    while commands:
        command = commands.pop()
        commands += getattr(command, "commands", {}).values()
        for param in command.params:  # not `cache prune --max-size`, a size of its own
            row = rows.get(param.name)
            if row and getattr(param, "help", "").startswith(row.help):
                offered.add(row.name)
    return offered


def _header(line: str, rule: str) -> dict[str, int] | None:
    cells, rule_cells = _cells(line), _cells(rule)
    if not cells or not rule_cells or not all(set(c) <= set("-: ") for c in rule_cells):
        return None
    titles = [c.lower() for c in cells]
    if "setting" not in titles[0]:
        return None
    columns = {}
    for key in ("environment", "default", "flag"):
        matches = [i for i, title in enumerate(titles) if title.startswith(key[:3])]
        if matches:
            columns[key] = matches[0]
    return columns if "environment" in columns and "default" in columns else None


def _cells(line: str) -> list[str] | None:
    line = line.strip()
    if not line.startswith("|"):
        return None
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip("|"))]


def _plain(text: str) -> str:
    return " ".join(text.replace("`", "").lower().split())
