"""The object store: objects by group resource, the global resourceVersion and the history watches replay."""

from __future__ import annotations

import itertools
import json
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

Key = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped objects
HISTORY = 20000


def clone(value: Any) -> Any:
    """A deep copy of JSON data (faster than copy.deepcopy on large CRDs)."""
    return json.loads(json.dumps(value))


@dataclass(frozen=True)
class Event:
    """One change, as watches replay it; ``previous`` lets selector watches see objects leave."""

    rv: int
    type: str
    group: str
    plural: str
    obj: dict[str, Any]
    previous: dict[str, Any] | None


class Store:
    """Thread-safe storage. Callers hold ``lock`` across a read-modify-write to keep it atomic."""

    def __init__(self) -> None:
        self.lock = threading.Condition(threading.RLock())
        self._objects: dict[tuple[str, str], dict[Key, dict[str, Any]]] = {}
        self._rv = 1
        self._events: deque[Event] = deque(maxlen=HISTORY)
        self._oldest = 0  # events newer than this resourceVersion are all in the history
        self.closed = False

    @property
    def rv(self) -> int:
        with self.lock:
            return self._rv

    def get(self, group: str, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The stored object itself: callers clone it before changing anything."""
        with self.lock:
            return self._objects.get((group, plural), {}).get((namespace, name))

    def items(self, group: str, plural: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Objects in key order (namespace, then name), like etcd's."""
        with self.lock:
            bucket = self._objects.get((group, plural), {})
            return [bucket[key] for key in sorted(bucket) if namespace is None or key[0] == namespace]

    def group_resources(self) -> list[tuple[str, str]]:
        with self.lock:
            return [gr for gr, bucket in self._objects.items() if bucket]

    def put(self, group: str, plural: str, obj: dict[str, Any], event_type: str) -> dict[str, Any]:
        """Store ``obj`` under a new resourceVersion and record the event."""
        with self.lock:
            self._rv += 1
            obj["metadata"]["resourceVersion"] = str(self._rv)
            meta = obj["metadata"]
            key = (meta.get("namespace", ""), meta["name"])
            bucket = self._objects.setdefault((group, plural), {})
            previous = bucket.get(key)
            bucket[key] = obj
            self._record(Event(self._rv, event_type, group, plural, obj, previous))
            return obj

    def remove(self, group: str, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        with self.lock:
            previous = self._objects.get((group, plural), {}).pop((namespace, name), None)
            if previous is None:
                return None
            self._rv += 1
            gone: dict[str, Any] = clone(previous)
            gone["metadata"]["resourceVersion"] = str(self._rv)
            self._record(Event(self._rv, "DELETED", group, plural, gone, previous))
            return gone

    def _record(self, event: Event) -> None:
        if len(self._events) == self._events.maxlen:
            self._oldest = self._events[0].rv
        self._events.append(event)
        self.lock.notify_all()

    def events_after(self, rv: int) -> list[Event] | None:
        """Events newer than ``rv``; None when the history no longer reaches back that far."""
        with self.lock:
            if rv < self._oldest:
                return None
            if not self._events or self._events[-1].rv <= rv:
                return []
            # Every resourceVersion is one event, so the history is indexable by version.
            start = max(rv - self._events[0].rv + 1, 0)
            return list(itertools.islice(self._events, start, None))

    @property
    def oldest(self) -> int:
        return self._oldest

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self.lock.notify_all()
