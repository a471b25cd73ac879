"""Timing (interleaved subprocess runs, in-process calls), targets, and the printed table."""

from __future__ import annotations

import gc
import os
import platform
import random
import statistics
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .generate import LargeIndex
from .sandbox import Sandbox


@dataclass(frozen=True)
class Settings:
    """How much to measure: ``--quick`` trades precision for a run of well under a minute."""

    quick: bool
    reps: int
    warmups: int
    inprocess_reps: int
    first_run_reps: int
    index_tools: int

    @classmethod
    def choose(cls, quick: bool) -> Settings:
        if quick:
            return cls(True, reps=5, warmups=1, inprocess_reps=3, first_run_reps=1,
                       index_tools=1_000)
        return cls(False, reps=30, warmups=3, inprocess_reps=15, first_run_reps=5,
                   index_tools=10_000)


@dataclass(frozen=True)
class Context:
    """Everything the benchmark modules share: settings, the venv, the generated inputs."""

    settings: Settings
    sandbox: Sandbox
    index: LargeIndex
    workdir: Path

    def home(self, name: str) -> Path:
        """A ``DTM_HOME`` of its own for one group of commands (created empty)."""
        path = self.workdir / "homes" / name
        path.mkdir(parents=True, exist_ok=True)
        return path


@dataclass(frozen=True)
class Command:
    """One command line timed as a subprocess, named as its table row (or a baseline) is."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str]
    cwd: Path


@dataclass(frozen=True)
class Target:
    """``ratio``: at most ``limit`` times the baseline; ``delta``: at most ``limit`` ms more
    than the baseline; ``absolute``: at most ``limit`` ms."""

    kind: Literal["ratio", "delta", "absolute"]
    limit: float

    def text(self) -> str:
        if self.kind == "ratio":
            return f"<= {self.limit:g}x"
        if self.kind == "delta":
            return f"<= +{self.limit:g} ms"
        return f"<= {self.limit:g} ms"


@dataclass(frozen=True)
class Samples:
    """Timings of one measurement, in milliseconds."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def minimum(self) -> float:
        return min(self.values)


@dataclass
class Row:
    """One line of the table; ``compare`` says how the figure is set against its baseline."""

    name: str
    samples: Samples | None = None
    baseline_name: str = ""
    baseline: Samples | None = None
    compare: Literal["ratio", "delta"] = "delta"
    target: Target | None = None
    error: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        if self.samples is None or self.baseline is None:
            return None
        return self.samples.median / self.baseline.median

    @property
    def delta(self) -> float | None:
        if self.samples is None or self.baseline is None:
            return None
        return self.samples.median - self.baseline.median

    @property
    def result(self) -> str:
        if self.error:
            return "error"
        if self.target is None or self.samples is None:
            return "-"
        value = {"ratio": self.ratio, "delta": self.delta,
                 "absolute": self.samples.median}[self.target.kind]
        if value is None:
            return "error"
        return "ok" if value <= self.target.limit else "MISSED"

    def cells(self) -> list[str]:
        figure = "-" if self.samples is None else (
            f"{self.samples.median:.1f} ms (min {self.samples.minimum:.1f})")
        baseline = "-" if self.baseline is None else (
            f"{self.baseline_name} {self.baseline.median:.1f} ms")
        compared = "-"
        if self.ratio is not None and self.delta is not None:
            compared = f"{self.ratio:.2f}x" if self.compare == "ratio" else f"{self.delta:+.1f} ms"
        target = self.target.text() if self.target else "-"
        return [self.name, figure, baseline, compared, target, self.result]

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "median_ms": self.samples.median if self.samples else None,
            "min_ms": self.samples.minimum if self.samples else None,
            "runs": len(self.samples.values) if self.samples else 0,
            "baseline": self.baseline_name or None,
            "baseline_median_ms": self.baseline.median if self.baseline else None,
            "ratio": self.ratio,
            "delta_ms": self.delta,
            "target": self.target.text() if self.target else None,
            "result": self.result,
            "error": self.error or None,
            "notes": self.notes,
        }


class CommandFailed(RuntimeError):
    """A timed command exited non-zero: its figure would be meaningless."""


def time_commands(commands: Sequence[Command], *, reps: int, warmups: int,
                  seed: int = 1124) -> tuple[dict[str, Samples], dict[str, str]]:
    """Run every command ``warmups`` times, then ``reps`` rounds of all of them in a shuffled
    order each round, so a burst of machine noise spreads over every command alike.

    Returns the samples of the commands that worked, and an error line for those that failed.
    """
    errors: dict[str, str] = {}
    live = list(commands)
    for _ in range(warmups):
        for command in list(live):
            try:
                run_once(command)
            except CommandFailed as exc:
                errors[command.name] = str(exc)
                live.remove(command)
    timings: dict[str, list[float]] = {command.name: [] for command in live}
    order = random.Random(seed)
    for _ in range(reps):
        round_ = list(live)
        order.shuffle(round_)
        for command in round_:
            if command.name in errors:
                continue
            try:
                timings[command.name].append(run_once(command))
            except CommandFailed as exc:
                errors[command.name] = str(exc)
    samples = {name: Samples(tuple(values)) for name, values in timings.items()
               if values and name not in errors}
    return samples, errors


def run_once(command: Command) -> float:
    start = time.perf_counter_ns()
    done = subprocess.run(command.argv, env=dict(command.env), cwd=command.cwd,
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, check=False)
    elapsed = (time.perf_counter_ns() - start) / 1e6
    if done.returncode != 0:
        last = done.stderr.decode(errors="replace").strip().splitlines()[-2:]
        raise CommandFailed(f"exit {done.returncode}: {' / '.join(last) or 'no output'}")
    return elapsed


def time_call(prepare: Callable[[], Any], call: Callable[[Any], object], *, reps: int) -> Samples:
    """Time ``call(prepare())`` ``reps`` times; ``prepare`` (fresh inputs) is not timed.

    A collection is forced before each run so garbage left by the previous one is not
    billed to the next; collections the call itself triggers are counted, as users pay them.
    """
    values = []
    for _ in range(reps):
        subject = prepare()
        gc.collect()
        start = time.perf_counter_ns()
        call(subject)
        values.append((time.perf_counter_ns() - start) / 1e6)
    return Samples(tuple(values))


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count() or "?"),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "os": f"{platform.system()} {platform.release()}",
        "date": time.strftime("%Y-%m-%d"),
    }


HEADERS = ("benchmark", "figure (median)", "baseline (median)", "ratio/delta", "target", "result")


def render_table(rows: Sequence[Row]) -> str:
    lines = [list(HEADERS), *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADERS))]
    rendered = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
                for line in lines]
    rendered.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(rendered)
