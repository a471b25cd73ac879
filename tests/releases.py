"""Release files served over HTTP on loopback, as a vendor's download site would serve them."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: The Argo CD release whose real install manifest ../shared/specs holds.
UPSTREAM_VERSION = "3.5.1"


class ReleaseServer:
    """Argo CD release manifests on loopback, at ``/v<version>/<name>.yaml``."""

    def __init__(self, upstream: bytes) -> None:
        self.upstream = upstream
        self.files: dict[str, bytes] = {}
        self.downloads: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                body = server.files.get(self.path)
                server.downloads.append(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def add(self, version: str, name: str = "install", *, edit: Callable[[str], str] | None = None
            ) -> dict[str, str]:
        """Serve the upstream manifest as ``version`` (images retagged, then ``edit``ed); its artifact."""
        text = self.upstream.decode("utf-8").replace(f":v{UPSTREAM_VERSION}", f":v{version}")
        body = (edit(text) if edit else text).encode("utf-8")
        path = f"/v{version}/{name}.yaml"
        self.files[path] = body
        return {"url": self.url + path, "sha256": hashlib.sha256(body).hexdigest()}

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
