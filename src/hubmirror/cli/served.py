"""The settings ``serve`` records in its data directory, for the commands run beside it.

``hubmirror sync``, ``approve``, ``cache``... are separate processes with their own
flags: without this record, one run beside a server started with ``--upstream X``
would go to huggingface.co, and ``approve`` could not know the server's access mode.
``serve`` writes ``DATA/server-settings.toml`` at each start (atomically: a reader
never sees half a file); every other command reads it as a layer below its own flags,
``HUBMIRROR_*`` variables and ``--config`` file, above the defaults.

Secrets never reach the file. ``[secrets]`` says where serve read each one: a config
file (which a command that may read it reads the secret from), a variable (which a
command's own environment supplies, or not) or serve's command line. A URL with a
password (an ``index``, an ``upstream``) is recorded without it, and referenced so.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from hubmirror.hub.redirects import without_userinfo
from hubmirror.settings import SETTINGS, Settings, SettingsError, file_values

RECORD = "server-settings.toml"
_NOT_SHARED = ("data",)  # where the record is: a command found it there already
_HEADER = """\
# Written by 'hubmirror serve' (pid {pid}) at {when}; rewritten at each start.
# Every hubmirror command run on this data directory uses these settings unless its own
# flags, HUBMIRROR_* variables or --config file set them. Secrets are not written here:
# [secrets] names where serve read each one.
"""


def record_settings(settings: Settings, origins: dict[str, dict[str, str]]) -> Path:
    """Write ``DATA/server-settings.toml``: temp file, fsync, rename (never half a file).

    ``origins`` (``setting_origins``) say where each secret was read."""
    plain, secrets = _split(settings, origins)
    text = _HEADER.format(pid=os.getpid(), when=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    text += "[settings]\n" + "".join(f"{name} = {toml_value(v)}\n" for name, v in plain.items())
    text += "\n[secrets]\n" + "".join(f"{name} = {ref}\n" for name, ref in secrets.items())
    path = Path(settings.data).expanduser() / RECORD
    temp = path.with_name(f".{RECORD}.{os.getpid()}.tmp")
    with open(temp, "w") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temp, path)
    return path


def try_record_settings(settings: Settings, origins: dict[str, dict[str, str]]) -> None:
    """``record_settings``, a failure (a full disk) logged: it must not stop a server."""
    try:
        record_settings(settings, origins)
    except OSError as exc:
        logging.getLogger("hubmirror").warning(
            "cannot record the settings in %s: %s; commands run beside this server use only "
            "their own",
            exc.filename or settings.data,
            exc.strerror or exc,
        )


def recorded_settings(data: str) -> tuple[dict[str, Any], Path] | None:
    """The settings a server recorded in ``data`` (secrets read where they are referenced
    and readable), and the record's path; ``None`` when no server recorded any."""
    path = Path(data).expanduser() / RECORD
    try:
        import tomllib

        record = tomllib.loads(path.read_text())
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, ValueError) as exc:
        raise SettingsError(f"cannot read the settings serve recorded in {path}: {exc}") from None
    known = {s.name for s in SETTINGS} - set(_NOT_SHARED)
    values = {k: v for k, v in record.get("settings", {}).items() if k in known}
    for name, ref in record.get("secrets", {}).items():
        secret = _referenced(name, ref) if name in known else None
        if secret is not None:
            values[name] = secret
    return values, path


def setting_origins(
    flags: Mapping[str, Any], config_file: str | None, env: Mapping[str, str]
) -> dict[str, dict[str, str]]:
    """Where each setting given was read, as a ``[secrets]`` reference: ``{flag = ...}``,
    ``{env = ...}`` or ``{file = ...}`` (absolute). Defaults are left out."""
    config_file = config_file or env.get("HUBMIRROR_CONFIG")
    in_file = set(file_values(config_file)[0]) if config_file else set()
    found = {}
    for setting in SETTINGS:
        if flags.get(setting.name) not in (None, ()):
            found[setting.name] = {"flag": setting.flag}
        elif setting.env_var in env:
            found[setting.name] = {"env": setting.env_var}
        elif setting.name in in_file:
            found[setting.name] = {"file": str(Path(config_file).expanduser().resolve())}
    return found


def _split(settings: Settings, origins: dict) -> tuple[dict[str, Any], dict[str, str]]:
    """The values to write, and a reference for each secret (or password) left out."""
    rows = {s.name: s for s in SETTINGS}
    plain, secrets = {}, {}
    for field in fields(settings):
        name, value = field.name, getattr(settings, field.name)
        if name in _NOT_SHARED or value is None:
            continue
        stripped = without_passwords(value)
        if rows[name].secret or stripped != value:
            origin = origins.get(name, {})
            secrets[name] = "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in origin.items())
            secrets[name] += " }"
            if rows[name].secret:
                continue
        plain[name] = stripped
    return plain, secrets


def without_passwords(value: Any) -> Any:
    if isinstance(value, str) and "://" in value:
        return without_userinfo(value)
    if isinstance(value, tuple):
        return tuple(without_passwords(v) for v in value)
    return value


def _referenced(name: str, ref: Any) -> Any:
    """A secret from the config file serve read it from, if this user may read it. A
    variable is this command's own environment's business (it ranks higher anyway)."""
    if not isinstance(ref, dict) or not isinstance(ref.get("file"), str):
        return None
    try:
        values, _ = file_values(ref["file"])
    except (SettingsError, OSError):
        return None
    return values.get(name)


def toml_value(value: Any) -> str:
    """``value`` as TOML: strings quoted and escaped, tuples as arrays, booleans lowercase."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    return str(value)
