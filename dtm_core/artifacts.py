"""Release artifacts for plugins: download what the registry lists, check its sha256, cache it.

A registry version may list artifacts beside its plugin (``{"manifest": {"url", "sha256"}}``).
Plugins fetch them through :meth:`ToolContext.download_artifact`, never with their own HTTP
code, so every download is checked the same way:

* with a listed sha256, the bytes must match it, whatever URL served them (a mirror must
  serve the identical file); a match is cached by digest and later runs read the cache;
* without one, the download is refused unless the user passed ``--allow-unverified``;
* a URL may be a local path or ``file://`` URL, for air-gapped installs.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .errors import InvalidInputError, NetworkError, OperationError, RefusedError
from .masking import mask_credentials
from .paths import make_private_dirs

_CONNECT_TIMEOUT = 10.0


def artifact_entry(artifacts: Mapping[str, Any], name: str, tool: str, version: str) -> Mapping[str, Any]:
    """The registry's ``{"url", "sha256"}`` for artifact ``name``, or an error naming what exists."""
    entry = artifacts.get(name)
    if not isinstance(entry, Mapping) or "url" not in entry:
        listed = ", ".join(sorted(k for k, v in artifacts.items() if isinstance(v, Mapping))) or "none"
        raise OperationError(
            f"the registry lists no artifact {name!r} for {tool} {version} (listed: {listed})",
            hint="update the index with `dtm update`, or give the download URL as an option",
        )
    return entry


def download_artifact(url: str, *, sha256: str | None, allow_unverified: bool, label: str,
                      cache_dir: Path | None = None, timeout: float = 120.0) -> bytes:
    """Return the bytes at ``url``, checked against ``sha256`` when one is known."""
    expected = sha256.lower().removeprefix("sha256:") if sha256 else None
    if expected is None and not allow_unverified:
        raise RefusedError(
            f"{label} has no sha256 in the registry, so its download cannot be verified",
            hint="pass --allow-unverified to use it anyway, or choose a version whose "
            "artifacts are verified ('dtm info TOOL' shows which are)",
        )
    cached = _cache_file(cache_dir, expected)
    if cached is not None:
        try:
            data = cached.read_bytes()
        except OSError:
            data = b""  # absent or unreadable: a download costs no more than a cache miss
        if data and hashlib.sha256(data).hexdigest() == expected:
            return data
    data = _read_local(url, label) if _is_local(url) else _fetch(url, label, timeout)
    if expected is not None:
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected:
            raise OperationError(
                f"sha256 mismatch for {label} from {mask_credentials(url)}: "
                f"expected {expected}, got {actual}",
                hint="the file is not the release the registry lists: check the URL or mirror, "
                "or run `dtm update` if the index changed",
            )
        if cached is not None:
            _store(cached, data)
    return data


def _cache_file(cache_dir: Path | None, digest: str | None) -> Path | None:
    if cache_dir is None or digest is None:
        return None
    return cache_dir / "artifacts" / "sha256" / digest


def _store(path: Path, data: bytes) -> None:
    """Write atomically: a run killed mid-write leaves no half file under the digest's name."""
    try:
        make_private_dirs(path.parent)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except OSError:
        pass  # a cache that cannot be written only costs a download next time


def _is_local(url: str) -> bool:
    scheme = urlsplit(url).scheme
    return scheme == "file" or scheme == "" or (len(scheme) == 1 and os.name == "nt")


def _read_local(url: str, label: str) -> bytes:
    parts = urlsplit(url)
    path = Path(unquote(parts.path) if parts.scheme == "file" else url).expanduser()
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read {label} at {path}: {exc.strerror}",
            hint="check the path or URL given for it",
        ) from None


def _fetch(url: str, label: str, timeout: float) -> bytes:
    import httpx

    shown = mask_credentials(url)  # a private mirror's URL may carry a password

    try:
        with httpx.Client(timeout=httpx.Timeout(timeout, connect=_CONNECT_TIMEOUT),
                          follow_redirects=True) as client:
            response = client.get(url)
    except httpx.TimeoutException:
        raise NetworkError(f"timed out downloading {label} from {shown}",
                           hint="check the network or proxy, or give a mirror URL") from None
    except httpx.ConnectError as exc:
        raise NetworkError(f"cannot reach {shown} to download {label}: {mask_credentials(str(exc))}",
                           hint="check the network or proxy (HTTPS_PROXY), or give a mirror URL "
                           "or a local file for air-gapped installs") from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise NetworkError(f"downloading {label} from {shown} failed: {mask_credentials(str(exc))}",
                           hint="check the URL") from None
    if response.status_code != 200:
        raise NetworkError(f"downloading {label} from {shown} failed: HTTP {response.status_code}",
                           hint="check the URL; a mirror must serve the release file unchanged")
    return response.content
