"""The background process's control endpoint on loopback: a health check and what each service holds.

``GET /health`` answers the process's pid and instance id (so a recycled port or pid is not
mistaken for the sandbox); ``GET /status`` each service's summary. Both need the bearer
token ``state.json`` (0600) records: the summaries name repositories and jobs.
"""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = Callable[[], Mapping[str, Any]]


class ControlServer:
    """Serves ``routes`` (path -> JSON answer) to callers holding ``token``."""

    def __init__(self, token: str, routes: Mapping[str, Answer]) -> None:
        expected = f"Bearer {token}".encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                given = self.headers.get("Authorization", "").encode()
                answer = routes.get(self.path)
                if not hmac.compare_digest(given, expected):
                    status, body = 401, {"error": "unauthorized"}
                elif answer is None:
                    status, body = 404, {"error": "not found"}
                else:
                    status, body = 200, dict(answer())
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="sandbox-control", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def ask(url: str, token: str, path: str, timeout: float = 5.0) -> dict[str, Any]:
    """GET a control path; raises OSError when the process does not answer, ValueError on nonsense."""
    from urllib.request import Request, urlopen

    request = Request(url + path, headers={"Authorization": f"Bearer {token}"})
    with urlopen(request, timeout=timeout) as reply:
        data = json.loads(reply.read())
    if not isinstance(data, dict):
        raise ValueError(f"{path} answered {type(data).__name__}, not an object")
    return data
