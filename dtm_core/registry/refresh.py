"""Bringing one index into the cache: read or fetch it, verify its signature, validate, store.

Split from :mod:`.sources`, which decides *which* indexes to use and *when* to refresh them;
here is *how* one is refreshed. The order is the guarantee: the signature is checked over the
exact bytes before anything is decoded, and only a validated index is written to the cache.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInputError
from ..paths import DtmPaths
from .index import decode_index, dependents_when_needed, parse_index, validate_index
from .model import ToolEntry

if TYPE_CHECKING:
    import httpx

    from .policy import IndexPolicy
    from .sources import Source

__all__ = ["Loaded", "read_local", "refresh", "unchanged_local", "verified_with_key"]

#: What one index contributes to a registry: its entries, and who among them depends on a name.
Loaded = tuple[Mapping[str, ToolEntry], Mapping[str, Sequence[str]]]


def refresh(
    paths: DtmPaths, source: Source, transport: httpx.BaseTransport | None, policy: IndexPolicy
) -> tuple[str, int]:
    """Bring one index's cache up to date; return its status and number of tools.

    ``policy`` has allowed ``source`` already; it is asked again about every redirect.
    """
    from . import cache

    cache_dir = paths.index_cache_dir
    meta = cache.read_commit(cache_dir, source.name, source.url)
    if meta is not None and not (cache.intact(cache_dir, meta) and verified_with_key(source, meta)):
        # Fetch or read it again in full: a 304 or an unchanged file would keep the damage, or
        # the copy checked with another key (or none).
        meta = None
    if not source.remote:
        if meta is not None and unchanged_local(source, meta):
            return "unchanged", int(meta.get("tools", 0))
        digest, (entries, _) = read_local(paths, source, store_quietly=False)
    else:
        headers: dict[str, str] = {}
        if meta is not None:
            if meta.get("etag"):
                headers["If-None-Match"] = meta["etag"]
            if meta.get("last_modified"):
                headers["If-Modified-Since"] = meta["last_modified"]
        from .fetch import http_get, http_get_signature

        status, body, reply = http_get(source.name, source.url, headers, transport, policy)
        if status == 304 and meta is not None:
            try:
                cache.touch(cache_dir, source.name, meta)
            except OSError as exc:
                raise cache.write_failed(exc, cache.commit_file(cache_dir, source.name)) from exc
            return "unchanged", int(meta.get("tools", 0))
        signature = (http_get_signature(source.name, source.url, transport, policy)
                     if source.key else None)
        validators = {"etag": reply.get("etag"), "last_modified": reply.get("last-modified")}
        digest, (entries, _) = _store(paths, source, body, signature, validators, quietly=False)
    unchanged = meta is not None and meta.get("sha256") == digest
    return ("unchanged" if unchanged else "updated"), len(entries)


def read_local(paths: DtmPaths, source: Source, *, store_quietly: bool) -> tuple[str, Loaded]:
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
    signature = _read_signature(source) if source.key else None
    extra = {"mtime_ns": stat.st_mtime_ns, "size": stat.st_size}
    return _store(paths, source, body, signature, extra, quietly=store_quietly)


def _read_signature(source: Source) -> bytes | None:
    from .signing import signature_location

    try:
        with open(signature_location(str(source.local_path)), "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InvalidInputError(
            f"index '{source.name}': cannot read its signature: {exc.strerror}",
            hint="check the file's permissions",
        ) from exc


def _store(
    paths: DtmPaths,
    source: Source,
    body: bytes,
    signature: bytes | None,
    extra: Mapping[str, Any],
    *,
    quietly: bool,
) -> tuple[str, Loaded]:
    """Verify and validate ``body``, and cache it; return its sha256 and the entries to use now."""
    from . import cache

    if source.key is not None:
        from .signing import verify_index

        verify_index(source.name, source.url, body, signature, source.key)
        # Stamped with the key that verified it: a copy checked with another key is not reused.
        extra = {**extra, "key": source.key}
    data = decode_index(body, name=source.name)
    validate_index(data, name=source.name)
    entries = parse_index(data, name=source.name, validate=False)
    try:
        cache_dir = paths.ensure(paths.index_cache_dir)
        meta, dependents = cache.store(
            cache_dir, source.name, source.url, body, data["tools"], entries, extra
        )
    except OSError as exc:
        if not quietly:
            raise cache.write_failed(exc, cache.commit_file(paths.index_cache_dir, source.name)) from exc
        # A read-only cache must not stop `dtm search`: the file validated, use it uncached.
        return "", (entries, dependents_when_needed(entries))
    return str(meta["sha256"]), (entries, dependents)


def verified_with_key(source: Source, meta: Mapping[str, Any]) -> bool:
    """Whether a cached copy may serve ``source``: verified with its key, if it has one."""
    return source.key is None or meta.get("key") == source.key


def unchanged_local(source: Source, meta: Mapping[str, Any]) -> bool:
    try:
        stat = source.local_path.stat()
    except OSError:
        return False
    return meta.get("mtime_ns") == stat.st_mtime_ns and meta.get("size") == stat.st_size
