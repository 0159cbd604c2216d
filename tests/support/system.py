"""Programs the tests need from the system, and the one line that says how to get one.

``pip install -e '.[test]'`` brings every Python dependency; these few come from the
distribution (`.ci/run` installs them when missing). A test that needs one that is absent
fails with a line naming the Debian/Ubuntu package, not with a FileNotFoundError deep in
a fixture. Free of hubmirror imports.
"""

from __future__ import annotations

import shutil

import pytest

# program → the Debian/Ubuntu package that provides it
PACKAGES = {
    "chromium": "chromium",
    "chromedriver": "chromium-driver",
    "nginx": "nginx",
    "openssl": "openssl",
    "curl": "curl",
    "initdb": "postgresql",
    "git": "git",
    "git-lfs": "git-lfs",
}

ALSO_NAMED = {"chromium": "chromium-browser"}  # Ubuntu's name for the same browser


def missing_line(program: str) -> str:
    package = PACKAGES[program]
    return (
        f"{program} not found: install the package {package} (sudo apt-get install {package}), "
        "or run .ci/run, which installs everything the tests need"
    )


def require(program: str) -> str:
    """The path of ``program``; the test fails with ``missing_line`` when it is not installed."""
    found = shutil.which(program) or shutil.which(ALSO_NAMED.get(program, program))
    if found is None:
        pytest.fail(missing_line(program), pytrace=False)
    return found
