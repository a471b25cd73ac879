"""Configured registry indexes: the sources file, fetching into the index cache, and merging.

Every command reads indexes from the cache only (``load_registry``); the network is touched
by ``add_source`` and ``update_sources`` alone. An index enters the cache (:mod:`.cache`) only
after it validated, so reading it back trusts it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, DtmError, InvalidInputError, NetworkError, RegistryIndexError
from ..paths import DtmPaths
from ..records import Frozen, fill
from .index import decode_index, dependents_when_needed, load_index_file, parse_index, validate_index
from .model import MergedEntries, Registry, ToolEntry

if TYPE_CHECKING:
    from pathlib import Path

    import httpx

    #: The index shipped inside dtm (a Path, made on first use: see ``__getattr__``).
    BUNDLED_INDEX: Path

DEFAULT_NAME = "default"
DEFAULT_PRIORITY = 50
REGISTRY_ENV = "DTM_REGISTRY"
# Text, not a Path: loading the registry must not import pathlib (see DtmPaths).
_BUNDLED_INDEX = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))), "data",
                              "registry.json")

# No '.': a source called "x.meta" would collide with the cache files of "x". Left to re.match
# to compile (and cache) when `dtm registry add` needs it, not on every start.
_SOURCE_NAME = r"^[a-z0-9][a-z0-9_-]{0,63}$"

#: What one index contributes to a registry: its entries, and who among them depends on a name.
Loaded = tuple[Mapping[str, ToolEntry], Mapping[str, Sequence[str]]]


class Source(Frozen):
    """One configured index. Higher ``priority`` wins a tool name; ties go to the older one."""

    __slots__ = _fields = ("name", "url", "priority", "bundled")
    name: str
    url: str
    priority: int
    #: Only the index shipped inside dtm: the test suite validates it, so it is trusted as is.
    bundled: bool

    def __init__(self, name: str, url: str, priority: int = DEFAULT_PRIORITY, bundled: bool = False) -> None:
        fill(self, name, url, priority, bundled)

    @property
    def builtin(self) -> bool:
        """The ``default`` index: always present, replaced (not removed) by ``DTM_REGISTRY``."""
        return self.name == DEFAULT_NAME

    @property
    def remote(self) -> bool:
        return self.url.startswith(("http://", "https://"))

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
    transport: httpx.BaseTransport | None = None,
) -> Source:
    """Fetch and validate an index, cache it, then record it; nothing is saved on failure."""
    if not re.match(_SOURCE_NAME, name):
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
    source = Source(name, _normalise_location(url), priority)
    duplicate = next((s for s in existing if s.url == source.url), None)
    if duplicate is not None:
        raise InvalidInputError(
            f"{source.url} is already configured as index {duplicate.name!r}",
            hint="see 'dtm registry list'",
        )
    try:
        _refresh(paths, source, transport)
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

    results: list[UpdateResult] = []
    for source in list_sources(paths, environ=environ):
        if source.bundled:
            continue
        cached = cache.read_commit(paths.index_cache_dir, source.name, source.url) is not None
        try:
            status, tools = _refresh(paths, source, transport)
        except DtmError as exc:
            _explain(exc, source, cached)
            results.append(UpdateResult(source, "failed", error=exc))
        else:
            results.append(UpdateResult(source, status, tools))
    return results


def load_registry(paths: DtmPaths, *, environ: Mapping[str, str] | None = None) -> Registry:
    """Merge every index from the cache, offline; the first index (by precedence) wins a name.

    A remote index never fetched is skipped and a local one that cannot be read falls back to
    its cached copy; both leave a line in ``Registry.warnings``.
    """
    layers: list[Mapping[str, ToolEntry]] = []
    dependents: dict[str, Mapping[str, Sequence[str]]] = {}
    warnings: list[str] = []
    for source in list_sources(paths, environ=environ):
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
    if source.remote:
        if cached is None:
            warnings.append(cache.describe_missing(paths.index_cache_dir, source.name, source.url))
            return None
        return cached.entries, cached.dependents
    if cached is not None and _unchanged_local(source, cached.meta):
        return cached.entries, cached.dependents
    try:
        return _read_local(paths, source, store_quietly=True)[1]
    except DtmError as exc:
        if cached is None:
            _explain(exc, source, cached=False)
            raise
        warnings.append(f"{exc.message}; using the copy cached at {cached.meta.get('fetched_at')}")
        return cached.entries, cached.dependents


def _refresh(
    paths: DtmPaths, source: Source, transport: httpx.BaseTransport | None
) -> tuple[str, int]:
    """Bring one index's cache up to date; return its status and number of tools."""
    from . import cache

    cache_dir = paths.index_cache_dir
    meta = cache.read_commit(cache_dir, source.name, source.url)
    if meta is not None and not cache.intact(cache_dir, meta):
        # Fetch or read it again in full: a 304 or an unchanged file would keep the damage.
        meta = None
    if not source.remote:
        if meta is not None and _unchanged_local(source, meta):
            return "unchanged", int(meta.get("tools", 0))
        digest, (entries, _) = _read_local(paths, source, store_quietly=False)
    else:
        headers: dict[str, str] = {}
        if meta is not None:
            if meta.get("etag"):
                headers["If-None-Match"] = meta["etag"]
            if meta.get("last_modified"):
                headers["If-Modified-Since"] = meta["last_modified"]
        from .fetch import http_get

        status, body, reply = http_get(source.name, source.url, headers, transport)
        if status == 304 and meta is not None:
            cache.touch(cache_dir, source.name, meta)
            return "unchanged", int(meta.get("tools", 0))
        validators = {"etag": reply.get("etag"), "last_modified": reply.get("last-modified")}
        digest, (entries, _) = _store(paths, source, body, validators, quietly=False)
    unchanged = meta is not None and meta.get("sha256") == digest
    return ("unchanged" if unchanged else "updated"), len(entries)


def _read_local(paths: DtmPaths, source: Source, *, store_quietly: bool) -> tuple[str, Loaded]:
    path = source.local_path
    try:
        # stat before reading: if the file changes in between, the next run sees a new mtime.
        stat = path.stat()
        body = path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(
            f"index '{source.name}': cannot read {path}: {exc.strerror or type(exc).__name__}",
            hint=f"check the path, or remove the index with 'dtm registry remove {source.name}'",
        ) from exc
    extra = {"mtime_ns": stat.st_mtime_ns, "size": stat.st_size}
    return _store(paths, source, body, extra, quietly=store_quietly)


def _store(
    paths: DtmPaths, source: Source, body: bytes, extra: Mapping[str, Any], *, quietly: bool
) -> tuple[str, Loaded]:
    """Validate ``body`` and cache it; return its sha256 and the entries to use now."""
    from . import cache

    data = decode_index(body, name=source.name)
    validate_index(data, name=source.name)
    entries = parse_index(data, name=source.name, validate=False)
    try:
        cache_dir = paths.ensure(paths.index_cache_dir)
        meta, dependents = cache.store(
            cache_dir, source.name, source.url, body, data["tools"], entries, extra
        )
    except OSError:
        if not quietly:
            raise
        # A read-only cache must not stop `dtm search`: the file validated, use it uncached.
        return "", (entries, dependents_when_needed(entries))
    return str(meta["sha256"]), (entries, dependents)


def _unchanged_local(source: Source, meta: Mapping[str, Any]) -> bool:
    try:
        stat = source.local_path.stat()
    except OSError:
        return False
    return meta.get("mtime_ns") == stat.st_mtime_ns and meta.get("size") == stat.st_size


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
        return Source(DEFAULT_NAME, _normalise_location(override), 0)
    return Source(DEFAULT_NAME, _BUNDLED_INDEX, 0, bundled=True)


def _normalise_location(url: str) -> str:
    if url.startswith(("http://", "https://", "file://")):
        return url
    if "://" in url:
        scheme = url.split("://", 1)[0]
        raise InvalidInputError(
            f"unsupported index URL scheme {scheme!r} in {url}",
            hint="use an http(s):// or file:// URL, or a local path",
        )
    from pathlib import Path

    # Stored absolute so the index stays the same wherever dtm is run from.
    return str(Path(url).expanduser().resolve())


def _read_config(paths: DtmPaths) -> list[Source]:
    file = paths.sources_file_text
    try:
        with open(file, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror}") from exc
    hint = "fix the file, or delete it to forget every index added with 'dtm registry add'"
    try:
        data = json.loads(raw)
    except ValueError as exc:
        where = f"{exc.lineno}:{exc.colno}" if isinstance(exc, json.JSONDecodeError) else "1:1"
        raise ConfigError(f"{file}:{where}: not valid JSON", hint=hint) from exc
    if not isinstance(data, list):
        raise ConfigError(f"{file}: expected a list of indexes", hint=hint)
    sources = []
    for i, item in enumerate(data):
        if not (
            isinstance(item, dict)
            and isinstance(item.get("name"), str)
            and isinstance(item.get("url"), str)
            and type(item.get("priority", DEFAULT_PRIORITY)) is int
        ):
            raise ConfigError(
                f'{file}: entry {i}: expected {{"name": text, "url": text, "priority": number}}',
                hint=hint,
            )
        sources.append(Source(item["name"], item["url"], item.get("priority", DEFAULT_PRIORITY)))
    return sources


def _write_config(paths: DtmPaths, sources: list[Source]) -> None:
    from . import cache

    paths.ensure(paths.config_dir)
    data = [{"name": s.name, "url": s.url, "priority": s.priority} for s in sources]
    cache.write_atomic(paths.sources_file, (json.dumps(data, indent=2) + "\n").encode())


def __getattr__(name: str) -> Any:
    if name == "BUNDLED_INDEX":
        from pathlib import Path

        return Path(_BUNDLED_INDEX)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
