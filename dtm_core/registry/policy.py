"""The index policy: which indexes may be used, and whether each must be signed.

Read from the ``[registry]`` table of dtm's settings file (:mod:`dtm_core.settings`)::

    [registry]
    allowed = ["https://index.example.com/*", "bundled"]
    require_signed = true

``allowed`` holds shell-style patterns (``fnmatch``); ``bundled`` names the index shipped inside
dtm. Absent, every index is allowed. A remote index's URL is matched by parts, so a host pattern
can never match text in the path: the scheme exactly, the host name (credentials left out) with
``fnmatch``, the port exactly (none in the pattern: the scheme's default; ``:*``: any), and the
path (``%``-decoded, dot segments removed) with ``fnmatch``. A local index (a path or a
``file://`` URL) is matched by its resolved absolute path, so ``..`` and symlinks cannot lead
out of an allowed folder; a ``file://`` pattern is read as the path it names. The policy is
checked when an index is added, fetched (every redirect too) and read, so an index added
before the policy was set is refused too; ``DTM_REGISTRY`` is no way around it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..errors import RefusedError
from ..records import Frozen, fill

if TYPE_CHECKING:
    from ..paths import DtmPaths
    from ..settings import Settings
    from .sources import Source

__all__ = ["BUNDLED_PATTERN", "IndexPolicy", "load_policy"]

#: The pattern in ``registry.allowed`` that allows the index shipped inside dtm.
BUNDLED_PATTERN = "bundled"
_KEYS = ("allowed", "require_signed")


class IndexPolicy(Frozen):
    """``allowed`` is None when every index is allowed; ``file`` is named in every refusal."""

    __slots__ = _fields = ("allowed", "require_signed", "file")
    allowed: tuple[str, ...] | None
    require_signed: bool
    file: str

    def __init__(self, allowed: tuple[str, ...] | None = None, require_signed: bool = False,
                 file: str = "") -> None:
        fill(self, allowed, require_signed, file)

    def allows(self, source: Source) -> bool:
        """Whether ``registry.allowed`` lets ``source`` be used (signatures aside)."""
        if self.allowed is None:
            return True
        if source.bundled:
            return BUNDLED_PATTERN in self.allowed
        if source.remote:
            return self.allows_url(source.url)
        path = str(source.local_path.resolve())
        return any(_local_pattern_matches(path, pattern) for pattern in self.allowed)

    def allows_url(self, url: str) -> bool:
        """Whether ``registry.allowed`` lets dtm fetch the remote ``url`` (an index, or where it
        redirects)."""
        if self.allowed is None:
            return True
        return any(_url_pattern_matches(url, pattern) for pattern in self.allowed)

    def check(self, source: Source, *, adding: bool = False) -> None:
        """Refuse ``source`` (RefusedError, exit 3) if the policy forbids using it."""
        from .fetch import shown
        from .sources import REGISTRY_ENV, REGISTRY_KEY_ENV

        if not self.allows(source):
            what = "URL" if source.remote else "absolute path"
            if adding:
                fix = "choose an allowed index"
            elif source.builtin:
                fix = f"unset {REGISTRY_ENV}"
            else:
                fix = f"remove it with 'dtm registry remove {source.name}'"
            raise RefusedError(
                f"index '{source.name}' ({shown(source.url)}) is not allowed by registry.allowed "
                f"in {self.file}",
                hint=f"{fix}, or add a pattern matching its {what} to registry.allowed",
            )
        if self.require_signed and not source.bundled and source.key is None:
            if adding:
                fix = "pass --key with the publisher's public key"
            elif source.builtin:
                fix = f"set {REGISTRY_KEY_ENV} to the publisher's public key, or unset {REGISTRY_ENV}"
            else:
                fix = (f"'dtm registry remove {source.name}', then add it again with --key and "
                       "the publisher's public key")
            raise RefusedError(
                f"index '{source.name}' ({shown(source.url)}) has no trusted key and "
                f"registry.require_signed is true in {self.file}",
                hint=f"{fix}, or set registry.require_signed = false",
            )


def _toml_key(key: str) -> str:
    """``key`` as TOML spells it: bare if it may be, else quoted, so a newline in it cannot
    break the one-line error."""
    import re

    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _local_pattern_matches(path: str, pattern: str) -> bool:
    from fnmatch import fnmatchcase

    if pattern.startswith("file://"):
        from urllib.parse import unquote, urlsplit

        pattern = unquote(urlsplit(pattern).path)
    elif "://" in pattern or pattern == BUNDLED_PATTERN:
        return False
    import os.path

    # normpath, not resolve: a pattern names the folder as written, wildcards and all.
    return fnmatchcase(path, os.path.normpath(pattern))


def _url_pattern_matches(url: str, pattern: str) -> bool:
    from fnmatch import fnmatchcase

    target, wanted = _url_parts(url), _url_parts(pattern)
    if target is None or wanted is None:
        return False
    scheme, host, port, path = target
    pattern_scheme, pattern_host, pattern_port, pattern_path = wanted
    return (
        scheme == pattern_scheme
        and fnmatchcase(host, pattern_host)
        and (pattern_port == "*" or port == pattern_port)
        and fnmatchcase(path, pattern_path)
    )


_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _url_parts(url: str) -> tuple[str, str, str, str] | None:
    """``(scheme, host, port, path)`` of an http(s) URL or pattern, the port always spelled
    out; None for anything else. Parsed by hand around the host: a pattern's ``*`` port is not
    a number, so ``SplitResult.port`` would refuse it."""
    import posixpath
    from urllib.parse import unquote, urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return None
    hostport = parts.netloc.rpartition("@")[2]
    if hostport.startswith("["):
        host, _, rest = hostport[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = hostport.partition(":")
    if not host:
        return None
    # The server decodes %2e%2e and drops dot segments before it looks the path up: so do we.
    path = unquote(parts.path) or "/"
    normal = posixpath.normpath(path)
    normal = "/" + normal.lstrip("/") if normal != "." else "/"
    if path.endswith("/") and not normal.endswith("/"):
        normal += "/"
    if parts.query:
        normal += f"?{parts.query}"
    return scheme, host.lower(), port or _DEFAULT_PORTS[scheme], normal


def load_policy(paths: DtmPaths, environ: Mapping[str, str] | None = None) -> IndexPolicy:
    """The policy in effect; a malformed ``[registry]`` table is a ConfigError (exit 2)."""
    from ..settings import load_settings

    settings = load_settings(paths, environ)
    table = settings.table("registry")
    if not table:
        return IndexPolicy(file=settings.file)
    return _policy(settings, table)


def _policy(settings: Settings, table: Mapping[str, object]) -> IndexPolicy:
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise settings.error(f"registry.{_toml_key(unknown[0])}", "is not a setting",
                             hint=f"the [registry] settings are {', '.join(_KEYS)}")
    allowed = table.get("allowed")
    if allowed is not None and not (
        isinstance(allowed, list) and all(isinstance(item, str) and item for item in allowed)
    ):
        raise settings.error("registry.allowed", "must be a list of URL patterns",
                             hint='for example allowed = ["https://index.example.com/*", "bundled"]')
    require_signed = table.get("require_signed", False)
    if not isinstance(require_signed, bool):
        raise settings.error("registry.require_signed", "must be true or false")
    return IndexPolicy(None if allowed is None else tuple(allowed), require_signed, settings.file)
