"""``nginx -t`` on a site file of ours, in a scratch prefix: the configs we ship must parse."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support import system


def assert_nginx_accepts(tmp_path: Path, site: str) -> None:
    """Wrap ``site`` (a ``server``/``upstream`` snippet) in a minimal nginx.conf and test it."""
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{ access_log off; include {tmp_path}/site.conf; }}\n"
    )
    done = subprocess.run(
        [system.require("nginx"), "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "[warn]" not in done.stderr
