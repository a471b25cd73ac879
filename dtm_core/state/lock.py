"""The cross-process state lock: an OS file lock plus a side file naming who holds it."""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
from pathlib import Path
from types import TracebackType
from typing import Any

import filelock

from ..paths import make_private_dirs
from .model import now
from .store import LockHolder
from .waiting import OnWait, lock_timeout_error, start_waiting

__all__ = ["StateLock", "read_holder"]

#: How often a waiting run retries the lock; dtm runs are long, but tests hand it over often.
POLL_INTERVAL = 0.02


def holder_path(lock_path: Path) -> Path:
    return lock_path.with_name(lock_path.name + ".holder.json")


def read_holder(lock_path: Path) -> LockHolder | None:
    """The holder recorded next to ``lock_path``; None when missing, half-written or foreign."""
    try:
        data = json.loads(holder_path(lock_path).read_text(encoding="utf-8"))
        return LockHolder(
            pid=int(data["pid"]),
            host=str(data["host"]),
            user=str(data["user"]),
            command=str(data["command"]),
            since=str(data["since"]),
        )
    # The holder writes the file just after it wins the lock and removes it just before it
    # lets go, so a waiter can always race it; an unknown holder is not an error.
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "unknown"


class StateLock:
    """Serializes dtm runs on one machine (or one shared file system) through ``path``.

    Built on :class:`filelock.FileLock`: the OS drops the lock when its process dies, so a
    crashed run can never leave a stale lock behind. Not re-entrant.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.holder_file = holder_path(path)
        self._lock = filelock.FileLock(path, mode=0o600)
        self._held = False

    @property
    def held(self) -> bool:
        return self._held

    def acquire(self, command: str = "dtm", timeout: float = -1.0,
                on_wait: OnWait | None = None) -> StateLock:
        """Take the lock, waiting up to ``timeout`` seconds (0: not at all; negative: forever).

        When another run holds it, ``on_wait`` is called once with that run's holder record
        (None when none could be named: see :mod:`.waiting`) before waiting starts.
        """
        if self._held:
            # filelock would nest silently and a single release would then keep the lock.
            raise RuntimeError(f"state lock {self.path} is already held here; it is not re-entrant")
        make_private_dirs(self.path.parent)
        if not self._try_acquire():
            self._wait(timeout, on_wait)
        try:
            self._write_holder(command)
        except BaseException:
            self._lock.release()
            raise
        self._held = True
        return self

    def _wait(self, timeout: float, on_wait: OnWait | None) -> None:
        waiting = start_waiting(self._try_acquire, self.live_holder, timeout, on_wait)
        if waiting is None:
            return
        remaining, holder = waiting
        try:
            self._lock.acquire(timeout=remaining, poll_interval=POLL_INTERVAL)
        except filelock.Timeout:
            # Name whoever holds it now: the first holder may have finished meanwhile.
            raise lock_timeout_error(self.live_holder() or holder) from None

    def taken_elsewhere(self) -> bool:
        """Whether another process holds the lock now; takes it for an instant, records nothing."""
        if self._held:
            return False
        if not self._try_acquire():
            return True
        self._lock.release()
        return False

    def _try_acquire(self) -> bool:
        try:
            self._lock.acquire(timeout=0)
        except filelock.Timeout:
            return False
        return True

    def live_holder(self) -> LockHolder | None:
        """The recorded holder, unless it is a run on this host that no longer exists.

        A killed run leaves its record behind until the next holder replaces it, just after
        winning the lock: a waiter looking in between must not name the dead run.
        """
        holder = read_holder(self.path)
        if holder is None or holder.host != socket.gethostname() or _alive(holder.pid):
            return holder
        return None

    def release(self) -> None:
        if not self._held:
            return
        self._held = False
        try:
            # Removed before the OS lock is let go, so it can never delete the next holder's file.
            with contextlib.suppress(FileNotFoundError):
                self.holder_file.unlink()
        finally:
            self._lock.release()

    def __enter__(self) -> StateLock:
        if not self._held:
            self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()

    def _write_holder(self, command: str) -> None:
        record: dict[str, Any] = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "user": _user(),
            "command": command,
            "since": now(),
        }
        tmp = self.holder_file.with_name(f"{self.holder_file.name}.{os.getpid()}.tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
        fd = os.open(tmp, flags, 0o600)
        try:
            os.chmod(tmp, 0o600)  # it may be left over, with other bits, from a killed run
            os.write(fd, json.dumps(record, sort_keys=True).encode("utf-8"))
        finally:
            os.close(fd)
        # Atomic, so a waiter reads the whole record or the previous state of the file.
        os.replace(tmp, self.holder_file)
        # Runs killed between writing and renaming theirs left their own; only the holder writes.
        for stale in self.holder_file.parent.glob(f"{self.holder_file.name}.*.tmp"):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, as another user
        return True
    return True
