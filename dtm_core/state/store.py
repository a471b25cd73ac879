"""The state store interface every backend implements (the local file and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from .model import State


@dataclass(frozen=True)
class LockHolder:
    """Who holds the state lock, as a waiting run reports it."""

    pid: int
    host: str
    user: str
    command: str
    since: str

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host} by {self.user} ({self.command}) since {self.since}"


class StateStore(Protocol):
    """A place that keeps :class:`State`: loaded whole, committed whole and atomically."""

    #: Human-readable location, e.g. ``local file /home/me/.local/share/dtm/state/state.json``.
    description: str

    def load(self) -> State:
        """Return the current state; an empty State when nothing was ever committed."""
        ...

    def installed_tools(self) -> set[str]:
        """Names of tools with a recorded instance; cheap, for ``dtm search``."""
        ...

    def commit(self, state: State) -> None:
        """Write ``state`` atomically (all or nothing, even if killed) and bump its serial."""
        ...

    def lock_taken(self) -> bool:
        """Whether another run holds the lock now: a probe that waits for nothing and records
        nothing, so read-only commands can tell a run at work from one a crash left."""
        ...

    def lock(self, *, command: str, timeout: float,
             on_wait: Callable[[LockHolder | None], None] | None = None
             ) -> AbstractContextManager[None]:
        """Serialize dtm runs: hold the store's lock for the ``with`` block.

        When another run holds it, call ``on_wait`` once with the holder, then wait up to
        ``timeout`` seconds and raise :class:`~dtm_core.errors.LockTimeoutError` naming the
        holder. The lock must die with its process, so a crash can never leave it stale.
        """
        ...
