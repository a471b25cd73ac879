"""Commands that change installed tools: install, remove, autoremove, upgrade, reinstall, hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..errors import InvalidInputError
from .context import get_context
from .render import (
    StepReporter,
    change_options,
    confirm,
    emit_json,
    notice,
    output_option,
    unverified_option,
)
from .render import show_plan as _show_plan


def config_file_option(fn: Any) -> Any:
    return click.option("-f", "--file", "config_file", type=click.Path(path_type=Path, dir_okay=False),
                        help="Also record the change in this toolchain file (comments kept).")(fn)


def _run(make_plan: Any, *, yes: bool, dry_run: bool, output: str,
         index_url: str | None = None, allow_unverified: bool = False) -> Any:
    """Shared body of every transaction command: plan, show, ask, run, report."""
    cli = get_context()

    def show(plan: Any, distributions: Any) -> None:
        if output == "text":
            _show_plan(plan, distributions, dry_run=dry_run)

    options = cli.run_options(yes=yes, dry_run=dry_run, allow_unverified=allow_unverified)
    plan, tx = cli.app.execute(make_plan, options=options,
                               show=show, confirm=confirm,
                               reporter=StepReporter() if output == "text" else None,
                               index_url=index_url)
    if output == "json":
        emit_json({"plan": plan.as_json(), "dry_run": dry_run,
                   "transaction": tx.to_json() if tx else None})
    elif tx is not None:
        notice(f"transaction {tx.id}: {tx.outcome}")
    return plan


def _parse_set(pairs: tuple[str, ...], values_file: Path | None) -> dict[str, Any]:
    from ..values import load_values_file, merge_set_pairs

    options = load_values_file(values_file) if values_file else {}
    return merge_set_pairs(options, pairs)


@click.command()
@click.argument("tools", nargs=-1, required=True, metavar="TOOL[SPEC]...")
@click.option("--instance", default="default", show_default=True,
              help="Instance name, to install the same tool more than once.")
@click.option("--set", "set_pairs", multiple=True, metavar="KEY=VALUE",
              help="Set an option (dotted keys for nested ones); repeatable.")
@click.option("--values", "values_file", type=click.Path(path_type=Path, dir_okay=False),
              help="A YAML file of options.")
@click.option("--index-url", metavar="URL", envvar="DTM_PACKAGE_INDEX_URL",
              help="Package index for installing missing plugin distributions.")
@config_file_option
@unverified_option
@change_options
@output_option
def install(tools: tuple[str, ...], instance: str, set_pairs: tuple[str, ...],
            values_file: Path | None, index_url: str | None, config_file: Path | None,
            allow_unverified: bool, yes: bool, dry_run: bool, output: str) -> None:
    """Install TOOLs (e.g. argocd-app, 'argocd>=3.4') and everything they need.

    Dependencies are installed automatically and marked auto; missing plugin distributions
    are installed into dtm's own environment first.
    """
    from ..packages import plan_install

    options = _parse_set(set_pairs, values_file)
    cli = get_context()
    _run(lambda state: plan_install(cli.app.registry, state, tools, instance=instance,
                                    options=options),
         yes=yes, dry_run=dry_run, output=output, index_url=index_url,
         allow_unverified=allow_unverified)
    if config_file is not None:
        from ..declarative.edit import add_instance
        from ..packages import requirement_parts

        for spec in tools:
            tool, specifier = requirement_parts(spec)
            if not dry_run:
                add_instance(config_file, tool, instance, specifier, options)
            notice(f"{'would record' if dry_run else 'recorded'} {tool}.{instance} in {config_file}")


@click.command()
@click.argument("targets", nargs=-1, required=True, metavar="TOOL[.INSTANCE]...")
@click.option("--cascade", is_flag=True, help="Also remove the instances that need them.")
@config_file_option
@change_options
@output_option
def remove(targets: tuple[str, ...], cascade: bool, config_file: Path | None, yes: bool,
           dry_run: bool, output: str) -> None:
    """Remove instances (a bare TOOL means all of its instances), dependents first."""
    from ..packages import plan_remove

    plan = _run(lambda state: plan_remove(state, targets, cascade=cascade),
                yes=yes, dry_run=dry_run, output=output)
    if config_file is not None:
        from ..declarative.edit import remove_instance

        for step in plan.steps:
            tool, _, name = step.address.partition(".")
            if dry_run:
                notice(f"would remove {step.address} from {config_file}")
                continue
            try:
                removed = remove_instance(config_file, tool, name)
            except InvalidInputError:
                continue  # installed imperatively, never listed in the file
            for address in removed:
                notice(f"removed {address} from {config_file}")


@click.command()
@change_options
@output_option
def autoremove(yes: bool, dry_run: bool, output: str) -> None:
    """Remove auto-installed instances that no remaining instance needs."""
    from ..packages import plan_autoremove

    _run(plan_autoremove, yes=yes, dry_run=dry_run, output=output)


@click.command()
@click.argument("tools", nargs=-1, metavar="[TOOL]...")
@unverified_option
@change_options
@output_option
def upgrade(tools: tuple[str, ...], allow_unverified: bool, yes: bool, dry_run: bool,
            output: str) -> None:
    """Upgrade installed tools (all, or those named) to the newest allowed versions.

    Versions stay within what was asked at install time and what dependents need;
    held tools are kept back.
    """
    from ..packages import plan_upgrade

    cli = get_context()
    _run(lambda state: plan_upgrade(cli.app.registry, state, tools),
         yes=yes, dry_run=dry_run, output=output, allow_unverified=allow_unverified)


@click.command()
@click.argument("targets", nargs=-1, required=True, metavar="TOOL[.INSTANCE]...")
@unverified_option
@change_options
@output_option
def reinstall(targets: tuple[str, ...], allow_unverified: bool, yes: bool, dry_run: bool,
              output: str) -> None:
    """Converge instances again with their recorded version and options.

    The resource is read and updated in place (created if it is gone); never deleted.
    """
    from ..packages import plan_reinstall

    cli = get_context()
    _run(lambda state: plan_reinstall(cli.app.registry, state, targets),
         yes=yes, dry_run=dry_run, output=output, allow_unverified=allow_unverified)


def _hold(targets: tuple[str, ...], held: bool, dry_run: bool, output: str) -> None:
    from ..packages import set_hold

    cli = get_context()
    changed = cli.app.update_state(lambda state: set_hold(state, targets, held),
                                   options=cli.run_options(dry_run=dry_run))
    if output == "json":
        emit_json({"changed": changed, "held": held, "dry_run": dry_run})
        return
    word = "held" if held else "unheld"
    for address in changed:
        click.echo(f"{address} {word}" + (" (dry run)" if dry_run else ""))
    if not changed:
        notice(f"nothing to do: already {word}")


@click.command()
@click.argument("targets", nargs=-1, required=True, metavar="TOOL[.INSTANCE]...")
@click.option("--dry-run", is_flag=True, help="Show what would change and change nothing.")
@output_option
def hold(targets: tuple[str, ...], dry_run: bool, output: str) -> None:
    """Keep instances at their version: upgrade skips them, remove refuses them."""
    _hold(targets, True, dry_run, output)


@click.command()
@click.argument("targets", nargs=-1, required=True, metavar="TOOL[.INSTANCE]...")
@click.option("--dry-run", is_flag=True, help="Show what would change and change nothing.")
@output_option
def unhold(targets: tuple[str, ...], dry_run: bool, output: str) -> None:
    """Let held instances be upgraded and removed again."""
    _hold(targets, False, dry_run, output)
