"""The files in ``deploy/``, checked without Docker: parsed, verified by systemd-analyze and
nginx -t, and held to the settings they name."""

from __future__ import annotations

import configparser
import json
import re
import shutil
import subprocess
from pathlib import Path

import yaml

from hubmirror.settings import ENV_PREFIX, SETTINGS, Settings
from tests.support import system
from tests.support.nginx import assert_nginx_accepts

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = ("hubmirror.service", "hubmirror-sync.service", "hubmirror-sync.timer")
KNOWN_VARIABLES = {s.env_var for s in SETTINGS} | {ENV_PREFIX + "CONFIG"}


def certificate(folder: Path) -> None:
    """A self-signed fullchain.pem and privkey.pem in ``folder``, as the nginx site expects."""
    subprocess.run(
        [system.require("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj",
         "/CN=mirror.example.org", "-keyout", str(folder / "privkey.pem"),
         "-out", str(folder / "fullchain.pem")],
        check=True,
        capture_output=True,
    )  # fmt: skip


def _dockerfile() -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n\s*", " ", (DEPLOY / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [tuple(line.split(" ", 1)) for line in lines if line and not line.startswith("#")]


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((DEPLOY / name).read_text())
    return parser


def test_dockerfile_runs_serve_as_a_non_root_user_on_a_data_volume():
    instructions = _dockerfile()
    first = dict(instructions)
    assert instructions[0] == ("FROM", "python:3.11-slim")
    assert first["USER"] not in ("root", "0")
    assert first["VOLUME"] == "/data"
    assert first["EXPOSE"] == "8080"
    assert "/healthz" in first["HEALTHCHECK"]
    assert json.loads(first["CMD"]) == [
        "hubmirror", "serve", "--host", "0.0.0.0", "--data", "/data"
    ]  # fmt: skip
    assert first["ARG"] == 'EXTRAS=""'  # EXTRAS=cluster for the cluster compose file
    assert ("RUN", 'pip install ".${EXTRAS:+[$EXTRAS]}" && rm -rf /src') in instructions


def test_dockerfile_extras_expand_to_a_plain_or_an_extra_install():
    """The shell expansion the Dockerfile's RUN uses, run by a real shell."""
    expand = 'printf %s ".${EXTRAS:+[$EXTRAS]}"'
    plain = subprocess.run(["sh", "-c", expand], env={"EXTRAS": ""}, capture_output=True, text=True)
    extra = subprocess.run(
        ["sh", "-c", expand], env={"EXTRAS": "cluster"}, capture_output=True, text=True
    )
    assert (plain.stdout, extra.stdout) == (".", ".[cluster]")


def test_dockerfile_copies_only_files_that_exist():
    for instruction, arguments in _dockerfile():
        if instruction == "COPY":
            *sources, _target = arguments.split()
            assert all((ROOT / source).exists() for source in sources), arguments


def test_compose_file_keeps_the_store_on_a_volume_and_outlasts_the_drain():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    mirror = compose["services"]["mirror"]
    build = mirror["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    assert mirror["volumes"] == ["hubmirror-data:/data"]
    assert "hubmirror-data" in compose["volumes"]
    assert int(mirror["stop_grace_period"].removesuffix("s")) > Settings().drain_seconds
    assert set(mirror["environment"]) <= KNOWN_VARIABLES
    nginx = compose["services"]["nginx"]
    assert nginx["profiles"] == ["tls"]
    for volume in nginx["volumes"]:
        assert (DEPLOY / volume.split(":")[0]).exists(), volume


def test_units_stop_with_sigterm_after_the_drain_and_name_real_settings():
    serve = _unit("hubmirror.service")["Service"]
    assert serve["KillSignal"] == "SIGTERM"
    assert int(serve["TimeoutStopSec"]) > Settings().drain_seconds
    assert serve["Restart"] == "on-failure"
    assert serve["NoNewPrivileges"] == "yes"
    assert serve["ProtectSystem"] == "strict"
    assert serve["StateDirectory"] == "hubmirror"
    assert serve["ExecStart"].split()[1:2] == ["serve"]
    sync = _unit("hubmirror-sync.service")["Service"]
    assert sync["ExecStart"].split()[1:] == ["sync", "--from-file", "/etc/hubmirror/mirror.list"]
    assert _unit("hubmirror-sync.timer")["Timer"]["Unit"] == "hubmirror-sync.service"
    for name in UNITS[:2]:
        for line in (DEPLOY / name).read_text().splitlines():
            if line.startswith("Environment="):
                assert line.split("=", 2)[1] in KNOWN_VARIABLES, line


def test_units_pass_systemd_analyze_verify_without_warnings(tmp_path):
    command = shutil.which("hubmirror")
    assert command, "the hubmirror command must be installed (pip install -e .)"
    for name in UNITS:  # point ExecStart at this machine's hubmirror
        text = (DEPLOY / name).read_text().replace("/usr/local/bin/hubmirror", command)
        (tmp_path / name).write_text(text)
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *(f"./{name}" for name in UNITS)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_nginx_example_passes_nginx_t(tmp_path):
    certs = tmp_path / "certs"
    certs.mkdir()
    certificate(certs)
    site = (DEPLOY / "nginx" / "hubmirror.conf").read_text()
    site = site.replace("mirror:8080", "127.0.0.1:8080").replace("/etc/nginx/certs", str(certs))
    assert_nginx_accepts(tmp_path, site)
