"""Declarative commands: plan, apply, destroy — converge to a toolchain file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .context import get_context
from .render import (
    StepReporter,
    change_options,
    confirm,
    emit_json,
    notice,
    output_option,
    step_reporter,
    unverified_option,
)

if TYPE_CHECKING:
    from ..declarative.planner import ToolchainPlan
    from ..declarative.service import Planned

F = TypeVar("F", bound=Callable[..., Any])

SYMBOLS = {"create": "+", "update": "~", "delete": "-", "no-op": " "}


def files_option(required: bool = True) -> Callable[[F], F]:
    return click.option("-f", "--file", "files", multiple=True, required=required,
                        type=click.Path(path_type=Path, exists=False),
                        help="Toolchain file or directory; repeat to merge several.")


def parallelism_option(fn: F) -> F:
    from ..declarative.executor import DEFAULT_PARALLELISM

    return click.option("--parallelism", type=click.IntRange(1, 64), default=DEFAULT_PARALLELISM,
                        show_default=True, help="How many instances to work on at once.")(fn)


def render_plan(plan: ToolchainPlan, lock_changes: list[str]) -> None:
    """Per instance: what will happen and why (to stderr; stdout stays for data)."""
    for change in plan.changes:
        if change.action == "no-op":
            continue
        version = change.to_version or change.from_version or ""
        auto = " (auto)" if change.auto else ""
        notice(f"  {SYMBOLS[change.action]} {change.action:<7} {change.address} {version}{auto}")
        for reason in change.reasons:
            notice(f"      {reason}")
    for line in lock_changes:
        notice(f"  lock: {line}")
    counts = plan.summary()
    notice(f"Plan: {counts['create']} to create, {counts['update']} to update, "
           f"{counts['delete']} to delete, {counts['no-op']} unchanged.")


@click.command()
@files_option()
@click.option("--out", "out", type=click.Path(path_type=Path, dir_okay=False),
              help="Save the plan for 'dtm apply PLANFILE'.")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 0 when nothing changes, 2 when something would, 1 on errors.")
@click.option("--refresh/--no-refresh", default=True, show_default=True,
              help="Read live resources to find drift and deletions outside dtm.")
@click.option("--upgrade", is_flag=True, help="Resolve anew, ignoring the lock file.")
@click.option("--locked", is_flag=True, help="Refuse when the lock file does not match (for CI).")
@unverified_option
@output_option
@click.pass_context
def plan(ctx: click.Context, files: tuple[Path, ...], out: Path | None, detailed_exitcode: bool,
         refresh: bool, upgrade: bool, locked: bool, allow_unverified: bool, output: str) -> None:
    """Show what 'dtm apply' would create, update or delete, and why."""
    from ..declarative import service

    cli = get_context()
    app = cli.app
    toolchain = service.load(app, files)
    state = app.read_state()
    planned = service.make_plan(app, toolchain, state,
                                cli.run_options(allow_unverified=allow_unverified),
                                refresh=refresh, upgrade=upgrade, locked=locked)
    if out is not None:
        service.save_plan(planned, state, out)
    if output == "json":
        emit_json(planned.plan.as_json() | {"lock_changes": planned.lock_changes})
    else:
        render_plan(planned.plan, planned.lock_changes)
        if out is not None:
            notice(f"plan saved to {out}; run it with: dtm apply {out}")
    if detailed_exitcode and planned.plan.has_changes:
        ctx.exit(2)


@click.command()
@click.argument("plan_file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@files_option(required=False)
@parallelism_option
@click.option("--upgrade", is_flag=True, help="Resolve anew and move the lock file.")
@click.option("--locked", is_flag=True, help="Refuse when the lock file does not match (for CI).")
@unverified_option
@change_options
@output_option
def apply(plan_file: Path | None, files: tuple[Path, ...], parallelism: int, upgrade: bool,
          locked: bool, allow_unverified: bool, yes: bool, dry_run: bool, output: str) -> None:
    """Converge to the toolchain in -f FILE (or run a saved PLAN_FILE exactly).

    Independent instances run in parallel; when one fails, nothing that depends on it runs,
    the rest finish, and a second 'dtm apply' resumes.
    """
    from ..declarative import service
    from ..errors import InvalidInputError

    cli = get_context()
    app = cli.app
    options = cli.run_options(yes=yes, dry_run=dry_run, allow_unverified=allow_unverified)
    reporter: Any = _Quiet()
    if output == "text":
        reporter, options.progress = step_reporter()
    if plan_file is not None:
        if files:
            raise InvalidInputError("give either a plan file or -f FILE, not both",
                                    hint="a saved plan already names its files")
        tx = service.apply_saved(app, plan_file, options, reporter=reporter,
                                 parallelism=parallelism)
        _report(tx, output, None)
        return
    if not files:
        raise InvalidInputError("nothing to apply", hint="pass -f toolchain.yaml, or a saved plan file")

    def show(planned: Planned) -> None:
        if output == "text":
            render_plan(planned.plan, planned.lock_changes)
            if dry_run:
                notice("dry run: nothing was changed")

    planned, tx = service.apply_files(app, files, options, show=show, confirm=confirm,
                                      reporter=reporter, parallelism=parallelism, upgrade=upgrade,
                                      locked=locked)
    _report(tx, output, planned)


class _Quiet:
    def step_started(self, step: object) -> None:
        pass

    def step_finished(self, step: object) -> None:
        pass


def _report(tx: object, output: str, planned: Planned | None) -> None:
    if output == "json":
        emit_json({"plan": planned.plan.as_json() if planned else None,
                   "transaction": tx.to_json() if tx is not None else None})  # type: ignore[attr-defined]
    elif tx is not None:
        notice(f"transaction {tx.id}: {tx.outcome}")  # type: ignore[attr-defined]
    else:
        notice("no changes: the toolchain matches the configuration")


@click.command()
@files_option()
@parallelism_option
@change_options
@output_option
def destroy(files: tuple[Path, ...], parallelism: int, yes: bool, dry_run: bool, output: str) -> None:
    """Remove every instance the toolchain file describes that dtm recorded (dependents first)."""
    from ..declarative import service
    from ..errors import AbortedError
    from ..transactions import interrupted_error

    cli = get_context()
    app = cli.app
    options = cli.run_options(yes=yes, dry_run=dry_run)
    toolchain = service.load(app, files)
    with app.store.lock(command=options.command, timeout=options.lock_timeout,
                        on_wait=options.on_lock_wait):
        state = app.store.load()
        running = state.running_transaction()
        if running is not None:
            raise interrupted_error(running)
        steps = service.destroy_steps(toolchain, state)
        if output == "text":
            for step in steps:
                notice(f"  - delete  {step.address} {step.from_version}")
            notice(f"Destroy: {len(steps)} to delete." if steps else "nothing to destroy")
        if not steps or dry_run:
            if output == "json":
                emit_json({"steps": [s.to_json() for s in steps], "transaction": None})
            return
        if not yes and not confirm():
            raise AbortedError("aborted; nothing was changed", hint="pass -y to proceed without asking")
        tx = service.run_steps(app, state, steps, service.removal_dependencies(steps, state),
                               command="destroy", options=options,
                               reporter=StepReporter() if output == "text" else _Quiet(),
                               parallelism=parallelism)
    _report(tx, output, None)
