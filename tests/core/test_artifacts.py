"""Release artifact downloads: sha256 checks, the digest cache, local files, errors in dtm's words.

Covers ``dtm_core.artifacts`` and :meth:`ToolContext.download_artifact`, downloading from a real
HTTP server on loopback (``artifact_server``), from local paths and from ``file://`` URLs.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from dtm_core.artifacts import download_artifact
from dtm_core.errors import InvalidInputError, NetworkError, OperationError, RefusedError
from dtm_core.toolkind import ToolContext

MANIFEST = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: release\n"
MANIFEST_SHA = hashlib.sha256(MANIFEST).hexdigest()
TAMPERED = MANIFEST.replace(b"release", b"evil")
TAMPERED_SHA = hashlib.sha256(TAMPERED).hexdigest()


@dataclass
class ArtifactServer:
    """A real HTTP server on 127.0.0.1: ``files`` maps a path (``/install.yaml``) to its bytes."""

    base: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    #: Path -> where it redirects (302).
    redirects: dict[str, str] = field(default_factory=dict)
    #: Every path requested, oldest first.
    requests: list[str] = field(default_factory=list)
    #: Set to hold answers until the test releases them (for timeouts).
    hold: threading.Event | None = None
    _stop: Callable[[], None] = lambda: None

    def url(self, path: str) -> str:
        return self.base + path

    def stop(self) -> None:
        """Stop serving and close the port: later requests find nothing listening."""
        self._stop()


def _handler(state: ArtifactServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            state.requests.append(self.path)
            if state.hold is not None:
                state.hold.wait(10)
            if self.path in state.redirects:
                self.send_response(302)
                self.send_header("Location", state.redirects[self.path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = state.files.get(self.path)
            self.send_response(404 if body is None else 200)
            payload = b"not found" if body is None else body
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # requests are recorded on the state instead

    return Handler


@pytest.fixture
def artifact_server() -> Iterator[ArtifactServer]:
    state = ArtifactServer(files={"/install.yaml": MANIFEST})
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    stopped = False

    def stop() -> None:
        nonlocal stopped
        if not stopped:
            stopped = True
            server.shutdown()
            server.server_close()
            thread.join()

    state._stop = stop
    try:
        yield state
    finally:
        if state.hold is not None:
            state.hold.set()
        stop()


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def context(artifact_server: ArtifactServer, cache_dir: Path) -> ToolContext:
    """argocd 2.11.0, whose registry lists a verified and an unverified artifact, and an image."""
    return ToolContext(
        tool="argocd", instance="main", version="2.11.0", options={},
        artifacts={
            "manifest": {"url": artifact_server.url("/install.yaml"), "sha256": MANIFEST_SHA},
            "crds": {"url": artifact_server.url("/crds.yaml")},
            "image": "quay.io/argoproj/argocd:v2.11.0",  # a plain value, not a download
        },
        cache_dir=cache_dir,
    )


def cached_files(cache_dir: Path) -> list[str]:
    """Every file under the cache, relative to it, including half-written ones."""
    return sorted(str(p.relative_to(cache_dir)) for p in cache_dir.rglob("*") if p.is_file())


# -- verified downloads and the cache ----------------------------------------------------------------


def test_verified_download_returns_the_bytes_and_caches_them_by_digest(
        artifact_server: ArtifactServer, cache_dir: Path) -> None:
    data = download_artifact(artifact_server.url("/install.yaml"), sha256=MANIFEST_SHA,
                             allow_unverified=False, label="argocd 2.11.0 manifest", cache_dir=cache_dir)
    assert data == MANIFEST
    assert cached_files(cache_dir) == [f"artifacts/sha256/{MANIFEST_SHA}"]
    assert (cache_dir / "artifacts" / "sha256" / MANIFEST_SHA).read_bytes() == MANIFEST
    assert artifact_server.requests == ["/install.yaml"]


@pytest.mark.parametrize("written", [f"sha256:{MANIFEST_SHA}", MANIFEST_SHA.upper()],
                         ids=["prefixed", "upper-case"])
def test_the_registry_may_write_the_digest_prefixed_or_in_upper_case(
        artifact_server: ArtifactServer, cache_dir: Path, written: str) -> None:
    data = download_artifact(artifact_server.url("/install.yaml"), sha256=written, allow_unverified=False,
                             label="argocd 2.11.0 manifest", cache_dir=cache_dir)
    assert data == MANIFEST
    assert cached_files(cache_dir) == [f"artifacts/sha256/{MANIFEST_SHA}"]


def test_a_second_download_is_answered_from_the_cache_even_if_the_server_changed(
        artifact_server: ArtifactServer, cache_dir: Path) -> None:
    url = artifact_server.url("/install.yaml")
    download_artifact(url, sha256=MANIFEST_SHA, allow_unverified=False, label="m", cache_dir=cache_dir)
    artifact_server.files["/install.yaml"] = TAMPERED

    assert download_artifact(url, sha256=MANIFEST_SHA, allow_unverified=False, label="m",
                             cache_dir=cache_dir) == MANIFEST
    assert artifact_server.requests == ["/install.yaml"]


def test_a_second_download_is_answered_from_the_cache_when_the_server_is_gone(
        artifact_server: ArtifactServer, cache_dir: Path) -> None:
    url = artifact_server.url("/install.yaml")
    download_artifact(url, sha256=MANIFEST_SHA, allow_unverified=False, label="m", cache_dir=cache_dir)
    artifact_server.stop()

    assert download_artifact(url, sha256=MANIFEST_SHA, allow_unverified=False, label="m",
                             cache_dir=cache_dir) == MANIFEST


def test_a_corrupted_cache_file_is_downloaded_again_and_replaced(
        artifact_server: ArtifactServer, cache_dir: Path) -> None:
    cached = cache_dir / "artifacts" / "sha256" / MANIFEST_SHA
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"half a file")

    data = download_artifact(artifact_server.url("/install.yaml"), sha256=MANIFEST_SHA,
                             allow_unverified=False, label="m", cache_dir=cache_dir)
    assert data == MANIFEST
    assert cached.read_bytes() == MANIFEST
    assert artifact_server.requests == ["/install.yaml"]


def test_without_a_cache_dir_every_download_asks_the_server(artifact_server: ArtifactServer) -> None:
    url = artifact_server.url("/install.yaml")
    for _ in range(2):
        assert download_artifact(url, sha256=MANIFEST_SHA, allow_unverified=False, label="m") == MANIFEST
    assert artifact_server.requests == ["/install.yaml", "/install.yaml"]


def test_redirects_are_followed_and_the_target_is_checked(
        artifact_server: ArtifactServer, cache_dir: Path) -> None:
    artifact_server.redirects["/latest.yaml"] = "/install.yaml"
    data = download_artifact(artifact_server.url("/latest.yaml"), sha256=MANIFEST_SHA,
                             allow_unverified=False, label="m", cache_dir=cache_dir)
    assert data == MANIFEST
    assert artifact_server.requests == ["/latest.yaml", "/install.yaml"]


# -- verification --------------------------------------------------------------------------------------


def test_a_sha256_mismatch_names_both_digests_and_caches_nothing(
        artifact_server: ArtifactServer, cache_dir: Path) -> None:
    artifact_server.files["/install.yaml"] = TAMPERED
    url = artifact_server.url("/install.yaml")
    with pytest.raises(OperationError) as caught:
        download_artifact(url, sha256=MANIFEST_SHA, allow_unverified=False,
                          label="argocd 2.11.0 manifest", cache_dir=cache_dir)
    assert caught.value.message == (f"sha256 mismatch for argocd 2.11.0 manifest from {url}: "
                                    f"expected {MANIFEST_SHA}, got {TAMPERED_SHA}")
    assert caught.value.hint is not None and "mirror" in caught.value.hint
    assert caught.value.exit_code == 1
    assert cached_files(cache_dir) == []


def test_an_artifact_without_sha256_is_refused_before_any_request(
        artifact_server: ArtifactServer, cache_dir: Path) -> None:
    with pytest.raises(RefusedError) as caught:
        download_artifact(artifact_server.url("/install.yaml"), sha256=None, allow_unverified=False,
                          label="argocd 2.11.0 manifest", cache_dir=cache_dir)
    assert caught.value.exit_code == 3
    assert caught.value.message == ("argocd 2.11.0 manifest has no sha256 in the registry, "
                                    "so its download cannot be verified")
    assert caught.value.hint is not None and "--allow-unverified" in caught.value.hint
    assert artifact_server.requests == []


def test_allow_unverified_downloads_without_sha256_and_caches_nothing(
        artifact_server: ArtifactServer, cache_dir: Path) -> None:
    data = download_artifact(artifact_server.url("/install.yaml"), sha256=None, allow_unverified=True,
                             label="m", cache_dir=cache_dir)
    assert data == MANIFEST
    assert cached_files(cache_dir) == []


def test_allow_unverified_still_checks_a_listed_sha256(
        artifact_server: ArtifactServer, cache_dir: Path) -> None:
    artifact_server.files["/install.yaml"] = TAMPERED
    with pytest.raises(OperationError, match="sha256 mismatch"):
        download_artifact(artifact_server.url("/install.yaml"), sha256=MANIFEST_SHA, allow_unverified=True,
                          label="m", cache_dir=cache_dir)


# -- local files, for air-gapped installs -------------------------------------------------------------


@pytest.fixture
def local_manifest(tmp_path: Path) -> Path:
    """The manifest in a folder whose name needs quoting in a URL."""
    path = tmp_path / "offline bundle" / "install.yaml"
    path.parent.mkdir()
    path.write_bytes(MANIFEST)
    return path


@pytest.mark.parametrize("as_url", [str, Path.as_uri], ids=["path", "file-url"])
def test_a_local_path_or_file_url_is_read_and_verified(
        local_manifest: Path, cache_dir: Path, as_url: Callable[[Path], str]) -> None:
    data = download_artifact(as_url(local_manifest), sha256=MANIFEST_SHA, allow_unverified=False,
                             label="m", cache_dir=cache_dir)
    assert data == MANIFEST
    assert cached_files(cache_dir) == [f"artifacts/sha256/{MANIFEST_SHA}"]


def test_a_local_file_is_checked_like_a_download(local_manifest: Path, cache_dir: Path) -> None:
    local_manifest.write_bytes(TAMPERED)
    with pytest.raises(OperationError, match=f"expected {MANIFEST_SHA}, got {TAMPERED_SHA}"):
        download_artifact(local_manifest.as_uri(), sha256=MANIFEST_SHA, allow_unverified=False,
                          label="m", cache_dir=cache_dir)
    assert cached_files(cache_dir) == []


@pytest.mark.parametrize(("make", "reason"), [
    pytest.param(lambda tmp: str(tmp / "missing.yaml"), "No such file or directory", id="missing"),
    pytest.param(lambda tmp: (tmp / "missing.yaml").as_uri(), "No such file or directory",
                 id="missing-file-url"),
    pytest.param(lambda tmp: str(tmp), "Is a directory", id="directory"),
])
def test_an_unreadable_local_path_is_invalid_input(tmp_path: Path, make: Callable[[Path], str],
                                                   reason: str) -> None:
    url = make(tmp_path)
    with pytest.raises(InvalidInputError) as caught:
        download_artifact(url, sha256=MANIFEST_SHA, allow_unverified=False, label="argocd 2.11.0 manifest")
    assert caught.value.exit_code == 2
    assert caught.value.message.startswith("cannot read argocd 2.11.0 manifest at ")
    assert caught.value.message.endswith(f": {reason}")
    assert caught.value.hint == "check the path or URL given for it"


# -- network failures ------------------------------------------------------------------------------------


@pytest.fixture
def closed_port() -> Iterator[str]:
    """A loopback URL nothing listens on: a server's port, taken after the server is closed."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    yield f"http://127.0.0.1:{port}"


def test_an_unreachable_url_is_a_network_error_with_a_hint(closed_port: str) -> None:
    url = f"{closed_port}/install.yaml"
    with pytest.raises(NetworkError) as caught:
        download_artifact(url, sha256=MANIFEST_SHA, allow_unverified=False, label="argocd 2.11.0 manifest")
    assert caught.value.message.startswith(f"cannot reach {url} to download argocd 2.11.0 manifest: ")
    assert caught.value.hint is not None
    assert "HTTPS_PROXY" in caught.value.hint and "local file" in caught.value.hint


def test_http_404_is_a_network_error(artifact_server: ArtifactServer, cache_dir: Path) -> None:
    url = artifact_server.url("/missing.yaml")
    with pytest.raises(NetworkError) as caught:
        download_artifact(url, sha256=MANIFEST_SHA, allow_unverified=False, label="m", cache_dir=cache_dir)
    assert caught.value.message == f"downloading m from {url} failed: HTTP 404"
    assert caught.value.hint is not None
    assert cached_files(cache_dir) == []


def test_a_slow_server_is_a_timeout(artifact_server: ArtifactServer) -> None:
    artifact_server.hold = threading.Event()
    url = artifact_server.url("/install.yaml")
    with pytest.raises(NetworkError) as caught:
        download_artifact(url, sha256=MANIFEST_SHA, allow_unverified=False, label="m", timeout=0.2)
    assert caught.value.message == f"timed out downloading m from {url}"


def test_an_unsupported_scheme_is_a_network_error_not_a_traceback() -> None:
    with pytest.raises(NetworkError, match="downloading m from ftp://example.test/x failed"):
        download_artifact("ftp://example.test/x", sha256=MANIFEST_SHA, allow_unverified=False, label="m")


# -- ToolContext.download_artifact ----------------------------------------------------------------------


def test_tool_context_downloads_a_listed_artifact_into_its_cache(
        context: ToolContext, cache_dir: Path) -> None:
    assert context.download_artifact("manifest") == MANIFEST
    assert cached_files(cache_dir) == [f"artifacts/sha256/{MANIFEST_SHA}"]


def test_tool_context_names_unknown_artifacts_and_lists_the_registrys(context: ToolContext) -> None:
    with pytest.raises(OperationError) as caught:
        context.download_artifact("chart")
    assert caught.value.message == ("the registry lists no artifact 'chart' for argocd 2.11.0 "
                                    "(listed: crds, manifest)")
    assert caught.value.hint is not None and "dtm update" in caught.value.hint


def test_tool_context_does_not_download_a_plain_value(context: ToolContext) -> None:
    with pytest.raises(OperationError, match="the registry lists no artifact 'image'"):
        context.download_artifact("image")


def test_tool_context_says_none_when_the_registry_lists_no_artifacts(cache_dir: Path) -> None:
    bare = ToolContext(tool="argocd", instance="main", version="2.11.0", options={}, cache_dir=cache_dir)
    with pytest.raises(OperationError, match=r"\(listed: none\)"):
        bare.download_artifact("manifest")


def test_tool_context_refuses_an_unverified_artifact_unless_allowed(
        context: ToolContext, artifact_server: ArtifactServer) -> None:
    artifact_server.files["/crds.yaml"] = b"kind: CustomResourceDefinition\n"
    with pytest.raises(RefusedError, match="argocd 2.11.0 crds has no sha256"):
        context.download_artifact("crds")
    context.allow_unverified = True
    assert context.download_artifact("crds") == b"kind: CustomResourceDefinition\n"


def test_a_mirror_url_must_serve_the_registrys_file(
        context: ToolContext, artifact_server: ArtifactServer, cache_dir: Path) -> None:
    artifact_server.files["/mirror/install.yaml"] = TAMPERED
    mirror = artifact_server.url("/mirror/install.yaml")
    with pytest.raises(OperationError) as caught:
        context.download_artifact("manifest", url=mirror)
    assert caught.value.message == (f"sha256 mismatch for argocd 2.11.0 manifest from {mirror}: "
                                    f"expected {MANIFEST_SHA}, got {TAMPERED_SHA}")
    assert cached_files(cache_dir) == []
    assert artifact_server.requests == ["/mirror/install.yaml"]


def test_a_mirror_serving_the_identical_file_is_used_instead_of_the_registrys_url(
        context: ToolContext, artifact_server: ArtifactServer, local_manifest: Path) -> None:
    assert context.download_artifact("manifest", url=str(local_manifest)) == MANIFEST
    assert artifact_server.requests == []


def test_a_url_for_an_artifact_the_registry_does_not_list_is_unverified(
        context: ToolContext, local_manifest: Path) -> None:
    with pytest.raises(RefusedError, match="argocd 2.11.0 chart has no sha256"):
        context.download_artifact("chart", url=str(local_manifest))
    context.allow_unverified = True
    assert context.download_artifact("chart", url=str(local_manifest)) == MANIFEST
