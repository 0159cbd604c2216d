"""A raw HTTP/1.1 client on one kept-alive socket: bytes go out exactly as the test wrote them.

``http.client`` refuses control characters and spaces in a target and odd header
values before sending; fuzzing needs to send those too, to see the server refuse them.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass


class _Unanswered(Exception):
    """The connection closed before any byte of an answer."""


@dataclass
class RawAnswer:
    status: int
    headers: dict[str, str]  # lower-case names; a repeated header keeps its last value
    body: bytes


class RawClient:
    """Requests on one connection, reopened whenever the server closed it."""

    def __init__(self, host: str, port: int, timeout: float = 30.0) -> None:
        self.address = (host, port)
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._reader = None

    def close(self) -> None:
        if self._sock is not None:
            self._reader.close()
            self._sock.close()
        self._sock = self._reader = None

    def request(
        self, method: str, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes = b""
    ) -> RawAnswer:
        lines = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: fuzz.test"]
        lines += [name + b": " + value for name, value in headers]
        if body:
            lines.append(b"Content-Length: " + str(len(body)).encode())
        raw = b"\r\n".join(lines) + b"\r\n\r\n" + body
        try:
            return self._exchange(raw, method)
        except _Unanswered:  # a kept-alive connection the server had closed: once more
            self.close()
            return self._exchange(raw, method)

    def _exchange(self, raw: bytes, method: str) -> RawAnswer:
        if self._sock is None:
            self._sock = socket.create_connection(self.address, timeout=self.timeout)
            self._reader = self._sock.makefile("rb")
        try:
            self._sock.sendall(raw)
            status_line = self._reader.readline()
        except ConnectionError as exc:
            raise _Unanswered from exc
        if not status_line:
            raise _Unanswered
        status, headers = self._read_head(status_line)
        body = b"" if method == "HEAD" or status in (204, 304) else self._read_body(headers)
        if headers.get("connection", "").lower() == "close" or status == 400:
            self.close()  # a request the parser refused may leave the connection unusable
        return RawAnswer(status, headers, body)

    def _read_head(self, status_line: bytes) -> tuple[int, dict[str, str]]:
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while (line := self._reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers

    def _read_body(self, headers: dict[str, str]) -> bytes:
        if headers.get("transfer-encoding", "").lower() == "chunked":
            return self._read_chunked()
        if "content-length" in headers:
            return self._read_exactly(int(headers["content-length"]))
        data = self._reader.read()  # until the server closes
        self.close()
        return data

    def _read_chunked(self) -> bytes:
        parts = []
        while size := int(self._reader.readline().split(b";")[0], 16):
            parts.append(self._read_exactly(size))
            self._reader.readline()
        while self._reader.readline() not in (b"\r\n", b"\n", b""):
            pass  # trailers
        return b"".join(parts)

    def _read_exactly(self, size: int) -> bytes:
        data = self._reader.read(size)
        if len(data) != size:
            raise EOFError(f"body ended after {len(data)} of {size} bytes")
        return data
