"""The embedded state store: one JSON file, replaced atomically, with a backup and a lock."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInputError, RefusedError
from ..paths import make_private_dirs

if TYPE_CHECKING:
    from pathlib import Path

    from .model import State
    from .store import LockHolder

#: Kept in step with ``model.STATE_SCHEMA_VERSION`` (a test checks); here so that read-only
#: commands need not import the model.
STATE_SCHEMA_VERSION = 1

__all__ = ["MIGRATIONS", "LocalStateStore", "migrate"]

STATE_FILE = "state.json"
LOCK_FILE = "lock"

Migration = Callable[[dict[str, Any]], dict[str, Any]]

#: ``MIGRATIONS[n]`` turns a schema-``n`` document into a schema ``n + 1`` one. Every backend
#: runs documents through :func:`migrate` on load; the next commit writes the new schema.
MIGRATIONS: dict[int, Migration] = {}


def migrate(data: dict[str, Any], *, where: str) -> dict[str, Any]:
    """Bring a state document up to :data:`STATE_SCHEMA_VERSION`, one step at a time."""
    schema = data.get("schema", STATE_SCHEMA_VERSION)
    if type(schema) is not int or schema < 0:
        raise ValueError(f"schema is {schema!r}, not a version number")
    if schema > STATE_SCHEMA_VERSION:
        raise InvalidInputError(
            f"state was written by a newer dtm (schema {schema}); upgrade dtm",
            hint=f"this dtm reads schema {STATE_SCHEMA_VERSION} and older; the state is {where}",
        )
    while schema < STATE_SCHEMA_VERSION:
        step = MIGRATIONS.get(schema)
        if step is None:
            raise InvalidInputError(
                f"state schema {schema} is too old for this dtm (no migration to {schema + 1})",
                hint=f"upgrade it with an older dtm release first; the state is {where}",
            )
        data = step(dict(data))
        schema += 1
        data["schema"] = schema
    return data


class LocalStateStore:
    """Keeps state in ``<directory>/state.json``, private to the user (0700 directory, 0600 files).

    A commit writes a temporary file, fsyncs it and renames it over the state file, so a
    process killed at any moment leaves either the old or the new document, never a mix. The
    document being replaced is kept as ``state.json.bak`` for a by-hand restore.
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        # Text until a Path is wanted: `dtm search` reads the state file without importing
        # pathlib (see DtmPaths).
        self._directory = os.fspath(directory)
        self._file = os.path.join(self._directory, STATE_FILE)
        self.description = f"local file {self._file}"

    @cached_property
    def directory(self) -> Path:
        from pathlib import Path

        return Path(self._directory)

    @cached_property
    def path(self) -> Path:
        return self.directory / STATE_FILE

    @cached_property
    def backup_path(self) -> Path:
        return self.directory / (STATE_FILE + ".bak")

    @cached_property
    def lock_path(self) -> Path:
        return self.directory / LOCK_FILE

    def load(self) -> State:
        from .model import State

        return self._read() or State()

    def installed_tools(self) -> set[str]:
        """Names of the tools with a recorded instance, without building the model (search)."""
        document = self._read_document()
        instances = document.get("instances", {}) if document else {}
        return {str(record.get("tool")) for record in instances.values()}

    def commit(self, state: State) -> None:
        self._ensure_directory()
        # Also refuses to overwrite a damaged file (and so back it up over the good copy).
        on_disk = self._read_document()
        disk_serial = on_disk.get("serial", 0) if on_disk is not None else None
        if disk_serial is not None and disk_serial > state.serial:
            raise RefusedError(
                f"state in {self.path} changed since it was loaded "
                f"(serial {disk_serial} on disk, {state.serial} loaded); not overwriting it",
                hint="another dtm run committed without the lock; run the command again",
            )
        serial = state.serial + 1
        document = dict(state.to_json(), schema=STATE_SCHEMA_VERSION, serial=serial)
        # No indent: only then does json use its C encoder (10,000 instances: 5x faster).
        payload = json.dumps(document, sort_keys=True).encode("utf-8") + b"\n"
        tmp = self._temp_path()
        try:
            _write_private(tmp, payload)
            if on_disk is not None:
                self._back_up()
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        _fsync_directory(self.directory)
        state.serial = serial
        state.schema = STATE_SCHEMA_VERSION

    @contextlib.contextmanager
    def lock(self, *, command: str, timeout: float,
             on_wait: Callable[[LockHolder | None], None] | None = None) -> Iterator[None]:
        # Imported here: read-only commands (search, list) never take the lock.
        from .lock import StateLock

        self._ensure_directory()
        with StateLock(self.lock_path).acquire(command=command, timeout=timeout, on_wait=on_wait):
            self._sweep_temp_files()
            yield

    def lock_taken(self) -> bool:
        from .lock import StateLock

        if not self.lock_path.exists():
            return False
        try:
            return StateLock(self.lock_path).taken_elsewhere()
        except OSError:  # a state we may read but not lock: we cannot tell
            return False

    def _read_document(self) -> dict[str, Any] | None:
        """The document on disk, migrated to the current schema; None when there is none."""
        try:
            with open(self._file, "rb") as handle:
                raw = handle.read()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise InvalidInputError(
                f"cannot read state file {self._file}: {error.strerror}",
                hint="check that it belongs to the user running dtm and is readable (0600)",
            ) from error
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("the document is not a JSON object")
            data = migrate(data, where=str(self.path))
            if type(data.get("serial", 0)) is not int:
                raise ValueError(f"serial is {data.get('serial')!r}, not a number")
            if not isinstance(data.get("instances", {}), dict):
                raise ValueError("instances is not a mapping")
        except json.JSONDecodeError as error:
            where = f"line {error.lineno} column {error.colno}"
            raise self._corrupt(f"invalid JSON at {where}") from error
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise self._corrupt(f"not a dtm state document ({error})") from error
        return data

    def _read(self) -> State | None:
        from .model import State

        data = self._read_document()
        if data is None:
            return None
        try:
            return State.from_json(data)
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise self._corrupt(f"not a dtm state document ({error})") from error

    def _corrupt(self, reason: str) -> InvalidInputError:
        if self.backup_path.exists():
            hint = f"restore the previous good copy with: cp {self.backup_path} {self.path}"
        else:
            aside = f"mv {self.path} {self.path}.broken"
            hint = f"no backup exists; move it aside to start empty: {aside}"
        return InvalidInputError(f"state file {self.path} is corrupt: {reason}", hint=hint)

    def _back_up(self) -> None:
        """Make ``state.json.bak`` the document about to be replaced, atomically."""
        if _same_file(self.path, self.backup_path):
            # A run killed between its backup and its rename left both names on one file: the
            # backup already is this document, and renaming a link over its twin does nothing
            # (POSIX rename), which would leave the temporary link behind.
            return
        tmp = self._temp_path()
        try:
            try:
                # A hard link costs nothing and shares the state file's private mode.
                os.link(self.path, tmp)
            except OSError:  # file systems without hard links
                _write_private(tmp, self.path.read_bytes())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.backup_path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise

    def _ensure_directory(self) -> None:
        make_private_dirs(self.directory)

    def _temp_path(self) -> Path:
        return self.directory / f".{STATE_FILE}.{os.getpid()}.{os.urandom(6).hex()}.tmp"

    def _sweep_temp_files(self) -> None:
        # Only a run killed mid-commit leaves these; under the lock no live writer owns one.
        for leftover in self.directory.glob(f".{STATE_FILE}.*.tmp"):
            with contextlib.suppress(OSError):
                leftover.unlink()


def _same_file(one: Path, other: Path) -> bool:
    try:
        return os.path.samefile(one, other)
    except FileNotFoundError:
        return False


def _write_private(path: Path, payload: bytes) -> None:
    """Create ``path`` as a new 0600 file holding ``payload``, durably on disk."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "wb") as file:
        # The umask can only remove bits, but be explicit: the file must never be readable
        # by others, whatever the umask or ACL defaults say.
        os.chmod(path, 0o600)
        file.write(payload)
        file.flush()
        os.fsync(file.fileno())


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable: without this a power cut can bring back the old name."""
    if not hasattr(os, "O_DIRECTORY"):  # Windows cannot open a directory; NTFS journals renames
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
