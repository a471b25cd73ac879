"""State at scale: ``dtm list`` with many recorded instances, and the cost of one state commit."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from dtm_core.paths import resolve_paths
from dtm_core.registry.sources import BUNDLED_INDEX
from dtm_core.state import LocalStateStore, State

from .generate import big_state
from .harness import Command, Context, Row, Samples, time_call

LIST_EMPTY = "dtm list, empty state"
LIST_MANY = "dtm list, 1,000 instances"
COMMIT = "state load + commit, 10,000 instances"
LISTED = 1_000
COMMITTED = 10_000


def _bundled_tools() -> list[str]:
    return sorted(json.loads(BUNDLED_INDEX.read_bytes())["tools"])


def _store(home: Path) -> LocalStateStore:
    return LocalStateStore(resolve_paths({"DTM_HOME": str(home)}).state_dir)


def commands(ctx: Context) -> list[Command]:
    box = ctx.sandbox
    many = ctx.home("list-many")
    _store(many).commit(big_state(LISTED, _bundled_tools()))
    argv = [str(box.dtm), "list"]
    return [
        Command(LIST_EMPTY, argv, box.env(ctx.home("list-empty")), box.root),
        Command(LIST_MANY, argv, box.env(many), box.root),
    ]


def commit_cost(ctx: Context, instances: int) -> Samples:
    """Load then commit the whole document, as every transaction step does (fsyncs included)."""
    store = _store(ctx.home(f"commit-{instances}"))
    store.commit(big_state(instances, _bundled_tools()) if instances else State())

    def cycle(_: object) -> None:
        store.commit(store.load())

    return time_call(lambda: None, cycle, reps=ctx.settings.inprocess_reps)


def rows(ctx: Context, measured: Mapping[str, Samples], errors: Mapping[str, str]) -> list[Row]:
    commit = commit_cost(ctx, COMMITTED)
    megabytes = _store(ctx.home(f"commit-{COMMITTED}")).path.stat().st_size / 1e6
    return [
        Row(LIST_EMPTY, measured.get(LIST_EMPTY), error=errors.get(LIST_EMPTY, "")),
        Row(LIST_MANY, measured.get(LIST_MANY), "empty", measured.get(LIST_EMPTY),
            error=errors.get(LIST_MANY, ""),
            notes=[f"{LISTED:,} instances of the bundled tools and a journal of {LISTED // 10} "
                   "transactions of 10 steps; no target yet (issue 9)"]),
        Row(COMMIT, commit, "empty", commit_cost(ctx, 0),
            notes=[f"in-process, {megabytes:.1f} MB state file; each commit writes a temporary "
                   "file, fsyncs it, links a backup and renames; no target yet (issue 9)"]),
    ]
