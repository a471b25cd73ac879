"""Plugin commands: list plugins (with broken ones), install and uninstall distributions, start a new one."""

from __future__ import annotations

import click

from ..errors import RefusedError
from .context import get_context
from .render import change_options, confirm, emit_json, notice, output_option, table


@click.group(invoke_without_command=True)
@output_option
@click.pass_context
def plugins(ctx: click.Context, output: str) -> None:
    """List discovered plugins: distribution, version, tools, and whether each loaded."""
    if ctx.invoked_subcommand is not None:
        return
    host = get_context().app.plugins
    if output == "json":
        emit_json([p.as_json() for p in host.plugins])
        return
    if not host.plugins:
        notice("no plugins installed; 'dtm install TOOL' installs the one a tool needs")
        return
    table(["PLUGIN", "DISTRIBUTION", "VERSION", "STATUS", "TOOLS"],
          [[p.name, p.distribution or "-", p.version or "-",
            p.status if p.status == "ok" else f"{p.status}: {p.error}", ", ".join(p.tool_kinds)]
           for p in host.plugins])


@plugins.command(name="install")
@click.argument("distributions", nargs=-1, required=True, metavar="DISTRIBUTION[SPEC]...")
@click.option("--index-url", metavar="URL", envvar="DTM_PACKAGE_INDEX_URL",
              help="Package index to install from.")
@change_options
def plugins_install(distributions: tuple[str, ...], index_url: str | None, yes: bool,
                    dry_run: bool) -> None:
    """Install plugin distributions into dtm's own environment (pip, or uv without pip)."""
    from ..installer import install_distributions
    from ..registry.model import PluginRef

    refs = [PluginRef(distribution=d) for d in distributions]
    notice("dtm will install: " + ", ".join(distributions))
    if dry_run:
        notice("dry run: nothing was changed")
        return
    if not yes and not confirm():
        from ..errors import AbortedError

        raise AbortedError("aborted; nothing was changed", hint="pass -y to proceed without asking")
    install_distributions(refs, index_url=index_url, progress=notice)
    get_context().app.reload_plugins()  # prints a line for each plugin that fails to load
    notice("installed")


@plugins.command(name="uninstall")
@click.argument("distributions", nargs=-1, required=True, metavar="DISTRIBUTION...")
@click.option("--force", is_flag=True, help="Uninstall even if installed instances need it.")
@change_options
def plugins_uninstall(distributions: tuple[str, ...], force: bool, yes: bool,
                      dry_run: bool) -> None:
    """Uninstall plugin distributions; works even when a plugin is broken."""
    from ..installer import uninstall_distributions

    app = get_context().app
    # Which tools each distribution provides comes from the registry, not from importing it:
    # a broken plugin must still be removable.
    wanted = {d.lower().replace("_", "-") for d in distributions}
    in_use = sorted(
        rec.address for rec in app.read_state().instances.values()
        if (entry := app.registry.get(rec.tool)) is not None
        and (version := entry.get_version(rec.version)) is not None
        and version.plugin.distribution.lower() in wanted
    )
    if in_use and not force:
        raise RefusedError(f"installed instances need {', '.join(distributions)}: "
                           f"{', '.join(in_use)}",
                           hint="remove them first, or pass --force")
    notice("dtm will uninstall: " + ", ".join(distributions))
    if dry_run:
        notice("dry run: nothing was changed")
        return
    if not yes and not confirm():
        from ..errors import AbortedError

        raise AbortedError("aborted; nothing was changed", hint="pass -y to proceed without asking")
    uninstall_distributions(list(distributions))
    notice("uninstalled")


@plugins.command(name="new")
@click.argument("name")
@click.option("--dir", "directory", type=click.Path(file_okay=False), metavar="DIR",
              help="Folder to write the distribution to (default: ./dtm-plugins-NAME).")
@click.option("--tool", metavar="TOOL", help="The registry tool the plugin provides (default: NAME).")
def plugins_new(name: str, directory: str | None, tool: str | None) -> None:
    """Write a new plugin distribution, dtm-plugins-NAME, with a working tool kind and its tests.

    The template ships with dtm and matches this dtm's plugin API; nothing is downloaded.
    Prints the files it wrote; refuses a folder that exists and is not empty.
    """
    from ..scaffold import new_plugin

    made = new_plugin(name, directory=directory, tool=tool)
    for relative in made.files:
        click.echo(str(made.directory / relative))
    notice(f"wrote {made.names.distribution} (tool {made.names.tool}) in {made.directory}")
    notice(f"next: cd {made.directory} && pip install -e '.[test]' && pytest")
