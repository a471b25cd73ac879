"""Transaction history and recovery: history, history info, history undo, recover."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..errors import RefusedError
from .context import get_context
from .render import StepReporter, change_options, confirm, emit_json, notice, output_option, table

if TYPE_CHECKING:
    from ..state.model import State, Transaction


@click.group(invoke_without_command=True)
@output_option
@click.pass_context
def history(ctx: click.Context, output: str) -> None:
    """List transactions: what was done, by whom, when, and how it ended."""
    if ctx.invoked_subcommand is not None:
        return
    state = get_context().app.read_state()
    if output == "json":
        emit_json([{k: v for k, v in t.to_json().items() if k != "steps"}
                   | {"steps": len(t.steps)} for t in state.transactions])
        return
    if not state.transactions:
        notice("no transactions yet")
        return
    table(["ID", "COMMAND", "WHO", "STARTED", "OUTCOME", "STEPS"],
          [[t.id, t.command, f"{t.user}@{t.host}", t.started_at, t.outcome, len(t.steps)]
           for t in reversed(state.transactions)])


@history.command(name="info")
@click.argument("tx_id", type=int, metavar="ID")
@output_option
def history_info(tx_id: int, output: str) -> None:
    """Show the steps of transaction ID."""
    state = get_context().app.read_state()
    tx = state.transaction(tx_id)
    if tx is None:
        raise RefusedError(f"no transaction {tx_id} in history", hint="'dtm history' lists them")
    if output == "json":
        emit_json(tx.to_json())
        return
    click.echo(f"transaction {tx.id}: {tx.command} by {tx.user}@{tx.host}")
    click.echo(f"started {tx.started_at}, finished {tx.finished_at or '-'}: {tx.outcome}")
    table(["STEP", "INSTANCE", "FROM", "TO", "STATUS", "ERROR"],
          [[s.action, s.address, s.from_version or "-", s.to_version or "-", s.status,
            s.error or ""] for s in tx.steps])


@history.command(name="undo")
@click.argument("tx_id", type=int, metavar="ID")
@change_options
@output_option
def history_undo(tx_id: int, yes: bool, dry_run: bool, output: str) -> None:
    """Reverse transaction ID (refused if later changes touched the same instances)."""
    from ..packages import Plan
    from ..transactions import undo_steps
    from .packages import _run

    def make_plan(state: State) -> Plan:
        plan = Plan(command=f"history undo {tx_id}", steps=undo_steps(state, tx_id), undoes=tx_id)
        app = get_context().app
        for step in plan.steps:
            record = step.after or step.before or {}
            entry = app.registry.get(str(record.get("tool")))
            version = entry.get_version(str(record.get("version"))) if entry else None
            if version is not None:
                plan.versions[version.tool] = version
        return plan

    _run(make_plan, yes=yes, dry_run=dry_run, output=output)


@click.command()
@click.option("--rollback", is_flag=True,
              help="Undo the interrupted transaction's completed steps instead of finishing it.")
@change_options
def recover(rollback: bool, yes: bool, dry_run: bool) -> None:
    """Finish (or with --rollback, undo) a transaction an interrupted run left behind.

    A rollback that was interrupted or failed is continued, with or without --rollback.
    """
    cli = get_context()
    shown: list[int] = []

    def show(tx: Transaction) -> None:
        shown.append(tx.id)
        if tx.rolling_back:
            notice(f"transaction {tx.id} ({tx.command}) was interrupted while rolling back; "
                   "dtm will finish rolling it back:")
        else:
            verb = "roll back" if rollback else "finish"
            notice(f"transaction {tx.id} ({tx.command}) was interrupted; dtm will {verb} it:")
        for step in tx.steps:
            notice(f"  {step.action} {step.address}: {step.status}")
        if dry_run:
            notice("dry run: nothing was changed")

    result = cli.app.recover(rollback=rollback, options=cli.run_options(yes=yes, dry_run=dry_run),
                             show=show, confirm=confirm, reporter=StepReporter())
    if not shown:
        notice("nothing to recover")
    if result is not None:
        notice(f"transaction {result.id}: {result.outcome}")
