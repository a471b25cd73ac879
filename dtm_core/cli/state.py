"""State surgery commands: dtm state list, show, rm and migrate (the logic is in state.migrate)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from .context import command_words, get_context
from .render import change_options, confirm, emit_json, notice, output_option, table

if TYPE_CHECKING:
    from ..state.migrate import ForgetPlan, Migration


@click.group()
def state() -> None:
    """Inspect and repair the recorded state, or move it to another store.

    list, show and rm work on the store this run uses (the local one, or DTM_STATE_URL).
    None of these commands calls a plugin: they read or change dtm's records only, never
    the real resources.
    """


@state.command(name="list", short_help="List recorded instances, the store and its serial.")
@output_option
def state_list(output: str) -> None:
    """List every recorded instance, with the store, its serial and workspace."""
    from ..state.migrate import state_listing

    app = get_context().app
    state, in_progress = app.observe_state()
    data = state_listing(app.store, state)
    if in_progress:
        data["in_progress"], data["interrupted"] = data["interrupted"], None
    if output == "json":
        emit_json(data)
        return
    click.echo(f"store:     {data['store']}")
    if data["workspace"]:
        click.echo(f"workspace: {data['workspace']}")
    click.echo(f"serial:    {data['serial']}")
    if data["instances"]:
        table(["ADDRESS", "TOOL", "VERSION", "REASON", "HELD", "UPDATED"],
              [[r["address"], r["tool"], r["version"], r["reason"], "held" if r["held"] else "",
                r["updated_at"]] for r in data["instances"]])
    notice(f"{len(data['instances'])} instance(s), {data['transactions']} transaction(s)")
    if data["interrupted"] is not None:
        notice(f"warning: transaction {data['interrupted']} was interrupted; run 'dtm recover'")
    elif data["in_progress"] is not None:
        notice(f"transaction {data['in_progress']} is in progress in another dtm run")


@state.command(name="show", short_help="Show one instance's full record as stored.")
@click.argument("address", metavar="ADDRESS")
@output_option
def state_show(address: str, output: str) -> None:
    """Show the full record of ADDRESS (tool.instance) as stored.

    Secret options and outputs are shown as the references recorded (env:NAME); they are
    never resolved.
    """
    from ..state.migrate import show_record

    data = show_record(get_context().app.read_state(), address)
    if output == "json":
        emit_json(data)
        return
    for key in ("address", "tool", "instance", "version", "constraint", "reason", "held",
                "requires", "required_by", "created_at", "updated_at"):
        click.echo(f"{key + ':':<13}{_text(data[key])}")
    for key in ("options", "outputs"):
        click.echo(f"{key}:" + ("" if data[key] else " -"))
        for name, value in sorted(data[key].items()):
            click.echo(f"  {name}: {_text(value)}")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value) or "-"
    if isinstance(value, str):
        return value or "-"
    return json.dumps(value)


@state.command(name="rm", short_help="Forget records (no plugin is called; resources stay).")
@click.argument("addresses", nargs=-1, required=True, metavar="ADDRESS...")
@click.option("--force", is_flag=True,
              help="Forget instances other recorded instances require (those keep requiring them).")
@change_options
@output_option
def state_rm(addresses: tuple[str, ...], force: bool, yes: bool, dry_run: bool, output: str) -> None:
    """Forget the records of ADDRESSes (tool.instance): state surgery, for repairs.

    Only dtm's record goes: no plugin is called and the real resources are left exactly as
    they are (use 'dtm remove' to delete them). Refused (exit 3) while another recorded
    instance requires one, unless --force. Journaled as a transaction: 'dtm history' shows
    it and 'dtm history undo ID' brings the records back.
    """
    from ..state.migrate import forget_instances

    cli = get_context()

    def show(plan: ForgetPlan) -> None:
        if output == "text":
            notice("dtm will forget these records (the resources themselves are not touched):")
            for record in plan.records:
                notice(f"  {record.address} {record.version}" + (" (held)" if record.held else ""))
            for address, needing in plan.still_required.items():
                notice(f"  warning: {', '.join(needing)} will still require {address}")
            if dry_run:
                notice("dry run: nothing was changed")

    plan = forget_instances(cli.app.store, addresses, force=force,
                            options=cli.run_options(yes=yes, dry_run=dry_run),
                            lock_command=command_words(), show=show, confirm=confirm)
    if output == "json":
        emit_json(plan.as_json())
    elif plan.transaction is not None:
        for address in plan.addresses:
            click.echo(f"forgot {address}")
        notice(f"transaction {plan.transaction.id}: {plan.transaction.outcome}")


@state.command(name="migrate", short_help="Copy the state to another store and verify it.")
@click.option("--to", "to", required=True, metavar="URL",
              help="Where to move state: postgresql://…, local (dtm's data directory), local:DIR, "
              "or a secret reference such as env:NAME holding one (keeps a password off the "
              "command line).")
@click.option("--from", "from_", metavar="URL",
              help="Where state is now, in the same forms [default: the store this run uses: "
              "DTM_STATE_URL, else local].")
@click.option("--force", is_flag=True, help="Replace the state the target already holds.")
@change_options
@output_option
def state_migrate(to: str, from_: str | None, force: bool, yes: bool, dry_run: bool,
                  output: str) -> None:
    """Copy the whole state (instances, history, serial) to another store, and verify it.

    Both stores are locked; the copy lands in one atomic commit, then is read back and
    counted. Refused (exit 3) when the source holds nothing or the target already holds
    state (unless --force), and (exit 5) while a transaction is interrupted. The source is
    never changed or deleted: the output says how to switch to the target and how to remove
    the source.
    """
    from ..state.migrate import migrate_state, next_steps, open_location

    cli = get_context()
    paths = cli.app.paths
    source = open_location(from_, paths, cli.environ)
    target = open_location(to, paths, cli.environ)

    def show(migration: Migration) -> None:
        if output == "text":
            notice(f"dtm will copy the state ({len(migration.addresses)} instance(s), "
                   f"{migration.transactions} transaction(s), serial {migration.source_serial})")
            notice(f"  from {migration.source.description}")
            notice(f"  to   {migration.target.description}")
            if migration.replaces is not None:
                notice(f"  replacing what the target holds: {migration.replaces[0]} instance(s), "
                       f"{migration.replaces[1]} transaction(s)")
            if dry_run:
                notice("dry run: nothing was changed")

    migration = migrate_state(source, target, force=force,
                              options=cli.run_options(yes=yes, dry_run=dry_run),
                              lock_command=command_words(), show=show, confirm=confirm)
    if output == "json":
        emit_json(migration.as_json())
        return
    if migration.verified:
        click.echo(f"moved {len(migration.addresses)} instance(s) and {migration.transactions} "
                   f"transaction(s) to {migration.target.description} (verified, serial "
                   f"{migration.serial})")
        for step in next_steps(migration):
            click.echo(f"next: {step}")
