"""Watch streams: the initial state when asked for, then the store's events for one resource as JSON lines."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import errors
from .api import Api
from .resources import ResourceType
from .selectors import Predicate

DEFAULT_TIMEOUT = 1800.0  # the real server's --min-request-timeout


@dataclass
class WatchRequest:
    """What a watch asks for, from its query parameters."""

    rtype: ResourceType
    namespace: str | None
    match: Predicate
    resource_version: str = ""
    timeout: float = DEFAULT_TIMEOUT
    send_initial_events: bool = False
    bookmarks: bool = False
    present: Callable[[dict[str, Any]], dict[str, Any]] | None = None  # e.g. as a Table row


def _line(event_type: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({"type": event_type, "object": obj}, separators=(",", ":")).encode() + b"\n"


def _event_type(event_type: str, matches_now: bool, matched_before: bool) -> str | None:
    """How one change looks through a selector: objects enter and leave the watched set."""
    if event_type == "DELETED":
        return "DELETED" if matched_before else None
    if matches_now:
        return "MODIFIED" if matched_before and event_type == "MODIFIED" else "ADDED"
    return "DELETED" if matched_before else None


def stream(api: Api, request: WatchRequest, write: Callable[[bytes], None],
           alive: Callable[[], bool]) -> None:
    """Write events until the timeout, the client leaving or the emulator stopping."""
    store, rtype = api.store, request.rtype

    def shown(obj: dict[str, Any]) -> dict[str, Any]:
        rendered = api.render(rtype, obj)
        return request.present(rendered) if request.present else rendered

    deadline = time.monotonic() + request.timeout
    initial: list[bytes] = []
    with store.lock:
        if request.send_initial_events or request.resource_version in ("", "0"):
            rv = store.rv
            current = store.items(rtype.group, rtype.plural, request.namespace)
            initial = [_line("ADDED", shown(obj)) for obj in current if request.match(obj)]
        else:
            try:
                rv = int(request.resource_version)
            except ValueError:
                rv = -1
    for line in initial:
        write(line)
    if request.send_initial_events and request.bookmarks:
        write(_line("BOOKMARK", {"kind": rtype.kind, "apiVersion": rtype.api_version, "metadata": {
            "resourceVersion": str(rv), "annotations": {"k8s.io/initial-events-end": "true"}}}))
    while not store.closed:
        events = store.events_after(rv)
        if events is None:
            write(_line("ERROR", errors.gone(rv, store.oldest).status()))
            return
        for event in events:
            rv = event.rv
            if (event.group, event.plural) != (rtype.group, rtype.plural):
                continue
            namespace = event.obj["metadata"].get("namespace", "")
            if request.namespace is not None and namespace != request.namespace:
                continue
            seen_as = _event_type(event.type, request.match(event.obj),
                                  event.previous is not None and request.match(event.previous))
            if seen_as:
                write(_line(seen_as, shown(event.obj)))
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not alive():
            return
        with store.lock:  # checked under the lock so that no event slips in before the wait
            if not store.events_after(rv) and not store.closed:
                store.lock.wait(min(remaining, 0.5))
