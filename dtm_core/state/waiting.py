"""Naming the run that holds the state lock, for a run that found it taken (both backends).

A holder records itself just after it wins the lock and erases its record just before it lets
go, so a run that finds the lock taken can look in between and find no record at all. Eight
runs contending hit that window often (issue 9, load test), and "held by another dtm run" then
tells the waiting user nothing: so a waiter asks again until it can name the holder, or wins
the lock because the holder has just let go.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..errors import LockTimeoutError
from .store import LockHolder

__all__ = ["NAMING_GRACE", "lock_timeout_error", "name_holder", "start_waiting"]

OnWait = Callable[[LockHolder | None], None]

#: How long a waiter keeps asking who holds the lock. A holder takes microseconds to write its
#: record (a file replace, or an insert on its own connection), unless it is starved of CPU;
#: past this, the holder is not a dtm run that records itself, and is reported as unknown.
NAMING_GRACE = 2.0
#: How often it asks meanwhile.
NAMING_POLL = 0.01


def name_holder(try_acquire: Callable[[], bool], read_holder: Callable[[], LockHolder | None],
                *, grace: float = NAMING_GRACE) -> tuple[bool, LockHolder | None]:
    """Read the holder of a lock just found taken, retrying the lock while nobody is named.

    Returns ``(True, None)`` when ``try_acquire`` won the lock meanwhile, else ``(False,
    holder)``: the holder, or None when none was named within ``grace`` seconds. The grace is
    spent even by a run that would not wait (``--lock-timeout 0``): it names whom it gave up on.
    """
    give_up = time.monotonic() + grace
    while True:
        holder = read_holder()
        if holder is not None or time.monotonic() >= give_up:
            return False, holder
        time.sleep(NAMING_POLL)
        if try_acquire():
            return True, None


def start_waiting(try_acquire: Callable[[], bool], read_holder: Callable[[], LockHolder | None],
                  timeout: float, on_wait: OnWait | None) -> tuple[float, LockHolder | None] | None:
    """What a run does on finding the lock taken, before it blocks: name the holder, tell ``on_wait``.

    Returns None when the lock was won meanwhile, else the seconds left of ``timeout`` to
    block for (negative: no limit) and the holder named; raises the timeout error, naming the
    holder, when none are left (``timeout`` 0: do not wait).
    """
    started = time.monotonic()
    won, holder = name_holder(try_acquire, read_holder)
    if won:
        return None
    if on_wait is not None:
        on_wait(holder)
    if timeout < 0:
        return timeout, holder
    remaining = timeout - (time.monotonic() - started)
    if remaining <= 0:
        raise lock_timeout_error(holder)
    return remaining, holder


def lock_timeout_error(holder: LockHolder | None) -> LockTimeoutError:
    who = holder.describe() if holder is not None else "holder unknown"
    return LockTimeoutError(
        f"another dtm run holds the state lock: {who}",
        hint="wait for it to finish, or pass a longer --lock-timeout",
    )
