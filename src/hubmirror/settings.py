"""One table of settings, read from CLI flags, ``HUBMIRROR_*`` variables and a TOML file.

Precedence, highest first: command-line flag, environment variable, TOML file,
default. Each setting is a row of ``SETTINGS``; the README's table is checked
against it by a test, so a setting cannot exist without documentation.
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


def _as_positive(cast: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        number = cast(value)
        if number < 0:
            raise ValueError(f"must not be negative, got {value!r}")
        return number

    return convert


def _as_choice(*choices: str) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        text = str(value).strip().lower()
        if text not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}, got {value!r}")
        return text

    return convert


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


@dataclass(frozen=True)
class Setting:
    """One row: name (also the TOML key), cast, default, and the help the README repeats."""

    name: str
    cast: Callable[[Any], Any]
    default: Any
    help: str

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def resolve_default(self) -> Any:
        return self.default() if callable(self.default) else self.default


SETTINGS: tuple[Setting, ...] = (
    Setting("host", str, "127.0.0.1", "Address to listen on."),
    Setting("port", _as_positive(int), 8080, "Port to listen on."),
    Setting(
        "workers",
        _as_positive(int),
        1,
        "Server processes sharing the port (SO_REUSEPORT); fills stay one per blob.",
    ),
    Setting(
        "data",
        str,
        _default_data_dir,
        "Data directory (blobs, index). Default: $HUBMIRROR_HOME, else ~/.cache/hubmirror.",
    ),
    Setting(
        "upstream",
        _as_list,
        ("https://huggingface.co",),
        "Upstream Hub URLs in priority order; repeat the flag, or comma-separate in env/TOML.",
    ),
    Setting(
        "metadata_ttl",
        _as_positive(float),
        600.0,
        "Seconds a branch/tag → commit answer and API answers are reused before re-asking.",
    ),
    Setting(
        "access_ttl",
        _as_positive(float),
        300.0,
        "Seconds a token's confirmed access to a gated or private repo is remembered.",
    ),
    Setting(
        "public_url",
        _as_optional_str,
        None,
        "URL clients use to reach the mirror (scheme, host, optional path prefix), "
        "for absolute Link URLs. Default: taken from each request and X-Forwarded-*.",
    ),
    Setting(
        "metadata_deadline",
        _as_positive(float),
        3.0,
        "Seconds to wait for upstream metadata when a stale answer is at hand; then serve it "
        "and finish the refresh in the background.",
    ),
    Setting("offline", _as_bool, False, "Never contact upstream; serve what is cached."),
    Setting(
        "min_free_mib",
        _as_positive(int),
        100,
        "Free disk space (MiB) a new fill must leave; fills that do not fit answer 507.",
    ),
    Setting(
        "admin_token",
        _as_optional_str,
        None,
        "Bearer token for admin routes (POST /admin/offline); unset disables them.",
    ),
    Setting(
        "upstream_timeout",
        _as_positive(float),
        10.0,
        "Seconds of upstream silence (connect or between bytes) before giving up on it.",
    ),
    Setting(
        "fill_segments",
        _as_positive(int),
        16,
        "Parallel Range requests a large uncached blob is fetched with.",
    ),
    Setting(
        "fill_segment_mib",
        _as_positive(int),
        8,
        "Smallest segment in MiB: a blob smaller than two segments is fetched in one request.",
    ),
    Setting("access_log", _as_bool, True, "Log one line per request."),
    Setting("log_level", str, "info", "Logging level: debug, info, warning, error."),
    Setting(
        "access_mode",
        _as_choice("open", "allowlist", "approval"),
        "open",
        "open: any repo; allowlist: only repos matching `allow`; approval: others wait for "
        "`hubmirror approve`.",
    ),
    Setting("allow", _as_list, (), "Repo globs served in allowlist/approval mode (model:acme/*)."),
    Setting("deny", _as_list, (), "Repo globs never served, in every mode (`dataset:*`)."),
    Setting(
        "offline_access",
        _as_choice("confirmed-tokens", "deny"),
        "confirmed-tokens",
        "In an outage or offline: gated/private content goes to tokens upstream confirmed "
        "before, or to nobody.",
    ),
    Setting(
        "require_token",
        _as_bool,
        False,
        "Only callers with a mirror token (`hubmirror token create`) are served.",
    ),
    Setting(
        "upstream_token",
        _as_optional_str,
        None,
        "Organisation token sent upstream for mirror-token callers (gated repos it accepted).",
    ),
    Setting("audit", _as_bool, True, "Record downloads and access decisions (index + JSON lines)."),
    Setting(
        "audit_file",
        _as_optional_str,
        None,
        "JSON-lines audit file. Default: DATA/audit.jsonl.",
    ),
    Setting(
        "audit_max_rows",
        _as_positive(int),
        1_000_000,
        "Audit records kept in the index, the oldest dropped first (0 = all; the JSON-lines "
        "file keeps every one).",
    ),
    Setting(
        "max_api_answers",
        _as_positive(int),
        100_000,
        "Stored API answers (remembered 404s included) kept in the index, the oldest "
        "forgotten first (0 = no limit).",
    ),
    Setting(
        "max_missing_files",
        _as_positive(int),
        10_000,
        "Files (and API 404s: missing folders) upstream said do not exist that are remembered, "
        "the oldest forgotten first (0 = no limit).",
    ),
    Setting(
        "max_pending_approvals",
        _as_positive(int),
        1_000,
        "Approval mode: requests awaiting a decision; past it new ones are refused with 429 "
        "(0 = no limit).",
    ),
    Setting(
        "approval_requests_per_hour",
        _as_positive(int),
        20,
        "Approval mode: new approval requests one client address may make per hour; more "
        "are refused with 429 (0 = no limit).",
    ),
    Setting(
        "redirect_hosts",
        _as_list,
        (),
        "Extra hosts upstream redirects may lead to, besides the upstreams and the Hub's CDNs.",
    ),
    Setting(
        "max_fills_per_client",
        _as_positive(int),
        32,
        "Uncached files one client address may have being fetched at once (0 = no limit).",
    ),
    Setting(
        "rate_limit",
        _as_positive(float),
        0.0,
        "Requests per second one client address may make, on average (0 = no limit).",
    ),
    Setting(
        "rate_burst",
        _as_positive(int),
        200,
        "Requests a client may make at once above `rate_limit` before being slowed down.",
    ),
    Setting(
        "keepalive_timeout",
        _as_positive(float),
        75.0,
        "Seconds a connection may wait for its next request to arrive whole: idle between"
        " requests, or headers sent part-way; then it is closed (0 = never).",
    ),
    Setting(
        "body_timeout",
        _as_positive(float),
        30.0,
        "Seconds a request body (a paths-info form, an admin POST) may take to arrive;"
        " then 408 (0 = no limit).",
    ),
    Setting(
        "max_size",
        parse_size,
        0,
        "Store quota: bytes (suffix K, M, G, T) above which least recently used blobs are"
        " evicted (0 = no quota).",
    ),
    Setting(
        "drain_seconds",
        _as_positive(float),
        30.0,
        "On SIGTERM: seconds running downloads and fills may take to finish before they are "
        "cut (cut fills keep their bytes for resume).",
    ),
    Setting(
        "trusted_proxies",
        _as_networks,
        (),
        "Reverse proxies (IPs or networks) whose X-Forwarded-For names the client, for the "
        "per-client limits and the audit log.",
    ),
    Setting(
        "index",
        _as_optional_str,
        None,
        "Index database: a postgresql:// URL shared by several nodes. Default: DATA/index.sqlite.",
    ),
    Setting(
        "store",
        _as_optional_str,
        None,
        "Blob store: s3://BUCKET[/PREFIX] in S3-compatible object storage. Default: DATA/blobs.",
    ),
    Setting(
        "s3_endpoint",
        _as_optional_str,
        None,
        "S3 endpoint URL (MinIO, Ceph RGW, OSS, COS). Default: AWS for the region.",
    ),
    Setting("s3_region", str, "us-east-1", "S3 region."),
    Setting(
        "s3_addressing_style",
        _as_choice("auto", "path", "virtual"),
        "auto",
        "How buckets are addressed: path (MinIO, Ceph RGW), virtual (Alibaba OSS, Tencent COS), "
        "or auto: path with an s3_endpoint, AWS's choice without.",
    ),
    Setting(
        "s3_access_key",
        _as_optional_str,
        None,
        "S3 access key. Default: AWS_ACCESS_KEY_ID and the usual AWS credential chain.",
    ),
    Setting(
        "s3_secret_key",
        _as_optional_str,
        None,
        "S3 secret key. Default: AWS_SECRET_ACCESS_KEY and the usual AWS credential chain.",
    ),
    Setting(
        "local_tier_size",
        parse_size,
        20 * 1024**3,
        "With an s3:// store: bytes of hot blobs kept on local disk in front of it, served at "
        "disk speed (suffix K, M, G, T; 0 = none, blobs stream from the store).",
    ),
    Setting(
        "node_url",
        _as_optional_str,
        None,
        "With a shared index: URL other nodes reach this node at, to read its running fills. "
        "Default: http://HOSTNAME:PORT.",
    ),
    Setting(
        "node_secret",
        _as_optional_str,
        None,
        "With a shared index: secret that signs node-to-node requests. Default: generated once "
        "and kept in the shared index.",
    ),
    Setting(
        "xet_serve",
        _as_bool,
        True,
        "Serve hf_xet clients (on by default): advertise Xet hashes the mirror computed and "
        "answer the Xet token, reconstruction and xorb requests itself. Off: Xet is stripped "
        "(no X-Xet-Hash, no xetHash) and clients download plain HTTP.",
    ),
    Setting(
        "xet_upstream",
        _as_bool,
        False,
        "Fetch Xet-backed files from upstream with hf_xet (verified like any fill).",
    ),
)


@dataclass(frozen=True)
class Settings:
    """The resolved settings; field names are exactly the table's names."""

    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    data: str = field(default_factory=_default_data_dir)
    upstream: tuple[str, ...] = ("https://huggingface.co",)
    metadata_ttl: float = 600.0
    access_ttl: float = 300.0
    public_url: str | None = None
    metadata_deadline: float = 3.0
    offline: bool = False
    min_free_mib: int = 100
    admin_token: str | None = field(default=None, repr=False)
    upstream_timeout: float = 10.0
    fill_segments: int = 16
    fill_segment_mib: int = 8
    access_log: bool = True
    log_level: str = "info"
    access_mode: str = "open"
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    offline_access: str = "confirmed-tokens"
    require_token: bool = False
    upstream_token: str | None = field(default=None, repr=False)
    audit: bool = True
    audit_file: str | None = None
    audit_max_rows: int = 1_000_000
    max_api_answers: int = 100_000
    max_missing_files: int = 10_000
    max_pending_approvals: int = 1_000
    approval_requests_per_hour: int = 20
    redirect_hosts: tuple[str, ...] = ()
    max_fills_per_client: int = 32
    rate_limit: float = 0.0
    rate_burst: int = 200
    keepalive_timeout: float = 75.0
    body_timeout: float = 30.0
    max_size: int = 0
    drain_seconds: float = 30.0
    trusted_proxies: tuple[str, ...] = ()
    index: str | None = None
    store: str | None = None
    s3_endpoint: str | None = None
    s3_region: str = "us-east-1"
    s3_addressing_style: str = "auto"
    s3_access_key: str | None = field(default=None, repr=False)
    s3_secret_key: str | None = field(default=None, repr=False)
    local_tier_size: int = 20 * 1024**3
    node_url: str | None = None
    node_secret: str | None = field(default=None, repr=False)
    xet_serve: bool = True
    xet_upstream: bool = False

    def replace(self, **changes: Any) -> Settings:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Settings(**values)


def load_settings(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_file: str | Path | None = None,
) -> Settings:
    """Merge the sources by precedence; unknown TOML keys and bad values are errors."""
    env = os.environ if env is None else env
    config_file = config_file or env.get(ENV_PREFIX + "CONFIG")
    file_values = _read_toml(Path(config_file)) if config_file else {}
    flags = {k: v for k, v in (flags or {}).items() if v is not None and v != ()}
    values = {}
    for setting in SETTINGS:
        raw, source = _pick(setting, flags, env, file_values)
        if source == "default":
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
    return data.get("hubmirror", data)


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
