"""Fixtures for the registry tests: a temporary dtm home, index builders, a loopback server,
and a publisher's signing key."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from dtm_core.paths import DtmPaths, resolve_paths

DATA = Path(__file__).parent / "data"


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    """An environment with its own DTM_HOME and no DTM_REGISTRY (the bundled index)."""
    return {"DTM_HOME": str(tmp_path / "home")}


@pytest.fixture
def paths(environ: dict[str, str]) -> DtmPaths:
    return resolve_paths(environ)


@pytest.fixture
def small_index() -> dict[str, Any]:
    """A fresh copy of ``data/small-index.json`` to mutate."""
    return copy.deepcopy(json.loads((DATA / "small-index.json").read_text()))


def tool(
    description: str = "a tool",
    versions: tuple[str, ...] = ("1.0.0",),
    **fields: Any,
) -> dict[str, Any]:
    """One tool entry of an index, each version provided by ``dtm-plugins-test``."""
    plugin = {"distribution": "dtm-plugins-test", "version": ">=0.1,<1"}
    return {
        "description": description,
        "versions": {v: {"plugin": dict(plugin), "dtm": ">=0.1"} for v in versions},
        **fields,
    }


@pytest.fixture
def make_tool() -> Callable[..., dict[str, Any]]:
    return tool


@pytest.fixture
def write_index(tmp_path: Path) -> Callable[..., Path]:
    """Write an index (a whole document, or ``tools`` to wrap) to a file and return its path."""

    def write(
        tools: dict[str, Any] | None = None,
        *,
        document: Any = None,
        filename: str = "index.json",
    ) -> Path:
        path = tmp_path / "indexes" / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        if document is None:
            document = {"format": 1, "name": filename, "tools": tools or {}}
        path.write_text(json.dumps(document, indent=2))
        return path

    return write


def _generated_index(count: int) -> dict[str, Any]:
    plugin = {"distribution": "dtm-plugins-bulk", "version": ">=0.1,<1"}
    version = {"dependencies": ["bulk-base>=1"], "conflicts": [], "plugin": plugin, "dtm": ">=0.1"}
    return {
        "format": 1,
        "name": "bulk",
        "tools": {
            f"tool-{i}": {
                "description": f"Generated tool number {i} for load tests",
                "tags": ["bulk", f"group-{i % 10}"],
                "homepage": f"https://example.test/tool-{i}",
                "versions": {"1.0.0": version, "1.1.0": version, "2.0.0": version},
            }
            for i in range(count)
        },
    }


@pytest.fixture
def generated_index() -> Callable[[int], dict[str, Any]]:
    """Build an index of ``count`` similar tools, for load tests."""
    return _generated_index


@dataclass
class Publisher:
    """An index publisher's ed25519 key pair, made by ``dtm registry keygen``'s own code."""

    private_key: Path
    public_key: str

    def sign(self, index: Path) -> Path:
        from dtm_core.registry.signing import sign_index

        return sign_index(index, self.private_key)


def _new_publisher(tmp_path: Path, name: str) -> Publisher:
    from dtm_core.registry.signing import generate_key

    private_key = tmp_path / "keys" / f"{name}.key"
    private_key.parent.mkdir(exist_ok=True)
    return Publisher(private_key, generate_key(private_key))


@pytest.fixture
def publisher(tmp_path: Path) -> Publisher:
    return _new_publisher(tmp_path, "publisher")


@pytest.fixture
def other_publisher(tmp_path: Path) -> Publisher:
    """A second key pair: signatures made with it must not verify with ``publisher``'s key."""
    return _new_publisher(tmp_path, "other")


@dataclass
class IndexServer:
    """A real HTTP server on 127.0.0.1 serving one index with ETag and Last-Modified."""

    url: str = ""
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    status: int = 200
    #: The headers of every request received, oldest first.
    requests: list[dict[str, str]] = field(default_factory=list)
    #: Status of every reply sent, oldest first.
    replies: list[int] = field(default_factory=list)
    #: Other files served by path (``/index.json.sig``); any other path but the index is a 404.
    files: dict[str, bytes] = field(default_factory=dict)

    def serve(
        self, document: Any, etag: str | None = None, last_modified: str | None = None
    ) -> None:
        self.body = json.dumps(document).encode()
        self.etag = etag
        self.last_modified = last_modified


def _handler(state: IndexServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            state.requests.append({k.lower(): v for k, v in self.headers.items()})
            if self.path != "/index.json":
                self._reply_file(state.files.get(self.path))
                return
            not_modified = (
                state.etag is not None and self.headers.get("If-None-Match") == state.etag
            ) or (
                state.etag is None
                and state.last_modified is not None
                and self.headers.get("If-Modified-Since") == state.last_modified
            )
            status = 304 if not_modified and state.status == 200 else state.status
            state.replies.append(status)
            self.send_response(status)
            if state.etag:
                self.send_header("ETag", state.etag)
            if state.last_modified:
                self.send_header("Last-Modified", state.last_modified)
            body = b"" if status == 304 else state.body
            if status != 304:
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _reply_file(self, body: bytes | None) -> None:
            state.replies.append(404 if body is None else 200)
            self.send_response(404 if body is None else 200)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: Any) -> None:
            # Keep test output clean; the requests are recorded on the state instead.
            pass

    return Handler


@pytest.fixture
def index_server() -> Iterator[IndexServer]:
    state = IndexServer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/index.json"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
