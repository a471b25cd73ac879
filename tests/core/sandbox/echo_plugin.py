"""A third-party plugin's sandbox services, loaded with ``DTM_PLUGINS=echo_plugin``.

``echo`` is a tiny HTTP service with a secret token; ``broken`` fails to start, to show that
one service's fault leaves the others running.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from dtm_core import DtmError, RunningService, SandboxService, Secret, hookimpl

TOKEN = "echo-token-7c1d"


class RunningEcho(RunningService):
    def __init__(self) -> None:
        self.asked = 0
        echo = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                echo.asked += 1
                body = b"echo " + self.path.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{self.server.server_address[1]}"
        super().__init__({"url": url}, {"ECHO_URL": url, "ECHO_TOKEN": Secret(TOKEN)})

    def summary(self) -> dict[str, Any]:
        return {"requests": self.asked}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Echo(SandboxService):
    name = "echo"
    description = "echoes the path it is asked for"

    def start(self, workdir: Path, persist: bool) -> RunningService:
        return RunningEcho()


class Broken(SandboxService):
    name = "broken"
    description = "never starts"

    def start(self, workdir: Path, persist: bool) -> RunningService:
        raise DtmError("no licence for the broken service")


@hookimpl
def dtm_sandbox_services() -> Sequence[SandboxService]:
    return [Echo(), Broken()]
