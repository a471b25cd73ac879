"""State at scale: ``dtm list`` with many recorded instances, and the cost of one state commit
in each backend (the local file, and PostgreSQL when it is installed)."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

from dtm_core.paths import resolve_paths
from dtm_core.registry.sources import BUNDLED_INDEX
from dtm_core.state import LocalStateStore, State, StateStore

from .generate import big_state
from .harness import Command, Context, Row, Samples, Target, time_call

LIST_EMPTY = "dtm list, empty state"
LIST_MANY = "dtm list, 1,000 instances"
COMMIT = "state load + commit, 10,000 instances"
COMMIT_POSTGRES = "state load + commit, 10,000 instances, PostgreSQL"
LISTED = 1_000
COMMITTED = 10_000
# No issue set these; dtm's own: listing grows with state no faster than search grows with the
# index, and a team's largest state still commits in under a second.
LIST_TARGET = Target("delta", 100)
COMMIT_TARGET = Target("absolute", 1000)


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


def commit_cost(store: StateStore, instances: int, reps: int) -> Samples:
    """Load then commit the whole document, as every transaction step does: under the lock
    (PostgreSQL: through the lock's connection), fsyncs included."""
    store.commit(big_state(instances, _bundled_tools()) if instances else State())
    with store.lock(command="python -m benches", timeout=0):
        return time_call(lambda: None, lambda _: store.commit(store.load()), reps=reps)


def _tests_postgres() -> ModuleType:
    """tests/postgres.py: the throwaway PostgreSQL server the tests start (initdb and pg_ctl
    in a temporary directory), reused here."""
    tests = str(Path(__file__).resolve().parents[1] / "tests")
    if tests not in sys.path:
        sys.path.append(tests)
    import postgres  # type: ignore[import-not-found,unused-ignore]

    return postgres  # type: ignore[no-any-return,unused-ignore]


def postgres_row(ctx: Context, local: Samples) -> Row:
    """The PostgreSQL store's commit cost against its own empty state; skipped, never failed,
    where PostgreSQL, psycopg or the tests' helpers are missing."""
    try:
        import psycopg

        postgres = _tests_postgres()
    except ImportError as missing:
        return Row(COMMIT_POSTGRES, notes=[f"skipped: {missing.name} is not installed"])
    from dtm_core.state import PostgresStateStore

    reps = ctx.settings.inprocess_reps
    try:
        # Durable, unlike the tests' server: the local store's figure includes its fsyncs too.
        with postgres.throwaway_server(durable=True) as server:
            empty = commit_cost(PostgresStateStore(server.create_database()), 0, reps)
            full = commit_cost(PostgresStateStore(server.create_database()), COMMITTED, reps)
    except postgres.PostgresUnavailable as unavailable:
        return Row(COMMIT_POSTGRES, notes=[f"skipped: {unavailable}"])
    except (RuntimeError, OSError, psycopg.Error) as failed:  # installed, but would not run
        return Row(COMMIT_POSTGRES, error=str(failed).strip().splitlines()[0])
    return Row(COMMIT_POSTGRES, full, "empty", empty, target=COMMIT_TARGET, notes=[
        f"in-process against a throwaway server on loopback (fsync on), {full.median / local.median:.2f}x "
        "the local file; each commit is one UPDATE of the workspace's json document, loaded and "
        "committed through the lock's connection"])


def rows(ctx: Context, measured: Mapping[str, Samples], errors: Mapping[str, str]) -> list[Row]:
    reps = ctx.settings.inprocess_reps
    local = _store(ctx.home(f"commit-{COMMITTED}"))
    commit = commit_cost(local, COMMITTED, reps)
    megabytes = local.path.stat().st_size / 1e6
    return [
        Row(LIST_EMPTY, measured.get(LIST_EMPTY), error=errors.get(LIST_EMPTY, "")),
        Row(LIST_MANY, measured.get(LIST_MANY), "empty", measured.get(LIST_EMPTY),
            error=errors.get(LIST_MANY, ""), target=LIST_TARGET,
            notes=[f"{LISTED:,} instances of the bundled tools and a journal of {LISTED // 10} "
                   "transactions of 10 steps"]),
        Row(COMMIT, commit, "empty", commit_cost(_store(ctx.home("commit-0")), 0, reps),
            target=COMMIT_TARGET,
            notes=[f"in-process, {megabytes:.1f} MB state file; each commit writes a temporary "
                   "file, fsyncs it, links a backup and renames"]),
        postgres_row(ctx, commit),
    ]
