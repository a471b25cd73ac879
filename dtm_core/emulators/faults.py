"""Random, seeded fault injection shared by every emulator: what goes wrong with a request, and how often.

A :class:`FaultPlan` draws, for each request, whether it is slowed down and whether it fails,
from a :class:`FaultRates` value and a seeded random generator, so a failing run can be
replayed. The kinds of failure are the ones clients meet on the internet:

* ``throttle`` — 429 with ``Retry-After`` (refused before anything was done);
* ``server_error`` — 500, 502 or 503 in the vendor's own error body;
* ``reset`` — the connection is reset (TCP RST) with no answer;
* ``timeout`` — the request is held for ``stall`` seconds (past a short client timeout), then
  the connection is dropped with no answer.

A server error, reset or timeout strikes *after* the request was carried out with probability
``after``: the server did the work and the client cannot tell — the ambiguous case that makes a
create repeated blindly create twice. The HTTP plumbing in :mod:`.serving` applies the draw;
each emulator only says how its error replies look.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Literal

Kind = Literal["throttle", "server_error", "reset", "timeout"]
KINDS: tuple[Kind, ...] = ("throttle", "server_error", "reset", "timeout")
SERVER_ERRORS = (500, 502, 503)


@dataclass(frozen=True)
class FaultRates:
    """Probabilities (0 to 1) per request of each fault, and how the faults behave."""

    latency: float = 0.0
    throttle: float = 0.0
    server_error: float = 0.0
    reset: float = 0.0
    timeout: float = 0.0
    #: Share of server errors, resets and timeouts that strike after the request was processed.
    after: float = 0.5
    #: Seconds of added latency, and seconds a ``timeout`` holds the request before dropping it.
    delay: float = 0.05
    stall: float = 1.0
    #: The ``Retry-After`` a throttled request is told to wait (seconds).
    retry_after: int = 1

    def __post_init__(self) -> None:
        for name in ("latency", "after", *KINDS):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"fault rate {name}={value!r} is not between 0 and 1")
        for name in ("delay", "stall", "retry_after"):
            if getattr(self, name) < 0:
                raise ValueError(f"fault setting {name}={getattr(self, name)!r} is negative")
        if self.failing > 1.0:
            raise ValueError(f"fault rates add up to {self.failing:g}, more than 1")

    @property
    def failing(self) -> float:
        """The probability that a request fails in one way or another."""
        return float(sum(getattr(self, kind) for kind in KINDS))

    @classmethod
    def mixed(cls, rate: float, **options: float) -> FaultRates:
        """``rate`` of requests failing, split evenly between the four kinds, half of them after the work.

        As many requests again are slowed down. ``options`` set any other field.
        """
        fields: dict[str, float] = {"latency": rate, **dict.fromkeys(KINDS, rate / len(KINDS)), **options}
        return cls(**fields)  # type: ignore[arg-type]

    def text(self) -> str:
        """The rates as :meth:`parse` reads them (fields that differ from the defaults)."""
        default = FaultRates()
        return ",".join(f"{name}={_exact(getattr(self, name))}" for name in self.__dataclass_fields__
                        if getattr(self, name) != getattr(default, name)) or "latency=0"

    @classmethod
    def parse(cls, text: str) -> FaultRates:
        """``0.2`` (mixed, as :meth:`mixed`) or ``reset=0.1,throttle=0.05,stall=2`` (each field named)."""
        text = text.strip()
        try:
            if "=" not in text:
                return cls.mixed(float(text))
            fields = {}
            for part in text.split(","):
                name, _, value = part.partition("=")
                name = name.strip().replace("-", "_")
                if name not in cls.__dataclass_fields__:
                    raise ValueError(f"unknown fault setting {name!r} (known: "
                                     f"{', '.join(cls.__dataclass_fields__)})")
                fields[name] = float(value)
            if "retry_after" in fields:
                fields["retry_after"] = int(fields["retry_after"])
            return cls(**fields)  # type: ignore[arg-type]
        except ValueError as error:
            raise ValueError(f"bad fault rates {text!r}: {error}") from None


def _exact(value: float) -> str:
    """``value`` as briefly as it reads back unchanged: the sandbox hands its background process
    the rates as text, and ``:g`` alone would round 1/3."""
    short = f"{value:g}"
    return short if float(short) == value else repr(value)


@dataclass(frozen=True)
class Fault:
    """What happens to one request: an added ``delay``, and a failure ``kind`` striking before or after."""

    delay: float = 0.0
    kind: Kind | None = None
    after: bool = False
    status: int = 0  # for throttle and server_error


class FaultPlan:
    """The faults one emulator injects: its rates, a seeded draw, and counts of what it injected.

    Thread-safe: the emulators answer each connection on its own thread. With the same seed and
    the same sequence of requests the same faults strike; concurrent clients shuffle the sequence.
    """

    def __init__(self, rates: FaultRates | None = None, *, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rates = rates or FaultRates()
        self._random = random.Random(seed)
        self._counts: Counter[str] = Counter()

    @property
    def rates(self) -> FaultRates:
        with self._lock:
            return self._rates

    def set(self, rates: FaultRates | None = None, *, seed: int | None = None) -> None:
        """Change the rates at run time (None: no faults), and restart the draw when ``seed`` is given."""
        with self._lock:
            self._rates = rates or FaultRates()
            if seed is not None:
                self._random.seed(seed)

    def pause(self) -> None:
        """Inject nothing from now on (the counts are kept)."""
        self.set(None)

    def draw(self) -> Fault | None:
        """The fault for the next request, or None when it goes through untouched."""
        with self._lock:
            rates, roll = self._rates, self._random.random
            if rates.latency == 0.0 and rates.failing == 0.0:
                return None
            delay = rates.delay if roll() < rates.latency else 0.0
            pick, kind = roll(), None
            for candidate in KINDS:
                rate = getattr(rates, candidate)
                if pick < rate:
                    kind = candidate
                    break
                pick -= rate
            after = kind not in (None, "throttle") and roll() < rates.after
            status = 0
            if kind == "throttle":
                status = 429
            elif kind == "server_error":
                status = SERVER_ERRORS[int(roll() * len(SERVER_ERRORS))]
            if delay:
                self._counts["latency"] += 1
            if kind is not None:
                self._counts[kind] += 1
                self._counts["after" if after else "before"] += 1
            if not delay and kind is None:
                return None
            return Fault(delay, kind, after, status)

    def counts(self) -> dict[str, int]:
        """How many of each were injected: the kinds, ``latency``, ``before`` and ``after``."""
        with self._lock:
            return dict(self._counts)

    @property
    def failures(self) -> int:
        """How many requests were made to fail."""
        with self._lock:
            return sum(self._counts[kind] for kind in KINDS)

    def summary(self) -> dict[str, str]:
        """``{"faults injected": "7 (2 throttle, 5 reset; 3 after the work)"}``, or ``{}`` before any."""
        counts = self.counts()
        failed = sum(counts.get(kind, 0) for kind in KINDS)
        if not failed:
            return {}
        kinds = ", ".join(f"{counts[kind]} {kind.replace('_', ' ')}" for kind in KINDS if counts.get(kind))
        return {"faults injected": f"{failed} ({kinds}; {counts.get('after', 0)} after the work)"}
