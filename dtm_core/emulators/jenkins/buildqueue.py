"""The build queue: triggers become waiting items that leave after a quiet period, and their builds run."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from .items import Build, Item

QUIET_PERIOD = 0.2  # seconds a new item waits; Jenkins' default is 5 s, tests want it short


@dataclass
class QueueItem:
    id: int
    job: Item
    build: Build
    in_queue_since_ms: int
    wait: float  # seconds between entering and leaving the queue
    due: float  # time.monotonic() when the item leaves the queue
    left: bool = False

    @property
    def params(self) -> dict[str, str] | None:
        return self.build.params


def parse_delay(value: str | None) -> float | None:
    """A ``delay`` parameter (``TimeDuration``: "5", "5sec", "500ms"), or None when absent or unreadable."""
    if not value:
        return None
    found = re.fullmatch(r"\s*(\d+)\s*(ms|sec|secs|s)?\s*", value)
    if found is None:
        return None
    number = int(found.group(1))
    return number / 1000 if found.group(2) == "ms" else float(number)


class BuildQueue:
    """Queue items by id; callers hold the emulator's lock and call ``advance`` before reading."""

    def __init__(self, quiet_period: float = QUIET_PERIOD) -> None:
        self.quiet_period = quiet_period
        self.items: dict[int, QueueItem] = {}
        self._next_id = 1

    def schedule(self, job: Item, params: dict[str, str] | None,
                 delay: float | None) -> tuple[QueueItem, bool]:
        """Queue a build of ``job``; returns the item and whether it is new.

        Like ``Queue.schedule2``, a trigger that matches an item still waiting for the same job with the
        same parameters is folded into it: no new item, no new build.
        """
        self.advance()
        for item in self.items.values():
            if item.job is job and not item.left and item.params == params:
                return item, False
        build = Build(number=job.next_build_number, queue_id=self._next_id, params=params)
        # The number is reserved now (Jenkins assigns it when the build starts) so tests can name the
        # build as soon as it was triggered; nothing shows it before the item leaves the queue.
        job.next_build_number += 1
        job.builds.append(build)
        wait = self.quiet_period if delay is None else delay
        item = QueueItem(id=self._next_id, job=job, build=build, in_queue_since_ms=_now_ms(), wait=wait,
                         due=time.monotonic() + wait)
        self.items[item.id] = item
        self._next_id += 1
        return item, True

    def advance(self) -> None:
        """Let every item whose quiet period is over leave the queue; its build runs and succeeds at once."""
        now = time.monotonic()
        for item in self.items.values():
            if not item.left and item.due <= now:
                item.left = True
                item.build.started_ms = _now_ms()

    def waiting(self) -> list[QueueItem]:
        return [item for item in self.items.values() if not item.left]

    def waiting_for(self, job: Item) -> QueueItem | None:
        return next((item for item in self.waiting() if item.job is job), None)

    def forget(self, job: Item) -> None:
        """Drop the waiting items of a deleted job (Jenkins cancels them)."""
        for item in list(self.items.values()):
            if not item.left and (item.job is job or _inside(item.job, job)):
                del self.items[item.id]


def _inside(item: Item, group: Item) -> bool:
    parent = item.parent
    while parent is not None:
        if parent is group:
            return True
        parent = parent.parent
    return False


def _now_ms() -> int:
    return int(time.time() * 1000)
