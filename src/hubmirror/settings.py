"""One table of settings, read from CLI flags, ``HUBMIRROR_*`` variables and a TOML file.

Precedence, highest first: command-line flag, environment variable, TOML file,
default. Each setting is declared once, as a field of ``Settings`` with its cast,
default and help; ``SETTINGS`` lists those rows for the loaders, the command-line
options (``cli/common.py``) and a test that the docs' settings table lists every one
with its environment variable and default.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

ENV_PREFIX = "HUBMIRROR_"


class SettingsError(ValueError):
    """A setting has a value of the wrong shape; the message names the setting."""


def _default_data_dir() -> str:
    home = os.environ.get("HUBMIRROR_HOME")
    return home if home else str(Path("~/.cache/hubmirror").expanduser())


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _as_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",")]
    else:
        items = [str(v).strip() for v in value]
    return tuple(v for v in items if v)


def _number(cast: Callable[[Any], Any], value: Any) -> Any:
    """``cast(value)``, refused in words a person reads (not ``int()``'s)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    try:
        return cast(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        kind = "a whole number" if cast is int else "a number"
        raise ValueError(f"expected {kind}, got {value!r}") from None


def _as_positive(cast: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        number = _number(cast, value)
        if number < 0:
            raise ValueError(f"must not be negative, got {value!r}")
        return number

    return convert


def _as_at_least_one(value: Any) -> int:
    number = _number(int, value)
    if number < 1:
        raise ValueError(f"must be 1 or more, got {value!r}")
    return number


def _as_port(value: Any) -> int:
    """A TCP port, 1-65535; 0 asks the system for a free one (tests, one-off runs)."""
    number = _number(int, value)
    if not 0 <= number <= 65535:
        raise ValueError(f"must be a port number from 1 to 65535 (0: any free port), got {value!r}")
    return number


@dataclass(frozen=True)
class _Choice:
    """A cast to one of a few words, which the command line offers as its choices."""

    choices: tuple[str, ...]

    def __call__(self, value: Any) -> str:
        text = str(value).strip().lower()
        if text not in self.choices:
            raise ValueError(f"expected one of {', '.join(self.choices)}, got {value!r}")
        return text


def _as_choice(*choices: str) -> _Choice:
    return _Choice(choices)


def _as_networks(value: Any) -> tuple[str, ...]:
    """A list of IP addresses or networks, each checked now rather than at the first request."""
    items = _as_list(value)
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(f"not an IP address or network: {item!r}") from None
    return items


def _as_optional_str(value: Any) -> str | None:
    text = str(value).strip()
    return text or None


_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$")
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(value: Any) -> int:
    """Bytes from ``500G``, ``1.5T``, ``200MiB`` or a plain number (powers of 1024)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    match = _SIZE.match(str(value).strip().lower())
    if not match:
        raise ValueError(f"expected a size such as 500G, 20M or 0, got {value!r}")
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2)])


def size_text(size: int) -> str:
    """``20G`` for 20 GiB: the largest unit dividing ``size`` exactly, as ``parse_size`` reads."""
    for suffix in ("T", "G", "M", "K"):
        unit = _SIZE_UNITS[suffix.lower()]
        if size and size % unit == 0:
            return f"{size // unit}{suffix}"
    return str(size)


@dataclass(frozen=True)
class Setting:
    """One row: name (also the TOML key), cast, default, and the help the CLI and docs show.

    ``shown`` says what the default means where the value alone would not (``None``
    meaning ``DATA/index.sqlite``); a ``secret`` is left out of the settings' repr.
    """

    name: str
    cast: Callable[[Any], Any]
    default: Any
    help: str
    shown: str | None = None
    secret: bool = False

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def choices(self) -> tuple[str, ...] | None:
        """The words a choice setting accepts (``access_mode``), else ``None``."""
        return self.cast.choices if isinstance(self.cast, _Choice) else None

    def resolve_default(self) -> Any:
        return self.default() if callable(self.default) else self.default

    def shown_default(self) -> str:
        """The default as ``--help`` and the docs show it: ``600``, ``20G``, ``true``, ``unset``."""
        if self.shown is not None:
            return self.shown
        value = self.resolve_default()
        if value is None:
            return "unset"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, tuple):
            return ", ".join(value) if value else "empty"
        if self.cast is parse_size:
            return size_text(value)
        if isinstance(value, float):
            return f"{value:g}"
        return str(value)


_ROW = "hubmirror.setting"


def _setting(
    cast: Callable[[Any], Any],
    default: Any,
    help: str,
    *,
    shown: str | None = None,
    secret: bool = False,
) -> Any:
    """A ``Settings`` field that carries its row (cast, default, help) in its metadata.

    A callable default is computed when settings are made (``data`` reads
    ``$HUBMIRROR_HOME`` then), not at import.
    """
    row = {"cast": cast, "default": default, "help": help, "shown": shown, "secret": secret}
    metadata = {_ROW: row}
    if callable(default):
        return field(default_factory=default, repr=not secret, metadata=metadata)
    return field(default=default, repr=not secret, metadata=metadata)


@dataclass(frozen=True)
class Settings:
    """The resolved settings, and the one place a setting is declared.

    Each field is a row: its type, then ``_setting(cast, default, help)``. ``SETTINGS``,
    the TOML keys, the ``HUBMIRROR_*`` variables, the command-line options and their
    shown defaults all come from these rows, in this order.
    """

    host: str = _setting(str, "127.0.0.1", "Address to listen on.")
    port: int = _setting(_as_port, 8080, "Port to listen on (1-65535; 0: any free port).")
    workers: int = _setting(
        _as_at_least_one,
        1,
        "Server processes sharing the port (SO_REUSEPORT); fills stay one per blob.",
    )
    data: str = _setting(
        str,
        _default_data_dir,
        "Data directory (blobs, index).",
        shown="$HUBMIRROR_HOME, else ~/.cache/hubmirror",
    )
    upstream: tuple[str, ...] = _setting(
        _as_list,
        ("https://huggingface.co",),
        "Upstream Hub URLs in priority order; repeat the flag, or comma-separate in env/TOML.",
    )
    metadata_ttl: float = _setting(
        _as_positive(float),
        600.0,
        "Seconds a branch/tag → commit answer and API answers are reused before re-asking.",
    )
    access_ttl: float = _setting(
        _as_positive(float),
        300.0,
        "Seconds a token's confirmed access to a gated or private repo is remembered.",
    )
    public_url: str | None = _setting(
        _as_optional_str,
        None,
        "URL clients use to reach the mirror (scheme, host, optional path prefix), "
        "for absolute Link URLs.",
        shown="from each request (Host, X-Forwarded-Proto/Host)",
    )
    metadata_deadline: float = _setting(
        _as_positive(float),
        3.0,
        "Seconds to wait for upstream metadata when a stale answer is at hand; then serve it "
        "and finish the refresh in the background.",
    )
    offline: bool = _setting(_as_bool, False, "Never contact upstream; serve what is cached.")
    min_free_mib: int = _setting(
        _as_positive(int),
        100,
        "Free disk space (MiB) kept: a new fill takes its whole size when it starts; one that"
        " does not fit (after evicting under max_size) answers 507 before any byte.",
    )
    admin_token: str | None = _setting(
        _as_optional_str,
        None,
        "Bearer token for admin routes (POST /admin/offline); unset disables them.",
        secret=True,
    )
    upstream_timeout: float = _setting(
        _as_positive(float),
        10.0,
        "Seconds of upstream silence (before an answer or between bytes) before giving up on"
        " it; connecting gets at most 5 s of it.",
    )
    fill_segments: int = _setting(
        _as_positive(int), 16, "Parallel Range requests a large uncached blob is fetched with."
    )
    fill_segment_mib: int = _setting(
        _as_positive(int),
        8,
        "Smallest segment in MiB: a blob smaller than two segments is fetched in one request.",
    )
    access_log: bool = _setting(_as_bool, True, "Log one line per request.")
    log_level: str = _setting(str, "info", "Logging level: debug, info, warning, error.")
    access_mode: str = _setting(
        _as_choice("open", "allowlist", "approval"),
        "open",
        "open: any repo; allowlist: only repos matching `allow`; approval: others wait for "
        "`hubmirror approve`.",
    )
    allow: tuple[str, ...] = _setting(
        _as_list, (), "Repo globs served in allowlist/approval mode (model:acme/*)."
    )
    deny: tuple[str, ...] = _setting(
        _as_list, (), "Repo globs never served, in every mode (`dataset:*`)."
    )
    offline_access: str = _setting(
        _as_choice("confirmed-tokens", "deny"),
        "confirmed-tokens",
        "In an outage or offline: gated/private content goes to tokens upstream confirmed "
        "before, or to nobody.",
    )
    require_token: bool = _setting(
        _as_bool, False, "Only callers with a mirror token (`hubmirror token create`) are served."
    )
    upstream_token: str | None = _setting(
        _as_optional_str,
        None,
        "Organisation token sent upstream for mirror-token callers (gated repos it accepted).",
        secret=True,
    )
    audit: bool = _setting(
        _as_bool, True, "Record downloads and access decisions (index + JSON lines)."
    )
    audit_file: str | None = _setting(
        _as_optional_str, None, "JSON-lines audit file.", shown="DATA/audit.jsonl"
    )
    audit_max_rows: int = _setting(
        _as_positive(int),
        1_000_000,
        "Audit records kept in the index, the oldest dropped first (0 = all; the JSON-lines "
        "file keeps every one).",
    )
    max_api_answers: int = _setting(
        _as_positive(int),
        100_000,
        "Stored API answers (remembered 404s included) kept in the index, the oldest "
        "forgotten first (0 = no limit).",
    )
    max_missing_files: int = _setting(
        _as_positive(int),
        10_000,
        "Files (and API 404s: missing folders) upstream said do not exist that are remembered, "
        "the oldest forgotten first (0 = no limit).",
    )
    max_pending_approvals: int = _setting(
        _as_positive(int),
        1_000,
        "Approval mode: requests awaiting a decision; past it new ones are refused with 429 "
        "(0 = no limit).",
    )
    approval_requests_per_hour: int = _setting(
        _as_positive(int),
        20,
        "Approval mode: new approval requests one client address may make per hour; more "
        "are refused with 429 (0 = no limit).",
    )
    redirect_hosts: tuple[str, ...] = _setting(
        _as_list,
        (),
        "Extra hosts upstream redirects may lead to, besides the upstreams and the Hub's CDNs.",
    )
    max_fills_per_client: int = _setting(
        _as_positive(int),
        32,
        "Uncached files one client address may have being fetched at once (0 = no limit).",
    )
    rate_limit: float = _setting(
        _as_positive(float),
        0.0,
        "Requests per second one client address may make, on average (0 = no limit).",
    )
    rate_burst: int = _setting(
        _as_positive(int),
        200,
        "Requests a client may make at once above `rate_limit` before being slowed down.",
    )
    keepalive_timeout: float = _setting(
        _as_positive(float),
        75.0,
        "Seconds a connection may wait for its next request to arrive whole: idle between"
        " requests, or headers sent part-way; then it is closed (0 = never).",
    )
    body_timeout: float = _setting(
        _as_positive(float),
        30.0,
        "Seconds a request body (a paths-info form, an admin POST) may take to arrive;"
        " then 408 (0 = no limit).",
    )
    max_size: int = _setting(
        parse_size,
        0,
        "Store quota: bytes (suffix K, M, G, T) that stored blobs and fills in flight stay"
        " under, for all workers; least recently read blobs are evicted (0 = no quota).",
    )
    drain_seconds: float = _setting(
        _as_positive(float),
        30.0,
        "On SIGTERM: seconds running downloads and fills may take to finish before they are "
        "cut (cut fills keep their bytes for resume).",
    )
    trusted_proxies: tuple[str, ...] = _setting(
        _as_networks,
        (),
        "Reverse proxies (IPs or networks) whose X-Forwarded-For names the client, for the "
        "per-client limits and the audit log.",
    )
    index: str | None = _setting(
        _as_optional_str,
        None,
        "Index database: a postgresql:// URL shared by several nodes.",
        shown="DATA/index.sqlite",
    )
    store: str | None = _setting(
        _as_optional_str,
        None,
        "Blob store: s3://BUCKET[/PREFIX] in S3-compatible object storage.",
        shown="DATA/blobs",
    )
    s3_endpoint: str | None = _setting(
        _as_optional_str,
        None,
        "S3 endpoint URL (MinIO, Ceph RGW, OSS, COS); unset: AWS's for the region.",
        shown="AWS",
    )
    s3_region: str = _setting(str, "us-east-1", "S3 region.")
    s3_addressing_style: str = _setting(
        _as_choice("auto", "path", "virtual"),
        "auto",
        "How buckets are addressed: path (MinIO, Ceph RGW), virtual (Alibaba OSS, Tencent COS), "
        "or auto: path with an s3_endpoint, AWS's choice without.",
    )
    s3_access_key: str | None = _setting(
        _as_optional_str,
        None,
        "S3 access key (else AWS_ACCESS_KEY_ID and the rest of the AWS credential chain).",
        shown="AWS credential chain",
        secret=True,
    )
    s3_secret_key: str | None = _setting(
        _as_optional_str,
        None,
        "S3 secret key (else AWS_SECRET_ACCESS_KEY and the rest of the AWS credential chain).",
        shown="AWS credential chain",
        secret=True,
    )
    local_tier_size: int = _setting(
        parse_size,
        20 * 1024**3,
        "With an s3:// store: bytes of hot blobs kept on local disk in front of it, served at "
        "disk speed (suffix K, M, G, T; 0 = none, blobs stream from the store).",
    )
    node_url: str | None = _setting(
        _as_optional_str,
        None,
        "With a shared index: URL other nodes reach this node at, to read its running fills.",
        shown="http://HOSTNAME:PORT",
    )
    node_secret: str | None = _setting(
        _as_optional_str,
        None,
        "With a shared index: secret that signs node-to-node requests.",
        shown="generated, kept in the shared index",
        secret=True,
    )
    xet_serve: bool = _setting(
        _as_bool,
        True,
        "Serve hf_xet clients: advertise Xet hashes the mirror computed and "
        "answer the Xet token, reconstruction and xorb requests itself. Off: Xet is stripped "
        "(no X-Xet-Hash, no xetHash) and clients download plain HTTP.",
    )
    xet_upstream: bool = _setting(
        _as_bool,
        False,
        "Fetch Xet-backed files from upstream with hf_xet (verified like any fill).",
    )

    def replace(self, **changes: Any) -> Settings:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Settings(**values)


SETTINGS: tuple[Setting, ...] = tuple(Setting(f.name, **f.metadata[_ROW]) for f in fields(Settings))


def load_settings(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_file: str | Path | None = None,
    recorded: Mapping[str, Any] | None = None,
) -> Settings:
    """Merge the sources by precedence; unknown TOML keys and bad values are errors.

    ``recorded`` (the settings ``serve`` recorded in the data directory) ranks below the
    config file and above the defaults: a command run beside a server uses its upstreams,
    access mode, index..., unless its own flags, variables or file say otherwise.
    """
    env = os.environ if env is None else env
    config_file = config_file or env.get(ENV_PREFIX + "CONFIG")
    file_values = _read_toml(Path(config_file)) if config_file else {}
    flags = {k: v for k, v in (flags or {}).items() if v is not None and v != ()}
    values = {}
    for setting in SETTINGS:
        raw, source = _pick(setting, flags, env, file_values)
        if source == "default" and setting.name in (recorded or {}):
            raw, source = recorded[setting.name], "the settings serve recorded"
        elif source == "default":
            values[setting.name] = setting.resolve_default()
            continue
        try:
            values[setting.name] = setting.cast(raw)
        except (TypeError, ValueError) as exc:
            raise SettingsError(f"setting '{setting.name}' (from {source}): {exc}") from None
    return Settings(**values)


def _pick(
    setting: Setting, flags: Mapping[str, Any], env: Mapping[str, str], file_values: dict
) -> tuple[Any, str]:
    if setting.name in flags:
        return flags[setting.name], f"flag {setting.flag}"
    if setting.env_var in env:
        return env[setting.env_var], f"environment variable {setting.env_var}"
    if setting.name in file_values:
        return file_values[setting.name], "config file"
    return None, "default"


def _read_toml(path: Path) -> dict[str, Any]:
    data = _toml_table(path)
    known = {s.name for s in SETTINGS}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SettingsError(f"config file {path}: unknown setting(s) {', '.join(unknown)}")
    return data


def _toml_table(path: Path) -> dict[str, Any]:
    """The settings table of a TOML file: ``[hubmirror]`` if present, else the top level."""
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise SettingsError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None
    table = data.get("hubmirror")
    if table is None:
        return data
    if not isinstance(table, dict):
        raise SettingsError(f"config file {path}: 'hubmirror' must be a table ([hubmirror])")
    outside = sorted(key for key in data if key != "hubmirror")
    if outside:
        unknown = sorted(set(table) - {s.name for s in SETTINGS})
        also = f"; unknown inside it: {', '.join(unknown)}" if unknown else ""
        raise SettingsError(
            f"config file {path}: {', '.join(outside)} outside the [hubmirror] table would be "
            f"ignored: put every setting inside [hubmirror], or use no table at all{also}"
        )
    return table


def file_values(path: str | Path) -> tuple[dict[str, Any], list[str]]:
    """A config file's good values, and every problem of the others, each naming its key
    (``load_settings`` stops at the first): unknown keys, values of the wrong TOML type,
    values the cast refuses."""
    data = _toml_table(Path(path))
    rows = {s.name: s for s in SETTINGS}
    problems = [f"unknown setting '{key}'" for key in sorted(set(data) - set(rows))]
    values = {}
    for name, raw in data.items():
        setting = rows.get(name)
        if setting is None:
            continue
        problem = _type_problem(setting, raw)
        if problem is None:
            try:
                values[name] = setting.cast(raw)
            except (TypeError, ValueError) as exc:
                problem = str(exc)
        if problem:
            problems.append(f"setting '{name}': {problem}")
    return values, problems


_TOML_TYPES = {
    bool: ((bool,), "true or false"),
    int: ((int,), "an integer"),
    float: ((int, float), "a number"),
    tuple: ((list, str), "a list of strings"),
}


def _type_problem(setting: Setting, raw: Any) -> str | None:
    """A TOML value of the wrong kind (``port = "80"``, ``offline = 1``), said plainly.

    The kind is the default's kind (a string when the default is unset); a size takes a
    number or a string with a suffix.
    """
    accepted, words = _TOML_TYPES.get(type(setting.resolve_default()), ((str,), "a string"))
    if setting.cast is parse_size:
        accepted, words = (int, str), "a size such as 500G"
    if isinstance(raw, bool) and bool not in accepted:
        return f"expected {words}, got {raw!r}"
    if not isinstance(raw, accepted):
        return f"expected {words}, got {raw!r}"
    if isinstance(raw, list) and not all(isinstance(item, str) for item in raw):
        return f"expected {words}, got {raw!r}"
    return None
