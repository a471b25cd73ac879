"""Configured registry indexes: the sources file, fetching into the index cache, and merging.

Every command reads indexes from the cache only (``load_registry``); the network is touched
by ``add_source`` and ``update_sources`` alone. An index enters the cache (:mod:`.cache`) only
after its signature verified (for an index with a trusted key, :mod:`.signing`) and it
validated, so reading it back trusts it. The index policy (:mod:`.policy`) is checked at each
of the three.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import (
    DtmError,
    InvalidInputError,
    NetworkError,
    RefusedError,
    RegistryIndexError,
)
from ..masking import mask_credentials
from ..paths import DtmPaths
from ..records import Frozen, fill
from .index import dependents_when_needed, load_index_file
from .model import MergedEntries, Registry, ToolEntry
from .refresh import Loaded, read_local, refresh, unchanged_local, verified_with_key

if TYPE_CHECKING:
    from pathlib import Path

    import httpx

    #: The index shipped inside dtm (a Path, made on first use: see ``__getattr__``).
    BUNDLED_INDEX: Path

DEFAULT_NAME = "default"
DEFAULT_PRIORITY = 50
REGISTRY_ENV = "DTM_REGISTRY"
#: The trusted public key of the index ``DTM_REGISTRY`` names.
REGISTRY_KEY_ENV = "DTM_REGISTRY_KEY"
# Text, not a Path: loading the registry must not import pathlib (see DtmPaths).
_BUNDLED_INDEX = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))), "data",
                              "registry.json")

# No '.': a source called "x.meta" would collide with the cache files of "x". Left to re.match
# to compile (and cache) when `dtm registry add` needs it, not on every start.
_SOURCE_NAME = r"[a-z0-9][a-z0-9_-]{0,63}"  # matched whole: "$" would let a final newline through


class Source(Frozen):
    """One configured index. Higher ``priority`` wins a tool name; ties go to the older one."""

    __slots__ = _fields = ("name", "url", "priority", "bundled", "key")
    name: str
    url: str
    priority: int
    #: Only the index shipped inside dtm: the test suite validates it, so it is trusted as is.
    bundled: bool
    #: The trusted ed25519 public key (base64): the index must carry its signature.
    key: str | None

    def __init__(self, name: str, url: str, priority: int = DEFAULT_PRIORITY, bundled: bool = False,
                 key: str | None = None) -> None:
        fill(self, name, url, priority, bundled, key)

    @property
    def builtin(self) -> bool:
        """The ``default`` index: always present, replaced (not removed) by ``DTM_REGISTRY``."""
        return self.name == DEFAULT_NAME

    @property
    def remote(self) -> bool:
        return self.url.startswith(("http://", "https://"))

    @property
    def shown_url(self) -> str:
        """The URL as dtm prints it: a password in it replaced by ``***``."""
        return mask_credentials(self.url)

    @property
    def local_path(self) -> Path:
        from pathlib import Path

        if self.url.startswith("file://"):
            from urllib.parse import unquote, urlsplit

            return Path(unquote(urlsplit(self.url).path))
        return Path(self.url)


class UpdateResult(Frozen):
    """What ``update_sources`` did to one index: ``updated``, ``unchanged`` or ``failed``."""

    __slots__ = _fields = ("source", "status", "tools", "error")
    source: Source
    status: str
    tools: int
    #: Set when ``status == "failed"``; the cached copy (if any) is left as it was.
    error: DtmError | None

    def __init__(self, source: Source, status: str, tools: int = 0, error: DtmError | None = None) -> None:
        fill(self, source, status, tools, error)


def list_sources(paths: DtmPaths, *, environ: Mapping[str, str] | None = None) -> list[Source]:
    """Every index in precedence order: priority high to low, then the order added."""
    sources = [_default_source(environ), *_read_config(paths)]
    # sorted() is stable and the default comes first, so it wins ties with later additions.
    return sorted(sources, key=lambda source: -source.priority)


def add_source(
    paths: DtmPaths,
    name: str,
    url: str,
    *,
    priority: int = DEFAULT_PRIORITY,
    key: str | None = None,
    transport: httpx.BaseTransport | None = None,
    environ: Mapping[str, str] | None = None,
) -> Source:
    """Fetch, verify and validate an index, cache it, then record it; nothing is saved on
    failure. ``key`` is the publisher's public key (base64, hex or ``@FILE``)."""
    if not re.fullmatch(_SOURCE_NAME, name):
        raise InvalidInputError(
            f"invalid index name {name!r}",
            hint="use lowercase letters, digits, '-' and '_' (at most 64), starting with a "
            "letter or digit",
        )
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise InvalidInputError(f"invalid priority {priority!r}", hint="use a whole number")
    existing = _read_config(paths)
    if name == DEFAULT_NAME:
        raise InvalidInputError(
            "'default' is the bundled index and cannot be added",
            hint=f"choose another name, or set {REGISTRY_ENV} to replace the bundled index",
        )
    if any(source.name == name for source in existing):
        raise InvalidInputError(
            f"an index named {name!r} is already configured",
            hint=f"choose another name, or remove it first with 'dtm registry remove {name}'",
        )
    if key is not None:
        from .signing import parse_public_key

        key = parse_public_key(key)
    source = Source(name, _normalise_location(url), priority, key=key)
    from .policy import load_policy

    policy = load_policy(paths, environ)
    policy.check(source, adding=True)
    duplicate = next((s for s in existing if s.url == source.url), None)
    if duplicate is not None:
        raise InvalidInputError(
            f"{source.shown_url} is already configured as index {duplicate.name!r}",
            hint="see 'dtm registry list'",
        )
    try:
        refresh(paths, source, transport, policy)
    except RefusedError as exc:
        exc.hint = f"{exc.hint}; nothing was added" if exc.hint else "nothing was added"
        raise
    except (NetworkError, RegistryIndexError) as exc:
        exc.hint = (
            "check the URL or your network; nothing was added"
            if isinstance(exc, NetworkError)
            else "fix the index at that path and add it again; nothing was added"
        )
        raise
    _write_config(paths, [*existing, source])
    return source


def remove_source(paths: DtmPaths, name: str) -> Source:
    """Forget an index and its cached copy."""
    existing = _read_config(paths)
    if name == DEFAULT_NAME:
        raise InvalidInputError(
            "the default index cannot be removed",
            hint=f"set {REGISTRY_ENV} to a path or URL to replace it",
        )
    match = next((source for source in existing if source.name == name), None)
    if match is None:
        known = ", ".join(sorted([DEFAULT_NAME, *(source.name for source in existing)]))
        raise InvalidInputError(
            f"no index named {name!r}; configured: {known}", hint="see 'dtm registry list'"
        )
    _write_config(paths, [source for source in existing if source.name != name])
    for path in paths.index_cache_dir.glob(f"{name}.*"):
        path.unlink(missing_ok=True)
    return match


def update_sources(
    paths: DtmPaths,
    *,
    transport: httpx.BaseTransport | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[UpdateResult]:
    """Refresh every index into the cache; one failing index does not stop the others."""
    from . import cache
    from .policy import load_policy

    policy = load_policy(paths, environ)
    results: list[UpdateResult] = []
    for source in list_sources(paths, environ=environ):
        if source.bundled:
            continue
        cached = cache.read_commit(paths.index_cache_dir, source.name, source.url) is not None
        try:
            policy.check(source)
            status, tools = refresh(paths, source, transport, policy)
        except DtmError as exc:
            _explain(exc, source, cached)
            results.append(UpdateResult(source, "failed", error=exc))
        else:
            results.append(UpdateResult(source, status, tools))
    return results


def load_registry(paths: DtmPaths, *, environ: Mapping[str, str] | None = None) -> Registry:
    """Merge every index from the cache, offline; the first index (by precedence) wins a name.

    A remote index never fetched is skipped and a local one that cannot be read falls back to
    its cached copy; both leave a line in ``Registry.warnings``. An index the policy forbids is
    refused, except the bundled one, which is left out: it cannot be removed.
    """
    from .policy import load_policy

    policy = load_policy(paths, environ)
    layers: list[Mapping[str, ToolEntry]] = []
    dependents: dict[str, Mapping[str, Sequence[str]]] = {}
    warnings: list[str] = []
    for source in list_sources(paths, environ=environ):
        if source.bundled and not policy.allows(source):
            continue
        policy.check(source)
        loaded = _load_source(paths, source, warnings)
        if loaded is not None:
            layers.append(loaded[0])
            dependents[source.name] = loaded[1]
    used = tuple(dependents)  # the indexes loaded, in precedence order
    # One index (DTM_REGISTRY alone, say) needs no merging: its entries are the registry's.
    merged = layers[0] if len(layers) == 1 else MergedEntries(layers)
    return Registry(merged, used, warnings=warnings, dependents=dependents)


def _load_source(paths: DtmPaths, source: Source, warnings: list[str]) -> Loaded | None:
    if source.bundled:
        # Not cached: it is a few kilobytes that ship (and change) with dtm itself, so decoding
        # it whole costs less than reading a commit record would, and no copy can go stale.
        entries = load_index_file(_BUNDLED_INDEX, name=source.name, validate=False)
        return entries, dependents_when_needed(entries)
    from . import cache  # here: the bundled index alone (the usual case) needs no cache

    cached = cache.open_index(paths.index_cache_dir, source.name, source.url)
    if cached is not None and not verified_with_key(source, cached.meta):
        if source.remote:
            from .fetch import shown

            warnings.append(f"index '{source.name}' ({shown(source.url)}): the cached copy was not "
                            "verified with its trusted key; run 'dtm update'")
            return None
        cached = None
    if source.remote:
        if cached is None:
            warnings.append(cache.describe_missing(paths.index_cache_dir, source.name, source.url))
            return None
        return cached.entries, cached.dependents
    if cached is not None and unchanged_local(source, cached.meta):
        return cached.entries, cached.dependents
    try:
        return read_local(paths, source, store_quietly=True)[1]
    except DtmError as exc:
        if cached is None:
            _explain(exc, source, cached=False)
            raise
        warnings.append(f"{exc.message}; using the copy cached at {cached.meta.get('fetched_at')}")
        return cached.entries, cached.dependents


def _explain(exc: DtmError, source: Source, cached: bool) -> None:
    """Point the hint of a failed refresh at this source's fix."""
    still = "; cached copy still used" if cached else ""
    if isinstance(exc, NetworkError):
        exc.hint = f"check the URL or your network{still}"
    elif source.builtin:
        if isinstance(exc, RegistryIndexError):
            exc.hint = f"fix the index at that path, or unset {REGISTRY_ENV}{still}"
        else:
            exc.hint = f"check {REGISTRY_ENV}, or unset it to use the bundled index{still}"
    elif exc.hint:
        exc.hint += still


def _default_source(environ: Mapping[str, str] | None) -> Source:
    env = os.environ if environ is None else environ
    override = env.get(REGISTRY_ENV, "").strip()
    if override:
        key = env.get(REGISTRY_KEY_ENV, "").strip() or None
        if key is not None:
            from .signing import parse_public_key

            key = parse_public_key(key)
        return Source(DEFAULT_NAME, _normalise_location(override), 0, key=key)
    return Source(DEFAULT_NAME, _BUNDLED_INDEX, 0, bundled=True)


def _normalise_location(url: str) -> str:
    if url.startswith(("http://", "https://", "file://")):
        return url
    if "://" in url:
        scheme = url.split("://", 1)[0]
        raise InvalidInputError(
            f"unsupported index URL scheme {scheme!r} in {mask_credentials(url)}",
            hint="use an http(s):// or file:// URL, or a local path",
        )
    from pathlib import Path

    # Stored absolute so the index stays the same wherever dtm is run from.
    return str(Path(url).expanduser().resolve())


def _read_config(paths: DtmPaths) -> list[Source]:
    from .sourcesfile import read_sources_file

    entries = read_sources_file(paths.sources_file_text, name_rule=_SOURCE_NAME, reserved=DEFAULT_NAME)
    return [Source(item["name"], item["url"], item.get("priority", DEFAULT_PRIORITY),
                   key=item.get("key") or None) for item in entries]


def _write_config(paths: DtmPaths, sources: list[Source]) -> None:
    from . import cache

    data = [{"name": s.name, "url": s.url, "priority": s.priority, **({"key": s.key} if s.key else {})}
            for s in sources]
    try:
        paths.ensure(paths.config_dir)
        cache.write_atomic(paths.sources_file, (json.dumps(data, indent=2) + "\n").encode())
    except OSError as exc:
        raise cache.write_failed(exc, paths.sources_file) from exc


def __getattr__(name: str) -> Any:
    if name == "BUNDLED_INDEX":
        from pathlib import Path

        return Path(_BUNDLED_INDEX)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
