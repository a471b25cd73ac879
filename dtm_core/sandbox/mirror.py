"""The release mirror: release artifacts on loopback at the paths raw.githubusercontent.com uses.

By default it serves dtm's stand-in Argo CD releases (:mod:`.standins`) for any version asked;
with ``dtm sandbox up --mirror DIR`` it serves the files under ``DIR`` instead (real
downloads, laid out as ``DIR/argoproj/argo-cd/v3.5.1/manifests/install.yaml``) and nothing
else. Either way it claims the upstream URLs it can answer through
:meth:`~dtm_core.sandbox.service.RunningService.mirror`, which is how the sandbox registry
index comes to point at it.
"""

from __future__ import annotations

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .service import MirroredArtifact, RunningService, SandboxService
from .standins import release_file

UPSTREAM = "https://raw.githubusercontent.com/"


class ReleaseMirror(SandboxService):
    name = "releases"
    description = "release mirror: Argo CD install manifests (stand-ins, or --mirror DIR)"

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory

    def start(self, workdir: Path, persist: bool) -> RunningService:
        return RunningMirror(self.directory)


class RunningMirror(RunningService):
    def __init__(self, directory: Path | None) -> None:
        self.directory = directory.resolve() if directory is not None else None
        self.served: list[str] = []  # paths asked for, for status
        self._lock = threading.Lock()
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                self._answer(with_body=True)

            def do_HEAD(self) -> None:  # noqa: N802
                self._answer(with_body=False)

            def _answer(self, *, with_body: bool) -> None:
                path = self.path.split("?", 1)[0].lstrip("/")
                body = mirror.body(path)
                if body is None:
                    body, status, kind = b"not in the sandbox's release mirror\n", 404, "text/plain"
                else:
                    status, kind = 200, "text/plain; charset=utf-8"  # what raw.githubusercontent.com sends
                    with mirror._lock:
                        mirror.served.append(path)
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if with_body:
                    self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass  # the sandbox log is for the sandbox's own lines

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="release-mirror-http", daemon=True)
        self._thread.start()
        url = f"http://127.0.0.1:{self._server.server_address[1]}"
        super().__init__({"url": url})
        self.url = url

    def body(self, path: str) -> bytes | None:
        """What the mirror serves at ``path`` (relative to its root), or None."""
        if self.directory is None:
            return release_file(path)
        target = (self.directory / path).resolve()
        # Only files inside the directory: a path of "../" segments must not reach elsewhere.
        if not target.is_relative_to(self.directory) or not target.is_file():
            return None
        return target.read_bytes()

    def mirror(self, url: str) -> MirroredArtifact | None:
        if not url.startswith(UPSTREAM):
            return None
        path = url[len(UPSTREAM):]
        body = self.body(path)
        if body is None:
            return None
        # A stand-in is ours, so its digest is ours to give; a real file must match upstream's.
        digest = hashlib.sha256(body).hexdigest() if self.directory is None else None
        return MirroredArtifact(f"{self.url}/{path}", digest)

    def summary(self) -> dict[str, Any]:
        with self._lock:
            served = sorted(set(self.served))
        source = str(self.directory) if self.directory is not None else "stand-ins written by dtm"
        return {"serves": source, "downloaded": served}

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
