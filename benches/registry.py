"""Large index: ``dtm search`` and ``dtm info`` on a generated index against the bundled one."""

from __future__ import annotations

from collections.abc import Mapping

from . import startup
from .generate import INFO_TOOL, SEARCH_TERM
from .harness import Command, CommandFailed, Context, Row, Samples, Target, run_once

SEARCH = f"dtm search {SEARCH_TERM}, large index (cached)"
INFO = f"dtm info {INFO_TOOL}, large index (cached)"
FIRST_RUN = f"dtm search {SEARCH_TERM}, large index (first run: validate + cache)"
#: Issue target: the large index costs at most this much more than the bundled one.
LARGE_TARGET = Target("delta", 100)


def large_env(ctx: Context, home: str = "large") -> dict[str, str]:
    """``DTM_REGISTRY`` on the generated index; one home, so warm-up runs fill its cache."""
    return ctx.sandbox.env(ctx.home(home), {"DTM_REGISTRY": str(ctx.index.path)})


def commands(ctx: Context) -> list[Command]:
    box = ctx.sandbox
    env = large_env(ctx)
    dtm = str(box.dtm)
    return [
        Command(SEARCH, [dtm, "search", SEARCH_TERM], env, box.root),
        Command(INFO, [dtm, "info", INFO_TOOL], env, box.root),
    ]


def first_runs(ctx: Context) -> tuple[Samples | None, str]:
    """Search with an empty cache each time: validates the index, then writes the cache."""
    values = []
    for i in range(ctx.settings.first_run_reps):
        env = large_env(ctx, home=f"first-run-{i}")
        try:
            values.append(run_once(Command(FIRST_RUN, [str(ctx.sandbox.dtm), "search", SEARCH_TERM],
                                           env, ctx.sandbox.root)))
        except CommandFailed as exc:
            return None, str(exc)
    return Samples(tuple(values)), ""


def rows(ctx: Context, measured: Mapping[str, Samples], errors: Mapping[str, str]) -> list[Row]:
    first, first_error = first_runs(ctx)
    size = f"{ctx.index.tools:,} tools, {ctx.index.size_bytes / 1e6:.1f} MB"
    return [
        Row(SEARCH, measured.get(SEARCH), "bundled", measured.get(startup.SEARCH),
            target=LARGE_TARGET, error=errors.get(SEARCH, ""),
            notes=[f"large index: {size}; both indexes list the same '{SEARCH_TERM}' matches"]),
        Row(INFO, measured.get(INFO), "bundled", measured.get(startup.INFO),
            target=LARGE_TARGET, error=errors.get(INFO, "")),
        Row(FIRST_RUN, first, "bundled", measured.get(startup.SEARCH), error=first_error,
            notes=[f"fresh DTM_HOME per run, {ctx.settings.first_run_reps} run(s); "
                   "no target: paid once per change of the index file"]),
    ]
