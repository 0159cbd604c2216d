"""On a machine without the system programs some tests need, those tests say what to install.

`python -m pytest` after `pip install -e '.[test]'` has every Python dependency but not
nginx, Chromium or PostgreSQL; the tests that need one fail with one line naming the
package (and `.ci/run`, which installs them), never with a FileNotFoundError traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NEEDS = {
    "nginx": "tests/config/test_compose_cluster.py::"
    "test_cluster_balancer_round_robins_both_nodes_and_passes_nginx_t",
    "openssl": "tests/config/test_deploy_files.py::test_nginx_example_passes_nginx_t",
    "chromium": "tests/dashboard/test_browser.py::"
    "test_repo_browser_lists_tiny_bert_files_with_sizes",
}


@pytest.mark.parametrize("program", list(NEEDS))
def test_a_missing_system_program_fails_its_test_with_one_line_naming_the_package(
    program, tmp_path
):
    bare = tmp_path / "bin"  # a PATH with this Python and nothing else
    bare.mkdir()
    (bare / "python").symlink_to(sys.executable)
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    env["PATH"] = str(bare)

    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", NEEDS[program]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    package = program  # the Debian package is named as the program for these three
    said = [line for line in proc.stdout.splitlines() if f"{program} not found" in line]
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert said and f"sudo apt-get install {package}" in said[0], proc.stdout[-3000:]
    assert "FileNotFoundError" not in proc.stdout and "Traceback" not in proc.stdout
