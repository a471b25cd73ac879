"""Serving an emulator on loopback: its HTTP server thread, request plumbing, injected faults, ``with``."""

from __future__ import annotations

import io
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from .faults import Fault, FaultPlan


class LoopbackServer(ThreadingHTTPServer):
    """One thread per connection, and the fault plan every request is drawn against."""

    daemon_threads = True
    allow_reuse_address = True
    faults: FaultPlan = FaultPlan()


class QuietHandler(BaseHTTPRequestHandler):
    """What every emulator's request handler shares: HTTP/1.1, no log noise, the body, injected faults.

    A handler's ``do_*`` methods call :meth:`_handle`, which applies the server's fault plan
    around ``_serve`` (the emulator's own work). Subclasses say how an injected error looks
    (:meth:`_fault_reply`) and which requests are never faulted (:meth:`_fault_exempt`).
    """

    server: LoopbackServer
    _read_body: bytes | None = None
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes; avoid 40 ms delayed ACKs

    def log_message(self, format: str, *args: Any) -> None:
        return  # tests read the emulator's ``requests`` rather than stderr noise

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionResetError, BrokenPipeError):
            # The client went away mid-exchange (crash tests SIGKILL dtm): nothing to answer,
            # and socketserver's traceback would land in the stderr a test is capturing.
            self.close_connection = True

    def _body(self) -> bytes:
        """The request body, sent with Content-Length or chunked (read once; later calls return it again)."""
        if self._read_body is not None:
            return self._read_body
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                data += self.rfile.read(size)
                self.rfile.readline()
        else:
            length = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(length) if length else b""
        self._read_body = data
        return data

    # -- faults ------------------------------------------------------------------------------------

    def _serve(self) -> None:
        raise NotImplementedError

    def _fault_exempt(self) -> bool:
        """Requests the fault plan leaves alone (long-lived streams)."""
        return False

    def _fault_reply(self, status: int, retry_after: int) -> tuple[dict[str, str], bytes]:
        """Headers (with Content-Type) and body of an injected 429/5xx, as the vendor writes them."""
        raise NotImplementedError

    def _handle(self) -> None:
        self._read_body = None
        fault = None if self._fault_exempt() else self.server.faults.draw()
        if fault is None:
            self._serve()
            return
        if fault.delay:
            time.sleep(fault.delay)
        if fault.kind is None:
            self._serve()
        elif fault.after:
            self._serve_unheard()
            self._fail(fault)
        else:
            self._body()  # a real server reads the request before refusing it
            self._fail(fault)

    def _serve_unheard(self) -> None:
        """Do the work, but let the answer go nowhere: the client will see only the failure."""
        wire = self.wfile
        self.wfile = io.BytesIO()
        try:
            self._serve()
        finally:
            self.wfile = wire
            self._headers_buffer: list[bytes] = []

    def _fail(self, fault: Fault) -> None:
        rates = self.server.faults.rates
        if fault.kind == "timeout":
            time.sleep(rates.stall)
        if fault.kind in ("reset", "timeout"):
            self._reset()
            return
        headers, body = self._fault_reply(fault.status, rates.retry_after)
        self.send_response(fault.status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _reset(self) -> None:
        """Close the connection with a TCP RST (linger 0): the client sees "connection reset by peer"."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass


class Serving:
    """An HTTP server answering in a daemon thread until :meth:`stop`."""

    def __init__(self, server: LoopbackServer, name: str, faults: FaultPlan | None = None) -> None:
        self.server = server
        if faults is not None:
            server.faults = faults
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
    """Base of the emulators: ``with emulator:`` starts it and stops it again.

    ``faults`` is the plan of random faults its HTTP layer injects (none until given rates,
    at construction or with ``emulator.faults.set(...)`` at run time).
    """

    faults: FaultPlan

    #: The running server, set by :meth:`start`.
    _serving: Serving | None = None

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        """Stop serving; a stopped emulator may be stopped again."""
        if self._serving is not None:
            self._serving.stop()
        self._serving = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()
