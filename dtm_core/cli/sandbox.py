"""``dtm sandbox up | down | status | env``: local emulators of what dtm drives, for offline work."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .context import get_context
from .render import emit_json, notice, output_option

if TYPE_CHECKING:
    from ..emulators.faults import FaultRates
    from ..sandbox.manager import SandboxManager

ENV_HINT = 'point dtm and kubectl at it with: eval "$(dtm sandbox env)"'


def _manager() -> SandboxManager:
    from ..sandbox.manager import SandboxManager

    app = get_context().app
    return SandboxManager(app.paths, app.environ)


def _fault_rates(ctx: click.Context, param: click.Parameter, value: str | None) -> FaultRates | None:
    from ..emulators.faults import FaultRates

    if not value:
        return None
    try:
        return FaultRates.parse(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@click.group()
def sandbox() -> None:
    """Run emulators of Kubernetes, GitHub and Jenkins (and a release mirror) on loopback.

    \b
      dtm sandbox up                 start them in one background process
      eval "$(dtm sandbox env)"      point dtm and kubectl at them
      dtm install argocd -y          ... work offline ...
      dtm sandbox down               stop them and remove their files
    """


@sandbox.command(short_help="Start the sandbox and wait until it is ready.")
@click.option("--persist", is_flag=True,
              help="Keep emulator data (objects, repositories, jobs) across down and up.")
@click.option("--mirror", type=click.Path(exists=True, file_okay=False, path_type=Path), metavar="DIR",
              help="Serve real release files from DIR (laid out as raw.githubusercontent.com paths) "
              "instead of dtm's stand-ins.")
@click.option("--timeout", type=float, default=30.0, show_default=True, metavar="SECONDS",
              help="How long to wait for every service to be ready.")
@click.option("--faults", metavar="RATES", envvar="DTM_SANDBOX_FAULTS", callback=_fault_rates,
              help="Make the emulators fail calls at random: a share such as 0.2 (429s, 5xx, resets "
              "and timeouts mixed), or named rates such as reset=0.1,throttle=0.05 (see docs/sandbox.md).")
@click.option("--fault-seed", type=int, default=0, show_default=True, envvar="DTM_SANDBOX_FAULT_SEED",
              metavar="N", help="Seed of the random faults, to replay a run.")
@output_option
def up(persist: bool, mirror: Path | None, timeout: float, faults: FaultRates | None, fault_seed: int,
       output: str) -> None:
    """Start the sandbox in the background and wait until every service is ready (idempotent)."""
    status, started = _manager().up(persist=persist, mirror=mirror, timeout=timeout, progress=notice,
                                    faults=faults, fault_seed=fault_seed)
    if not started:
        notice(f"the sandbox is already running (pid {status['pid']}, since {status['started_at']})")
        if persist != status["persist"] or (mirror is not None and str(mirror.resolve()) != status["mirror"]):
            notice("it runs with other options; run 'dtm sandbox down' first to change them")
    _show(status, output)
    if output == "text":
        notice(ENV_HINT)


@sandbox.command()
@click.option("--purge", is_flag=True, help="Also remove the data --persist kept.")
@click.option("--timeout", type=float, default=10.0, show_default=True, metavar="SECONDS",
              help="How long to wait for the sandbox to stop before killing it.")
def down(purge: bool, timeout: float) -> None:
    """Stop the sandbox and remove its files."""
    manager = _manager()
    stopped = manager.down(purge=purge, timeout=timeout, progress=notice)
    if stopped is not None:
        notice(f"stopped the sandbox (pid {stopped}) and removed its files")
    else:
        notice("no sandbox was running")
    if manager.layout.persist_dir.exists():
        notice(f"kept persisted data in {manager.layout.persist_dir} (--purge removes it)")


@sandbox.command()
@output_option
def status(output: str) -> None:
    """Show what runs where and what it holds (credentials masked)."""
    _show(_manager().status(), output)


@sandbox.command(short_help="Print shell exports pointing dtm and kubectl at it.")
@click.option("--unset", is_flag=True, help="Print 'unset' lines that undo the exports instead.")
@output_option
def env(unset: bool, output: str) -> None:
    """Print POSIX shell exports pointing dtm and kubectl at the sandbox: eval "$(dtm sandbox env)"."""
    variables = _manager().env()
    if output == "json":
        emit_json(variables)
    elif unset:
        click.echo(f"unset {' '.join(variables)}")
    else:
        for name, value in variables.items():
            click.echo(f"export {name}={shlex.quote(value)}")


def _show(status: dict[str, Any], output: str) -> None:
    for problem in status["problems"]:
        notice(f"warning: {problem}")
    if output == "json":
        emit_json(status)
        return
    if status["condition"] == "stopped":
        click.echo("no sandbox is running (start one with 'dtm sandbox up')")
        return
    if status["condition"] != "running":
        click.echo(f"the sandbox recorded as pid {status['pid']} is {status['condition']}: "
                   "'dtm sandbox up' starts it afresh, 'dtm sandbox down' cleans up")
        return
    data = "kept across down/up (--persist)" if status["persist"] else "in memory"
    click.echo(f"sandbox running: pid {status['pid']}, since {status['started_at']}, data {data}")
    if status.get("faults"):
        faults = status["faults"]
        click.echo(f"injecting faults: {faults['text']} (seed {faults['seed']})")
    click.echo(f"files: {status['directory']}")
    for service in status["services"]:
        click.echo("")
        click.echo(f"{service['name']} ({service['plugin']}): {service['description']}")
        rows: list[tuple[str, str]] = list(service["urls"].items())
        for key, value in service["holds"].items():
            text = (", ".join(map(str, value)) or "none") if isinstance(value, list) else str(value)
            rows.append((key, text))
        if service["env"]:
            rows.append(("exports", ", ".join(service["env"])))
        width = max(len(key) for key, _ in rows) if rows else 0
        for key, value in rows:
            click.echo(f"  {key.ljust(width)}  {value}")
    if status["env"]:
        click.echo("")
        click.echo(f"sandbox registry index (exports {', '.join(status['env'])}): "
                   f"{next(iter(status['env'].values()))}")
