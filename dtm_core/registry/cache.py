"""The index cache on disk: each validated index as JSON Lines, with a summary to search.

Two files per index, in ``<cache>/indexes/`` (``docs/registry.md`` gives the details):
``NAME.<sha256 prefix>.jsonl`` holds one ``[name, tool]`` line per tool, then the reverse
dependencies; ``NAME.index.json``, the commit record, holds where the index came from and a
summary row per tool with the byte offset and length of its line. ``dtm search`` decodes the
summary alone; ``info`` and ``install`` seek to the lines of the tools they use, so they pay for
what they touch, not for the size of the index.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import ItemsView, Iterator, Mapping, Sequence, ValuesView
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import DtmError, RegistryIndexError
from ..masking import mask_credentials
from .index import decode_index, dependents_when_needed, parse_index, reverse_dependencies
from .model import LazyMapping, ToolEntry

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "CACHE_FORMAT",
    "CachedIndex",
    "commit_file",
    "dependents_when_needed",
    "describe_missing",
    "intact",
    "open_index",
    "read_commit",
    "store",
    "write_atomic",
    "write_failed",
]

#: Bumped whenever the layout changes: a commit record of another format is never read as this
#: one. Format 1 kept the index body as fetched and is upgraded in place (see ``_upgrade``).
CACHE_FORMAT = 2
_BODY_FORMAT = 1


class CachedIndex(NamedTuple):
    """A usable cached index: its commit record, its entries, and who depends on each name."""

    meta: Mapping[str, Any]
    entries: Mapping[str, ToolEntry]
    dependents: Mapping[str, Sequence[str]]


def commit_file(cache_dir: Path, name: str) -> Path:
    return cache_dir / f"{name}.index.json"


def read_commit(cache_dir: Path, name: str, url: str) -> dict[str, Any] | None:
    """The commit record when a usable copy of *this* URL is cached, else None.

    A record of the previous layout is upgraded first. The data file's size is checked on every
    run (one ``stat``); its digest only by :func:`intact`, when an update could repair it.
    """
    try:
        meta = json.loads(commit_file(cache_dir, name).read_bytes())
    except (OSError, ValueError):
        return None
    # The URL check makes a re-added name, or a changed DTM_REGISTRY, start afresh.
    if not isinstance(meta, dict) or not _same_location(meta, url):
        return None
    if meta.get("cache") == _BODY_FORMAT:
        return _upgrade(cache_dir, name, url, meta)
    where = meta.get("needed_by")
    if (
        meta.get("cache") != CACHE_FORMAT
        or not isinstance(meta.get("entries"), dict)
        or not (isinstance(where, list) and len(where) == 2)
    ):
        return None
    try:
        size = (cache_dir / str(meta.get("data"))).stat().st_size
    except OSError:
        return None
    return meta if size == meta.get("data_size") else None


def open_index(cache_dir: Path, name: str, url: str) -> CachedIndex | None:
    """The cached copy of index ``name`` at ``url`` ready to use, or None if there is none."""
    meta = read_commit(cache_dir, name, url)
    if meta is None:
        return None
    data = _DataFile(cache_dir / meta["data"], name)
    dependents = LazyMapping(data.read_dependents, *meta["needed_by"])
    entries = _CachedEntries(meta["entries"], data, commit_file(cache_dir, name))
    return CachedIndex(meta, entries, dependents)


def _same_location(meta: Mapping[str, Any], url: str) -> bool:
    """Whether the record was made for ``url``.

    The record keeps the URL masked, as shown (a password belongs in registries.json alone),
    and the URL without its credentials (``location``), as parsed: two URLs that mask alike
    (a masking rule misreading where the host is) can never share a copy, and a URL whose
    password alone changed still names the same index.
    """
    if meta.get("url") != mask_credentials(url):
        return False
    if "location" in meta:
        return bool(meta["location"] == _location(url))
    # A record from before "location": trusted only where masking changed nothing.
    return "@" not in url


def _location(url: str) -> str:
    """``url`` without the credentials in its authority (a path's or query's "@" kept)."""
    if "@" not in url:
        return url  # the usual case: no parsing on every command
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def describe_missing(cache_dir: Path, name: str, url: str) -> str:
    """Why :func:`open_index` found nothing, for a warning about a remote index."""
    try:
        meta = json.loads(commit_file(cache_dir, name).read_bytes())
    except FileNotFoundError:
        meta = None
    except (OSError, ValueError):
        meta = {"url": mask_credentials(url)}
    shown = mask_credentials(url)
    # A record of another URL is another index's; one of this URL was unusable as it is.
    if isinstance(meta, dict) and meta.get("url") == shown:
        return f"index '{name}' ({shown}): the cached copy is damaged; run 'dtm update'"
    return f"index '{name}' ({shown}) has not been fetched yet; run 'dtm update'"


def intact(cache_dir: Path, meta: Mapping[str, Any]) -> bool:
    """Whether the summary rows are well formed and the data file holds what was written.

    Hashing 20 MB costs tens of milliseconds: paid by ``dtm update`` only, so that a damaged copy
    is fetched or read again instead of surviving a ``304`` or an unchanged local file.
    """
    import hashlib

    rows = meta["entries"].values()
    if not all(isinstance(row, list) and len(row) == 8 and type(row[7]) is int for row in rows):
        return False
    digest = hashlib.sha256()
    try:
        with open(cache_dir / meta["data"], "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return False
    return digest.hexdigest() == meta.get("data_sha256")


def store(
    cache_dir: Path,
    name: str,
    url: str,
    body: bytes,
    tools: Mapping[str, Any],
    entries: Mapping[str, ToolEntry],
    extra: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Cache a validated index (``body``, decoded as ``tools`` and ``entries``) and commit it.

    Returns the commit record and the reverse dependencies it stored. ``extra`` holds what the
    source needs to detect a change (and an upgraded copy's original ``fetched_at``).
    """
    # Imported here: loading OpenSSL costs every `dtm search` 2 ms, and only writers hash.
    import hashlib

    dependents = reverse_dependencies(entries)
    lines: list[bytes] = []
    rows: dict[str, list[Any]] = {}
    offset = 0
    for tool, entry in entries.items():
        line = _line([tool, tools[tool]])
        latest = entry.latest_text or ""
        row = [entry.description, list(entry.tags), entry.kind, entry.homepage, entry.starter, latest]
        rows[tool] = [*row, offset, len(line) - 1]
        lines.append(line)
        offset += len(line)
    tail = _line(dependents)
    lines.append(tail)
    data = b"".join(lines)
    data_digest = hashlib.sha256(data).hexdigest()
    data_name = f"{name}.{data_digest[:16]}.jsonl"
    previous = _data_name(cache_dir, name)
    write_atomic(cache_dir / data_name, data)
    meta = {
        "cache": CACHE_FORMAT,
        "url": mask_credentials(url),
        "location": _location(url),
        "fetched_at": _now(),
        **extra,
        "sha256": hashlib.sha256(body).hexdigest(),
        "tools": len(entries),
        "data": data_name,
        "data_size": len(data),
        "data_sha256": data_digest,
        "needed_by": [offset, len(tail) - 1],
        "entries": rows,
    }
    # The data file first, the commit record last: a crash in between leaves the old copy whole.
    write_atomic(commit_file(cache_dir, name), _dump(meta))
    # Keep the previous data file: another dtm run may hold the old commit record right now.
    keep = {data_name, previous, commit_file(cache_dir, name).name}
    for stale in cache_dir.glob(f"{name}.*"):
        if stale.name not in keep:
            stale.unlink(missing_ok=True)
    return meta, dependents


def touch(cache_dir: Path, name: str, meta: Mapping[str, Any]) -> None:
    """Record that the source was checked now and had not changed."""
    write_atomic(commit_file(cache_dir, name), _dump({**meta, "fetched_at": _now()}))


def write_atomic(path: Path, data: bytes) -> None:
    """Write, fsync, then rename: a reader sees the old file or the new one, never half."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    # The rename itself is durable only once the directory is synced (POSIX; not Windows).
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def write_failed(exc: OSError, path: Path) -> DtmError:
    """A failed write of ``path`` as one line naming the file and what to check (exit 1)."""
    return DtmError(
        f"cannot write {path}: {exc.strerror or type(exc).__name__}",
        hint=f"check that {path.parent} is writable and its disk has free space, then run the "
        "command again",
    )


def _upgrade(cache_dir: Path, name: str, url: str, old: Mapping[str, Any]) -> dict[str, Any] | None:
    """Rewrite a format-1 copy (the body as fetched) in this layout, without the network.

    Validated again: the rules may have grown since that dtm wrote it. Any failure counts as
    no copy at all, which ``dtm update`` repairs.
    """
    try:
        body = (cache_dir / str(old.get("data"))).read_bytes()
        data = decode_index(body, name=name)
        entries = parse_index(data, name=name, validate=True)
        kept = ("etag", "last_modified", "mtime_ns", "size", "fetched_at")
        extra = {key: old[key] for key in kept if key in old}
        return store(cache_dir, name, url, body, data["tools"], entries, extra)[0]
    except (DtmError, OSError):
        return None


def _data_name(cache_dir: Path, name: str) -> str | None:
    try:
        meta = json.loads(commit_file(cache_dir, name).read_bytes())
    except (OSError, ValueError):
        return None
    return str(meta.get("data")) if isinstance(meta, dict) else None


def _dump(value: Any) -> bytes:
    # ensure_ascii (the default) escapes every newline, so a line of JSON Lines stays one line.
    return json.dumps(value, separators=(",", ":")).encode()


def _line(value: Any) -> bytes:
    return _dump(value) + b"\n"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class _CachedEntries(Mapping[str, ToolEntry]):
    """The entries of a cached index, each built from its summary row when first looked up.

    Building all ten thousand costs about 20 ms that ``dtm info`` and ``install`` would spend
    on one tool, or a hundred.
    """

    def __init__(self, rows: Mapping[str, Sequence[Any]], data: _DataFile, commit: Path) -> None:
        self._rows = rows
        self._data = data
        self._commit = commit
        self._built: dict[str, ToolEntry] = {}

    def _build(self, tool: str, row: Sequence[Any]) -> ToolEntry:
        try:
            description, tags, kind, homepage, starter, latest, offset, length = row
            return ToolEntry(
                name=tool,
                description=description,
                tags=tuple(tags),
                homepage=homepage,
                kind=kind,
                raw_versions=_LazyVersions(self._data, tool, offset, length),
                source=self._data.source,
                starter=starter,
                known_latest=latest,
            )
        except (TypeError, ValueError) as exc:
            # Only a hand-edited commit record gets here: ``intact`` checks rows for an update.
            raise self._data.damaged(self._commit) from exc

    def __getitem__(self, tool: str) -> ToolEntry:
        entry = self._built.get(tool)
        if entry is None:
            entry = self._built[tool] = self._build(tool, self._rows[tool])
        return entry

    def __contains__(self, tool: object) -> bool:
        return tool in self._rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def items(self) -> ItemsView[str, ToolEntry]:
        # One pass over the rows for callers that want every entry (search, merging).
        if len(self._built) < len(self._rows):
            built = self._built
            self._built = {
                tool: built.get(tool) or self._build(tool, row) for tool, row in self._rows.items()
            }
        return self._built.items()

    def values(self) -> ValuesView[ToolEntry]:
        self.items()
        return self._built.values()


class _DataFile:
    """A cached data file, read one line at a time."""

    def __init__(self, path: Path, source: str) -> None:
        self.path = path
        self.source = source

    def read(self, offset: int, length: int) -> Any:
        # Opened per read, not held: a handle kept open would outlive the command's use of it,
        # and a hundred opens cost about a millisecond.
        try:
            with open(self.path, "rb") as handle:
                handle.seek(offset)
                return json.loads(handle.read(length))
        except (OSError, TypeError, ValueError) as exc:
            raise self.damaged() from exc

    def read_versions(self, tool: str, offset: int, length: int) -> Mapping[str, Any]:
        line = self.read(offset, length)
        # The name check catches a data file that changed under an older commit record.
        if not (isinstance(line, list) and len(line) == 2 and line[0] == tool):
            raise self.damaged()
        versions = line[1].get("versions") if isinstance(line[1], dict) else None
        if not isinstance(versions, dict):
            raise self.damaged()
        return versions

    def read_dependents(self, offset: int, length: int) -> Mapping[str, Sequence[str]]:
        value = self.read(offset, length)
        if not isinstance(value, dict):
            raise self.damaged()
        return value

    def damaged(self, path: Path | None = None) -> RegistryIndexError:
        return RegistryIndexError(
            f"index '{self.source}': the cached copy {path or self.path} is missing or damaged",
            hint="run 'dtm update' to fetch the index again",
        )


class _LazyVersions(LazyMapping[Any]):
    """One tool's raw versions, read from its line on first use.

    Not a :class:`LazyMapping` of a bound method: one object per tool instead of three keeps a search
    over ten thousand tools clear of a full garbage collection (about 13 ms).
    """

    __slots__ = ("_data", "_tool", "_offset", "_length")

    def __init__(self, data: _DataFile, tool: str, offset: int, length: int) -> None:
        self._data, self._tool, self._offset, self._length = data, tool, offset, length
        self._value = None

    def _get(self) -> Mapping[str, Any]:
        if self._value is None:
            self._value = self._data.read_versions(self._tool, self._offset, self._length)
        return self._value
