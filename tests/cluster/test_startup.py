"""Starting a node: clear one-line errors, and no cluster library loaded for the default."""

from __future__ import annotations

import subprocess
import sys

from tests.support.commands import hubmirror

HEAVY = ("aiobotocore", "botocore", "psycopg")


def test_the_embedded_default_loads_no_object_store_or_postgresql_library():
    code = (
        "import sys, hubmirror.cli, hubmirror.runtime, hubmirror.server.app;"
        "import hubmirror.mirror.service;"
        f"print([m for m in sys.modules if m.split('.')[0] in {HEAVY!r}])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _serve(tmp_path, *flags: str, env: dict | None = None):
    """``hubmirror serve`` that should stop at once: its exit code and stderr."""
    return hubmirror("serve", "--port", "0", "--data", str(tmp_path), *flags, env=env)


def test_a_missing_bucket_stops_serve_with_one_line_naming_it(tmp_path, s3_server):
    keys = {"HUBMIRROR_S3_ACCESS_KEY": "test", "HUBMIRROR_S3_SECRET_KEY": "test"}
    env = {"HUBMIRROR_S3_ENDPOINT": s3_server, **keys}
    result = _serve(tmp_path, "--store", "s3://no-such-bucket/x", env=env)
    assert result.returncode == 1
    assert "no-such-bucket" in result.stderr and "Traceback" not in result.stderr


def test_an_unreachable_postgresql_stops_serve_with_one_line(tmp_path):
    result = _serve(tmp_path, "--index", "postgresql://nobody@127.0.0.1:1/none")
    assert result.returncode == 1
    assert "cannot start" in result.stderr and "Traceback" not in result.stderr


def test_a_malformed_store_url_stops_serve_saying_how_to_write_it(tmp_path):
    result = _serve(tmp_path, "--store", "s3://Bad_Bucket")
    assert result.returncode == 1
    assert "not a valid bucket name" in result.stderr
    assert "Traceback" not in result.stderr and "Unclosed" not in result.stderr
