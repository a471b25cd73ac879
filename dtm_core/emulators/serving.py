"""Serving an emulator on loopback: its HTTP server in a daemon thread, request plumbing, and ``with``."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import TracebackType
from typing import Any, Self


class QuietHandler(BaseHTTPRequestHandler):
    """What every emulator's request handler shares: HTTP/1.1, no log noise, reading the body."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes; avoid 40 ms delayed ACKs

    def log_message(self, format: str, *args: Any) -> None:
        return  # tests read the emulator's ``requests`` rather than stderr noise

    def _body(self) -> bytes:
        """The request body, sent with Content-Length or chunked."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""


class Serving:
    """An HTTP server answering in a daemon thread until :meth:`stop`."""

    def __init__(self, server: HTTPServer, name: str) -> None:
        self.server = server
        # A short poll interval makes stop() quick, which tests starting many emulators feel.
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=name, daemon=True)
        self._thread.start()

    @property
    def root(self) -> str:
        """``http://HOST:PORT`` of the listening socket."""
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


class Emulator:
    """Base of the emulators: ``with emulator:`` starts it and stops it again."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()
