"""The HTTP layer: a threaded loopback server that reads requests, dispatches them and records them."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

from ..serving import LoopbackServer, QuietHandler
from . import errors
from .dispatch import JSON, Exchange, ServerState, dispatch


class EmulatorServer(LoopbackServer):
    """One thread per connection; state is shared through ``ServerState`` and its world's lock."""

    def __init__(self, address: tuple[str, int], state: ServerState) -> None:
        super().__init__(address, Handler)
        self.state = state


class Handler(QuietHandler):
    server: EmulatorServer

    def version_string(self) -> str:
        return "GitHub.com"

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _fault_reply(self, status: int, retry_after: int) -> tuple[dict[str, str], bytes]:
        error = errors.default_error(status)
        headers = {"Content-Type": JSON, "X-GitHub-Request-Id": self.server.state.request_id(),
                   **error.headers}
        if status == 429:
            headers["Retry-After"] = str(retry_after)
        return headers, json.dumps(error.body, separators=(",", ":")).encode()

    def _serve(self) -> None:
        state = self.server.state
        try:
            raw = self._body()
            method = "GET" if self.command == "HEAD" else self.command
            with state.world.lock:
                state.requests.append((self.command, self.path))
            headers = {key: value for key, value in self.headers.items()}
            response = dispatch(state, method, self.path, _Headers(headers), raw)
            with state.world.lock:  # recorded before the client can see the reply, so tests never race it
                state.exchanges.append(Exchange(self.command, self.path, headers, raw, response.status,
                                                dict(response.headers), response.body))
            self.send_response(response.status)
            for key, value in response.headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD" and response.body:
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class _Headers(Mapping[str, str]):
    """Request headers looked up without regard to case, as HTTP wants."""

    def __init__(self, headers: dict[str, str]) -> None:
        self._headers = {key.lower(): value for key, value in headers.items()}

    def __getitem__(self, key: str) -> str:
        return self._headers[key.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers)

    def __len__(self) -> int:
        return len(self._headers)
