"""What request handlers share: the items, the queue, security, start-up readiness and the hooks tests set."""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from .buildqueue import BuildQueue
from .items import ItemTree
from .security import Security

REQUEST_LOG = 10_000  # requests kept for ``requests``; a long sandbox session must not grow without bound


@dataclass
class Fault:
    """An injected answer for the next ``times`` requests whose method and path match."""

    method: str  # "*" for any
    prefix: str
    status: int
    times: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    after: bool = False  # answer with the fault only after carrying the request out


class ServerState:
    """One emulated controller; every field is read and written under ``lock``."""

    def __init__(self, *, version: str, crumbs: bool, ready_after: float) -> None:
        self.lock = threading.RLock()
        self.version = version
        self.session_hash = secrets.token_hex(4)  # Jenkins.SESSION_HASH: 8 hex digits, new each start
        self.security = Security(crumbs=crumbs)
        self.tree = ItemTree()
        self.queue = BuildQueue()
        self.faults: list[Fault] = []
        self.requests: deque[tuple[str, str]] = deque(maxlen=REQUEST_LOG)
        self.ready_after = ready_after
        self.started_at: float | None = None
        self.base_url = ""

    def is_ready(self) -> bool:
        return self.started_at is not None and time.monotonic() - self.started_at >= self.ready_after

    def take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.method in ("*", method) and path.startswith(fault.prefix):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def advertised(self) -> list[tuple[str, str]]:
        """``Functions.advertiseHeaders``: on pages (the dashboard, where clients read the version)."""
        return [("X-Hudson", "1.395"), ("X-Jenkins", self.version), ("X-Jenkins-Session", self.session_hash)]

    def api_headers(self) -> list[tuple[str, str]]:
        """``Api.setHeaders``: on every ``.../api/*`` answer."""
        return [("X-Jenkins", self.version), ("X-Jenkins-Session", self.session_hash),
                ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "deny")]
