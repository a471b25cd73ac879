"""Serving an emulator on loopback: its HTTP server in a daemon thread, and ``with`` to start and stop it."""

from __future__ import annotations

import threading
from http.server import HTTPServer
from types import TracebackType
from typing import Self


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
