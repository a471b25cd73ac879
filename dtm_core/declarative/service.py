"""The declarative commands' work: plan, apply (from files or a saved plan), destroy, status.

Each function takes the application facade and returns plain data; the CLI renders it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import AbortedError, InvalidInputError, RefusedError
from ..state.model import State, Step, Transaction
from .model import Toolchain
from .planner import Change, ToolchainPlan, plan_toolchain

if TYPE_CHECKING:
    from ..app import Dtm, RunOptions
    from ..transactions import Reporter

LOCK_FILE_NAME = "dtm.lock"
SAVED_PLAN_FORMAT = 1


@dataclass
class Planned:
    """A plan together with what it was made from."""

    toolchain: Toolchain
    plan: ToolchainPlan
    lock_changes: list[str]


def load(app: Dtm, files: Sequence[Path]) -> Toolchain:
    from .config import load_toolchain
    from .diagnostics import config_error

    toolchain = load_toolchain(list(files), environ=app.environ)
    try:
        app.use_state_block(toolchain.state)
    except InvalidInputError as error:
        # An unset env: reference or a bad URL is the file's fault: say where it is written.
        if toolchain.state_location is None:
            raise
        raise config_error(toolchain.state_location, error.message, error.hint or "") from None
    return toolchain


def lock_path(toolchain: Toolchain) -> Path:
    first = toolchain.files[0] if toolchain.files else Path("toolchain.yaml")
    return (first if first.is_dir() else first.parent) / LOCK_FILE_NAME


def _specs(toolchain: Toolchain) -> dict[str, str]:
    specs: dict[str, list[str]] = {}
    for spec in toolchain.instances.values():
        specs.setdefault(spec.tool, [])
        if spec.version:
            specs[spec.tool].append(spec.version)
    return {tool: ",".join(parts) for tool, parts in specs.items()}


def ensure_plugins(app: Dtm, toolchain: Toolchain, state: State, pins: list[str],
                   options: RunOptions, index_url: str | None = None) -> None:
    """Install the plugin distributions the toolchain's tools need (like ``terraform init``)."""
    from .planner import _resolve

    resolution = _resolve(app.registry, toolchain, state, pins)
    missing = app.missing_distributions(resolution.versions)
    if missing:
        if options.progress:
            names = ", ".join(ref.requirement for ref in missing)
            options.progress("plugins", f"installing {names}")
        app.install_distributions(missing, index_url, options.progress)


def make_plan(app: Dtm, toolchain: Toolchain, state: State, options: RunOptions, *,
              refresh: bool = True, upgrade: bool = False, locked: bool = False,
              index_url: str | None = None) -> Planned:
    """Resolve (honouring the lock file), install missing plugins, and plan."""
    from .lockfile import check_locked, diff_locks, lock_from_resolution, pinned_requests, read_lock

    specs = _specs(toolchain)
    lock = read_lock(lock_path(toolchain))
    if locked:
        if lock is None:
            raise RefusedError(f"{lock_path(toolchain)} does not exist, and --locked needs it",
                               hint="run 'dtm apply --upgrade' once and commit the lock file")
        check_locked(lock, specs)
    pins = [] if upgrade or lock is None else pinned_requests(lock, specs, app.registry)
    ensure_plugins(app, toolchain, state, pins, options, index_url)
    plan = plan_toolchain(app.registry, toolchain, state,
                          runner_for=lambda tool: app.runner_for(tool, options.progress),
                          refresh=refresh, pins=pins)
    from ..app import refuse_unverified

    changing = {c.tool for c in plan.changes if c.action in {"create", "update"}}
    refuse_unverified({t: v for t, v in plan.versions.items() if t in changing},
                      options.allow_unverified)
    new_lock = lock_from_resolution(plan.resolution, specs, app.registry) if plan.resolution else None
    changes = diff_locks(lock, new_lock) if new_lock is not None and lock is not None else []
    return Planned(toolchain, plan, changes)


def write_lock(planned: Planned, app: Dtm) -> None:
    from .lockfile import lock_from_resolution
    from .lockfile import write_lock as write

    if planned.plan.resolution is not None:
        write(lock_path(planned.toolchain),
              lock_from_resolution(planned.plan.resolution, _specs(planned.toolchain), app.registry))


def save_plan(planned: Planned, state: State, path: Path) -> None:
    """Write a plan that ``dtm apply PLANFILE`` runs exactly (and refuses once state moved)."""
    from .executor import plan_steps, step_dependencies

    steps = plan_steps(planned.plan, state)
    document = {
        "format": SAVED_PLAN_FORMAT,
        "plan": planned.plan.as_json(),
        "files": [str(f) for f in planned.toolchain.files],
        "steps": [s.to_json() for s in steps],
        "dependencies": {a: sorted(d) for a, d in step_dependencies(planned.plan, steps).items()},
        "versions": {tool: v.version_text for tool, v in planned.plan.versions.items()},
    }
    path.write_text(json.dumps(document, indent=1) + "\n")


def read_saved_plan(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"cannot read plan file {path}: {exc}",
                                hint="make one with 'dtm plan -f FILE --out plan.json'") from None
    if not isinstance(document, dict) or document.get("format") != SAVED_PLAN_FORMAT:
        raise InvalidInputError(f"{path} is not a dtm plan file (format {SAVED_PLAN_FORMAT})",
                                hint="make one with 'dtm plan -f FILE --out plan.json'")
    return document


def run_steps(app: Dtm, state: State, steps: list[Step], deps: dict[str, set[str]], *,
              command: str, options: RunOptions, reporter: Reporter,
              parallelism: int) -> Transaction | None:
    """Journal and run steps in parallel under the caller's lock."""
    from ..transactions import TransactionRunner
    from .executor import run_parallel

    if not steps:
        return None
    runner = TransactionRunner(app.store, state,
                               lambda tool: app.runner_for(
                                   tool, options.progress,
                                   allow_unverified=options.allow_unverified), reporter)
    tx = runner.begin(command, steps)
    return run_parallel(runner, tx, deps, parallelism)


def apply_files(app: Dtm, files: Sequence[Path], options: RunOptions, *,
                show: Callable[[Planned], None], confirm: Callable[[], bool], reporter: Reporter,
                parallelism: int, upgrade: bool = False, locked: bool = False,
                index_url: str | None = None) -> tuple[Planned, Transaction | None]:
    """Plan and apply under the lock: converge state and the world to the files."""
    from ..transactions import interrupted_error
    from .executor import plan_steps, step_dependencies

    toolchain = load(app, files)
    with app.store.lock(command="dtm apply", timeout=options.lock_timeout,
                        on_wait=options.on_lock_wait):
        state = app.store.load()
        running = state.running_transaction()
        if running is not None:
            raise interrupted_error(running)
        planned = make_plan(app, toolchain, state, options, upgrade=upgrade, locked=locked,
                            index_url=index_url)
        show(planned)
        if options.dry_run:
            return planned, None
        if not planned.plan.has_changes:
            write_lock(planned, app)
            return planned, None
        if not options.yes and not confirm():
            raise AbortedError("aborted; nothing was changed", hint="pass -y to proceed without asking")
        steps = plan_steps(planned.plan, state)
        tx = run_steps(app, state, steps, step_dependencies(planned.plan, steps), command="apply",
                       options=options, reporter=reporter, parallelism=parallelism)
        write_lock(planned, app)
        return planned, tx


def apply_saved(app: Dtm, path: Path, options: RunOptions, *, reporter: Reporter,
                parallelism: int) -> Transaction | None:
    """Run exactly the steps of a saved plan, if state has not moved since it was made."""
    from ..registry.model import ToolVersion
    from ..transactions import interrupted_error

    document = read_saved_plan(path)
    with app.store.lock(command="dtm apply", timeout=options.lock_timeout,
                        on_wait=options.on_lock_wait):
        state = app.store.load()
        running = state.running_transaction()
        if running is not None:
            raise interrupted_error(running)
        made_at = document["plan"]["serial"]
        if made_at != state.serial:
            raise RefusedError(
                f"{path} is stale: state changed since the plan was made "
                f"(serial {made_at}, now {state.serial})",
                hint="run 'dtm plan' again and apply the new plan",
            )
        versions: dict[str, ToolVersion] = {}
        for tool, text in document["versions"].items():
            entry = app.registry.get(tool)
            found = entry.get_version(text) if entry else None
            if found is not None:
                versions[tool] = found
        missing = app.missing_distributions(versions)
        if missing:
            app.install_distributions(missing, None, options.progress)
        steps = [Step.from_json(s) for s in document["steps"]]
        deps = {a: set(d) for a, d in document["dependencies"].items()}
        return run_steps(app, state, steps, deps, command=f"apply {path.name}", options=options,
                         reporter=reporter, parallelism=parallelism)


def destroy_steps(toolchain: Toolchain, state: State) -> list[Step]:
    """Remove what dtm recorded for this toolchain (and auto dependencies left unneeded)."""
    from ..packages import plan_remove, unneeded_auto

    recorded = [a for a in toolchain.instances if a in state.instances]
    if not recorded:
        return []
    targets = set(recorded) | unneeded_auto(state, recorded)
    return plan_remove(state, sorted(targets), cascade=False, command="destroy").steps


def removal_dependencies(steps: list[Step], state: State) -> dict[str, set[str]]:
    addresses = {s.address for s in steps}
    return {s.address: {r.address for r in state.dependents_of(s.address) if r.address in addresses}
            for s in steps}



def _recorded_changes(app: Dtm, state: State, options: RunOptions) -> list[Change]:
    """No-op changes for every recorded instance, refreshed against the live world."""
    from ..operations import Target
    from .planner import refresh_changes

    changes, reads = [], []
    for record in sorted(state.instances.values(), key=lambda r: r.address):
        change = Change(address=record.address, tool=record.tool, instance=record.instance,
                        action="no-op", from_version=record.version, to_version=record.version,
                        auto=record.reason == "auto", checked=dict(record.options))
        changes.append(change)
        target = Target(record.tool, record.instance, record.version, record.options, record.outputs)
        reads.append((change, app.runner_for(record.tool, options.progress), target))
    refresh_changes(reads)
    return changes


def status_rows(app: Dtm, toolchain: Toolchain | None, state: State,
                options: RunOptions) -> list[dict[str, Any]]:
    """Per instance: desired (config), recorded (state), live (read) and newest in the registry."""
    from packaging.version import Version

    if toolchain is not None:
        changes = make_plan(app, toolchain, state, options, refresh=True).plan.changes
    else:
        changes = _recorded_changes(app, state, options)
    rows = []
    for change in changes:
        entry = app.registry.get(change.tool)
        latest = entry.latest_text if entry else None
        recorded = change.from_version
        live = "missing"
        if recorded is not None:
            live = "ok"
            if any(r.startswith("gone") for r in change.reasons):
                live = "gone"
            elif any(r.startswith("drifted") for r in change.reasons):
                live = "drifted"
        rows.append({
            "address": change.address,
            "desired": None if change.action == "delete" else change.to_version,
            "recorded": recorded,
            "live": live,
            "latest": latest,
            "outdated": bool(recorded and latest and Version(recorded) < Version(latest)),
            "action": change.action,
            "reasons": change.reasons,
        })
    return rows
