"""Run the ``hubmirror`` command line on a pseudo-terminal, and read what the screen shows.

Progress bars are drawn only on a terminal; a test that wants to see what a person at
one would see runs the command here and reads ``screen_lines`` of its output.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import tty

_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def hubmirror_on_terminal(*args: str, timeout: float = 120, columns: int = 120) -> str:
    """``hubmirror ARGS`` with stdin, stdout and stderr on one terminal; what it wrote there."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUBMIRROR_"))}
    controller, terminal = pty.openpty()
    tty.setraw(terminal)  # no newline translation: the bytes as the command wrote them
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "hubmirror", *args],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=environment,
    )
    os.close(terminal)
    written = bytearray()
    try:
        while chunk := _read(controller):
            written += chunk
        proc.wait(timeout=timeout)
    finally:
        os.close(controller)
        if proc.poll() is None:
            proc.kill()
    return written.decode(errors="replace")


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: every writer of the terminal is gone
        return b""


def screen_lines(written: str) -> list[str]:
    """The lines a terminal shows for ``written``: a carriage return goes back to the start
    of the line and what follows overwrites it; escape sequences are dropped."""
    lines = []
    for line in _ESCAPE.sub("", written).split("\n"):
        shown = ""
        for piece in line.split("\r"):
            shown = piece + shown[len(piece) :]
        lines.append(shown.rstrip())
    return lines
