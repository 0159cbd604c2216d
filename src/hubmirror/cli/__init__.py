"""The ``hubmirror`` command: parse, call, print. User errors are one line and exit 1.

Each subcommand lives in its own module and imports its heavy machinery inside
the function, so ``hubmirror --help`` stays fast.
"""

from __future__ import annotations

import click

from hubmirror import __version__
from hubmirror.cli.approve import approvals, approve, deny
from hubmirror.cli.audit import audit
from hubmirror.cli.bundle import export, import_
from hubmirror.cli.cache import cache
from hubmirror.cli.config import config
from hubmirror.cli.download import download
from hubmirror.cli.hfcache import import_hf_cache
from hubmirror.cli.serve import serve
from hubmirror.cli.stats import stats
from hubmirror.cli.sync import sync
from hubmirror.cli.tokens import token


@click.group()
@click.version_option(__version__, prog_name="hubmirror")
def main() -> None:
    """A Hugging Face Hub mirror: set HF_ENDPOINT to it and download as usual."""


main.add_command(serve)
main.add_command(sync)
main.add_command(import_hf_cache)
main.add_command(export)
main.add_command(import_)
main.add_command(download)
main.add_command(audit)
main.add_command(token)
main.add_command(approve)
main.add_command(deny)
main.add_command(approvals)
main.add_command(cache)
main.add_command(config)
main.add_command(stats)
