"""Primary and secondary rate limits: per-user buckets, their headers and ``GET /rate_limit``."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import errors

WINDOW = 3600.0  # GitHub's primary limit is per hour
ANONYMOUS_LIMIT = 60


@dataclass
class Bucket:
    limit: int
    used: int
    reset: float  # epoch seconds

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    def headers(self) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining),
                "X-RateLimit-Reset": str(math.ceil(self.reset)), "X-RateLimit-Used": str(self.used),
                "X-RateLimit-Resource": "core"}

    def overview(self) -> dict[str, int]:
        return {"limit": self.limit, "used": self.used, "remaining": self.remaining,
                "reset": math.ceil(self.reset)}


class RateLimiter:
    """Counts requests per user; tests can exhaust the primary limit or trip the secondary one."""

    def __init__(self, limit: int, clock: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self.clock = clock
        self.buckets: dict[str, Bucket] = {}
        self.exhausted_until = 0.0
        self.secondary_until = 0.0

    def bucket(self, key: str | None) -> Bucket:
        """The caller's bucket (``None``: anonymous), refilled when its window has passed."""
        now = self.clock()
        name = key or ""
        bucket = self.buckets.get(name)
        if bucket is None or now >= bucket.reset:
            bucket = Bucket(self.limit if key else ANONYMOUS_LIMIT, 0, now + WINDOW)
            self.buckets[name] = bucket
        if now < self.exhausted_until:
            bucket.used, bucket.reset = bucket.limit, self.exhausted_until
        return bucket

    def take(self, key: str, user_id: int, request_id: str) -> Bucket:
        """Count one request, or raise the 403 GitHub sends when a limit is spent."""
        bucket = self.bucket(key)
        now = self.clock()
        if now < self.secondary_until:
            wait = max(math.ceil(self.secondary_until - now), 1)
            raise errors.ApiError(403, errors.SECONDARY_LIMIT.format(request_id=request_id),
                                  docs=errors.RATE_LIMIT_DOCS, headers={"Retry-After": str(wait),
                                                                       **bucket.headers()})
        if bucket.remaining == 0:
            raise errors.ApiError(403, f"API rate limit exceeded for user ID {user_id}.",
                                  docs=errors.RATE_LIMIT_DOCS, headers=bucket.headers())
        bucket.used += 1
        return bucket

    def exhaust(self, reset_in: float, secondary: bool) -> None:
        until = self.clock() + reset_in
        if secondary:
            self.secondary_until = until
        else:
            self.exhausted_until = until
            self.buckets.clear()  # refilled as exhausted on next use, then fresh after ``until``


def overview(bucket: Bucket, version: str) -> dict[str, Any]:
    """The ``rate-limit-overview`` body; API version 2026-03-10 drops the deprecated ``rate``."""
    reset = math.ceil(bucket.reset)
    core = bucket.overview()
    resources: dict[str, Any] = {
        "core": core,
        "search": {"limit": 30, "used": 0, "remaining": 30, "reset": reset},
        "graphql": {"limit": 5000, "used": 0, "remaining": 5000, "reset": reset},
        "integration_manifest": {"limit": 5000, "used": 0, "remaining": 5000, "reset": reset},
        "code_search": {"limit": 10, "used": 0, "remaining": 10, "reset": reset},
    }
    body: dict[str, Any] = {"resources": resources}
    if version < "2026-03-10":
        body["rate"] = dict(core)
    return body
