"""Resolve: an install pulling in 100 dependencies from the large index, in-process and end to end."""

from __future__ import annotations

import json
from collections.abc import Mapping

from dtm_core.registry import Registry, parse_index
from dtm_core.resolver import resolve

from .generate import PLUGIN_MODULE, TOP_TOOL, write_plugin_module
from .harness import Command, Context, Row, Samples, Target, time_call
from .registry import large_env

IN_PROCESS = "resolve 100 dependencies, in-process"
DRY_RUN = "dtm install --dry-run, no-op plugin kinds"
DRY_RUN_BARE = "dtm install --dry-run, no plugin installed"
#: Issue target for resolving an install with 100 transitive dependencies.
RESOLVE_TARGET = Target("absolute", 300)


def commands(ctx: Context) -> list[Command]:
    box = ctx.sandbox
    plugin_dir = ctx.workdir / "plugin"
    plugin_dir.mkdir(exist_ok=True)
    write_plugin_module(plugin_dir, [TOP_TOOL, *ctx.index.closure])
    argv = [str(box.dtm), "install", TOP_TOOL, "--dry-run", "-y"]
    with_plugin = dict(large_env(ctx), PYTHONPATH=str(plugin_dir), DTM_PLUGINS=PLUGIN_MODULE,
                       DTM_LOAD_PLUGINS=PLUGIN_MODULE)
    return [
        Command(DRY_RUN, argv, with_plugin, box.root),
        Command(DRY_RUN_BARE, argv, large_env(ctx), box.root),
    ]


def in_process(ctx: Context) -> tuple[Samples, int]:
    """``resolve`` on a Registry rebuilt for every run, so no version is parsed in advance."""
    data = json.loads(ctx.index.path.read_bytes())
    picked: list[int] = []

    def run(registry: Registry) -> None:
        picked.append(len(resolve(registry, [TOP_TOOL]).versions))

    samples = time_call(lambda: Registry(parse_index(data, name="bench", validate=False)), run,
                        reps=ctx.settings.inprocess_reps)
    return samples, picked[-1]


def rows(ctx: Context, measured: Mapping[str, Samples], errors: Mapping[str, str]) -> list[Row]:
    samples, picked = in_process(ctx)
    deps = len(ctx.index.closure)
    return [
        Row(IN_PROCESS, samples, target=RESOLVE_TARGET,
            error="" if picked == deps + 1 else f"resolved {picked} tools, expected {deps + 1}",
            notes=[f"{TOP_TOOL}: {deps} transitive dependencies in 10 layers; the newest versions "
                   "exclude a dependency's newest major, so older versions must be chosen; "
                   "Registry rebuilt (untimed) before each run"]),
        Row(DRY_RUN, measured.get(DRY_RUN), target=RESOLVE_TARGET, error=errors.get(DRY_RUN, ""),
            notes=[f"whole command, cached index: load, resolve, plan {deps + 1} installs and "
                   "check their options against no-op kinds (DTM_PLUGINS) that a real run needs"]),
        Row(DRY_RUN_BARE, measured.get(DRY_RUN_BARE), target=RESOLVE_TARGET,
            error=errors.get(DRY_RUN_BARE, ""),
            notes=["as above with no plugin: the plan and the plugin distributions it would "
                   "install; options are not checked"]),
    ]
