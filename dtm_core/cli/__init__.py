"""The ``dtm`` command line: a lazily loaded click group and the one place errors are rendered.

Subcommands live in small modules and are imported only when invoked, so ``dtm search`` pays
for click and the registry, not for plugins, httpx or the resolver.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import click

from ..errors import DtmError
from ..version import __version__
from .context import CliContext

#: name -> (module, attribute, one-line help shown by ``dtm --help`` without importing it)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "search": ("query", "search", "Search the registry for tools and stacks."),
    "info": ("query", "info", "Show a tool's versions, dependencies, dependents and plugin."),
    "list": ("query", "list_", "List installed instances."),
    "install": ("packages", "install", "Install tools and what they depend on."),
    "remove": ("packages", "remove", "Remove installed instances."),
    "autoremove": ("packages", "autoremove", "Remove auto-installed instances nothing needs."),
    "upgrade": ("packages", "upgrade", "Upgrade installed tools within constraints and holds."),
    "reinstall": ("packages", "reinstall", "Converge instances again with recorded options."),
    "hold": ("packages", "hold", "Keep instances at their installed version."),
    "unhold": ("packages", "unhold", "Allow held instances to be upgraded again."),
    "plugins": ("plugins", "plugins", "List, install and uninstall plugin distributions."),
    "plugin": ("plugins", "plugins", "Alias of 'plugins' ('dtm plugin new NAME' starts a plugin)."),
    "registry": ("registry", "registry", "Manage the registry indexes dtm resolves against."),
    "update": ("registry", "update", "Refresh remote registry indexes into the cache."),
    "history": ("history", "history", "List transactions; show or undo one."),
    "recover": ("history", "recover", "Finish or roll back an interrupted transaction."),
    "init": ("init", "init", "Write a stack's commented starter toolchain file."),
    "plan": ("declarative", "plan", "Show what apply would change in a toolchain, and why."),
    "apply": ("declarative", "apply", "Converge to a toolchain file (or run a saved plan)."),
    "destroy": ("declarative", "destroy", "Remove what a toolchain file describes."),
    "status": ("toolchain", "status", "Desired, recorded, live and newest version per instance."),
    "graph": ("toolchain", "graph", "Print a toolchain's dependency graph (DOT or Mermaid)."),
    "schema": ("toolchain", "schema", "Print the JSON Schema of toolchain files, for editors."),
    "completion": ("completion", "completion", "Print a shell completion script."),
    "state": ("state", "state", "Inspect, repair (forget records) or migrate the recorded state."),
    "sandbox": ("sandbox", "sandbox", "Run local emulators (Kubernetes, GitHub, Jenkins) for offline work."),
}


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that subcommand is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = COMMANDS.get(cmd_name)
        if spec is None:
            return None
        import importlib

        module = importlib.import_module(f"{__name__}.{spec[0]}")
        command: click.Command = getattr(module, spec[1])
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DtmError as exc:
            render_error(exc, ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt,
                BrokenPipeError):
            raise
        except Exception as exc:  # a bug: one line unless --debug, never a silent failure
            render_error(exc, ctx)


def render_error(exc: BaseException, ctx: click.Context) -> None:
    """Print one error line (and its hint) to stderr, then exit with the error's code."""
    obj = ctx.find_object(CliContext)
    debug = bool(obj and obj.debug)
    if debug:
        import traceback

        text = "".join(traceback.format_exception(exc))
        for value in getattr(exc, "masked", ()):
            text = text.replace(value, "***")
        sys.stderr.write(text)
    if isinstance(exc, DtmError):
        click.echo(f"error: {exc.message}", err=True)
        if exc.hint:
            click.echo(f"hint: {exc.hint}", err=True)
        ctx.exit(exc.exit_code)
    click.echo(f"error: internal error: {type(exc).__name__}: {exc}", err=True)
    if not debug:
        click.echo("hint: run again with --debug for the traceback, and report it", err=True)
    ctx.exit(1)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    # click.version_option would import locale and importlib.metadata: ~1 ms of every start.
    if value and not ctx.resilient_parsing:
        click.echo(f"dtm {__version__}")
        ctx.exit()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version and exit.")
@click.option("--debug", is_flag=True, envvar="DTM_DEBUG",
              help="Show tracebacks and the full output of installers.")
@click.option("--lock-timeout", type=float, default=60.0, show_default=True, metavar="SECONDS",
              envvar="DTM_LOCK_TIMEOUT",
              help="How long to wait for another dtm run to release the state lock.")
@click.pass_context
def cli(ctx: click.Context, debug: bool, lock_timeout: float) -> None:
    """dtm: a package manager for DevOps toolchains.

    Search, install, upgrade and remove tools (GitHub repositories, CI, Argo CD, Jenkins …)
    with dependency resolution, and converge a whole toolchain from one file.

    \b
    Exit codes:
      0 ok                    4 lock timeout
      1 an operation failed   5 interrupted transaction (run 'dtm recover')
      2 invalid input         6 aborted at the prompt
      3 refused or conflict
    """
    existing = ctx.find_object(CliContext)
    if existing is None:
        ctx.obj = CliContext(environ=dict(os.environ))
        existing = ctx.obj
    existing.debug = debug or existing.debug
    existing.lock_timeout = lock_timeout


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="dtm")
    except BrokenPipeError:
        # `dtm info x | head`: the reader left; say nothing more, as other CLIs do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(141)
