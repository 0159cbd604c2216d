"""The settings pages agree with ``SETTINGS``: docs/settings.md lists every setting with its
flag, variable and default; the README's short table is rows of that one.
"""

from __future__ import annotations

import re
from pathlib import Path

from hubmirror.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
BY_NAME = {setting.name: setting for setting in SETTINGS}
# The flags `hubmirror serve` offers for settings (the rest: variable or file only).
FLAGS = {"host", "port", "workers", "data", "upstream", "metadata_ttl", "public_url"}
FLAGS |= {"offline", "access_mode", "index", "store"}


def rows(page: str) -> dict[str, list[str]]:
    """The settings table rows of a page: setting name -> its cells."""
    found = {}
    for line in (ROOT / page).read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        named = re.fullmatch(r"`[a-z0-9_]+`", cells[0])
        if len(cells) == 5 and named and "`HUBMIRROR_" in cells[2]:
            found[cells[0].strip("`")] = cells
    return found


def default_matches(setting, cell: str) -> bool:
    """A cell that is one literal (`600`, `true`, `20G`) reads as the setting's default; a
    computed or empty default is words (unset, empty) or a placeholder (`DATA/index.sqlite`)."""
    literal = re.fullmatch(r"`([^`]+)`", cell)
    if setting.default in (None, ()) or callable(setting.default):
        return not literal or bool(re.search(r"DATA|HOSTNAME|\$", cell))
    return bool(literal) and setting.cast(literal.group(1)) == setting.resolve_default()


def test_every_setting_has_one_row_in_the_settings_page():
    assert list(rows("docs/settings.md")) == [setting.name for setting in SETTINGS]


def test_each_row_names_the_settings_variable_flag_and_default():
    for name, cells in rows("docs/settings.md").items():
        setting = BY_NAME[name]
        _, flag, env, default, _ = cells
        assert env.startswith(f"`{setting.env_var}`"), name
        assert flag.startswith(f"`{setting.flag}`") if name in FLAGS else flag == "—", name
        assert default_matches(setting, default), name


def test_the_readmes_short_table_is_rows_of_the_settings_page():
    full = rows("docs/settings.md")
    short = rows("README.md")
    assert 5 <= len(short) <= 12
    for name, cells in short.items():
        assert cells[:4] == full[name][:4], name  # setting, flag, variable, default


def test_a_wrong_default_is_caught():
    port = BY_NAME["port"]
    assert default_matches(port, "`8080`")
    assert not default_matches(port, "`8000`")
    assert not default_matches(port, "unset")
