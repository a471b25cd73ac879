"""Declarative runs at scale: parallel apply against its critical path, and a no-op plan's reads."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from dtm_core import GONE, Live, ToolContext, ToolKind, hookimpl
from dtm_core.app import Dtm, RunOptions
from dtm_core.declarative import service
from dtm_core.declarative.planner import READ_CONCURRENCY
from dtm_core.plugins import load_plugins

from .harness import Context, Row, Samples, Target

APPLY = "apply 50 instances, 5 levels, 0.2 s each"
NOOP = "no-op plan, 200 instances, 0.05 s reads"
LEVELS, WIDTH, CREATE_S = 5, 10, 0.2
NOOP_INSTANCES, READ_S = 200, 0.05


class SleepyKind(ToolKind):
    """A tool whose create and read take a fixed time, like a slow API would."""

    def __init__(self, name: str, create_s: float, read_s: float) -> None:
        self.name = name  # type: ignore[misc]
        self.create_s, self.read_s = create_s, read_s
        self.alive: set[str] = set()
        self.lock = threading.Lock()

    def create(self, ctx: ToolContext) -> dict[str, Any]:
        time.sleep(self.create_s)
        with self.lock:
            self.alive.add(ctx.address)
        return {}

    def read(self, ctx: ToolContext) -> Any:
        time.sleep(self.read_s)
        return Live() if ctx.address in self.alive else GONE

    def update(self, ctx: ToolContext, live: Live) -> dict[str, Any]:
        return {}

    def delete(self, ctx: ToolContext) -> None:
        with self.lock:
            self.alive.discard(ctx.address)


class _Plugin:
    def __init__(self, kinds: list[ToolKind]) -> None:
        self.kinds = kinds

    @hookimpl
    def dtm_tool_kinds(self) -> list[ToolKind]:
        return self.kinds


def _app(workdir: Path, name: str, kinds: list[ToolKind]) -> Dtm:
    root = workdir / name
    root.mkdir(parents=True, exist_ok=True)
    version = {"dependencies": [], "conflicts": [], "dtm": ">=0.1",
               "plugin": {"distribution": "dtm-bench"}}
    index = {"format": 1, "name": "bench", "tools": {
        k.name: {"description": "bench", "kind": "tool", "tags": [], "homepage": "",
                 "versions": {"1.0": version}} for k in kinds}}
    (root / "index.json").write_text(json.dumps(index))
    environ = {"DTM_HOME": str(root / "home"), "DTM_REGISTRY": str(root / "index.json"),
               "DTM_LOAD_PLUGINS": "bench"}
    plugin = _Plugin(kinds)
    return Dtm(environ=environ, plugin_loader=lambda: load_plugins(
        environ, extra_plugins=[("bench", plugin)], entry_points=[]))


class _Quiet:
    def step_started(self, step: object) -> None:
        pass

    def step_finished(self, step: object) -> None:
        pass


def _apply(app: Dtm, config: Path) -> float:
    started = time.perf_counter()
    service.apply_files(app, [config], RunOptions(yes=True), show=lambda planned: None,
                        confirm=lambda: True, reporter=_Quiet(), parallelism=WIDTH)
    return (time.perf_counter() - started) * 1000


def apply_levels(ctx: Context) -> tuple[Samples, Samples]:
    """Wall time of applying 5 dependent levels of 10, against the 5 x 0.2 s critical path."""
    runs, paths = [], []
    for attempt in range(max(1, ctx.settings.inprocess_reps // 5)):
        kinds: list[ToolKind] = [SleepyKind(f"level{i}", CREATE_S, 0.0) for i in range(LEVELS)]
        app = _app(ctx.workdir, f"apply-{attempt}", kinds)
        lines = ["version: 1", "tools:"]
        for level in range(LEVELS):
            for n in range(WIDTH):
                lines += [f"  - tool: level{level}", f"    name: n{n}"]
                if level:
                    lines.append(f"    depends_on: [level{level - 1}.n{n}]")
        config = ctx.workdir / f"apply-{attempt}" / "toolchain.yaml"
        config.write_text("\n".join(lines) + "\n")
        runs.append(_apply(app, config))
        started = time.perf_counter()
        for _ in range(LEVELS):  # the critical path, measured the same way
            time.sleep(CREATE_S)
        paths.append((time.perf_counter() - started) * 1000)
    return Samples(tuple(runs)), Samples(tuple(paths))


def noop_plan(ctx: Context) -> Samples:
    """A plan that reads 200 live resources (50 ms each) and finds nothing to do."""
    kind = SleepyKind("svc", 0.0, 0.0)
    app = _app(ctx.workdir, "noop", [kind])
    config = ctx.workdir / "noop" / "toolchain.yaml"
    config.write_text("version: 1\ntools:\n" + "".join(
        f"  - tool: svc\n    name: n{i}\n" for i in range(NOOP_INSTANCES)))
    _apply(app, config)
    kind.read_s = READ_S
    toolchain = service.load(app, [config])
    runs = []
    for _ in range(max(1, ctx.settings.inprocess_reps // 5)):
        started = time.perf_counter()
        planned = service.make_plan(app, toolchain, app.store.load(), RunOptions())
        runs.append((time.perf_counter() - started) * 1000)
        assert not planned.plan.has_changes
    return Samples(tuple(runs))


def rows(ctx: Context) -> list[Row]:
    applied, critical = apply_levels(ctx)
    return [
        Row(APPLY, applied, "critical path", critical, compare="ratio", target=Target("ratio", 1.2),
            notes=[f"in-process; {LEVELS} levels of {WIDTH} chains, --parallelism {WIDTH}"]),
        Row(NOOP, noop_plan(ctx), target=Target("absolute", 1000),
            notes=[f"in-process; live reads run {READ_CONCURRENCY} at a time"]),
    ]
