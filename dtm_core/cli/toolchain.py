"""Commands that look at a toolchain without changing it: status, graph and schema."""

from __future__ import annotations

from pathlib import Path

import click

from .context import get_context
from .declarative import files_option
from .render import emit_json, notice, output_option, table


@click.command()
@files_option(required=False)
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 2 when anything drifted, is gone, missing or outdated; 0 otherwise.")
@output_option
@click.pass_context
def status(ctx: click.Context, files: tuple[Path, ...], detailed_exitcode: bool, output: str) -> None:
    """Per instance: desired (config), recorded (state), live, and newest in the registry."""
    from ..declarative import service

    cli = get_context()
    app = cli.app
    toolchain = service.load(app, files) if files else None
    rows = service.status_rows(app, toolchain, app.read_state(), cli.run_options())
    if output == "json":
        emit_json(rows)
    elif not rows:
        notice("nothing is recorded" if toolchain is None else "the toolchain file lists nothing")
    else:
        table(["INSTANCE", "DESIRED", "RECORDED", "LIVE", "LATEST", "PLAN"],
              [[r["address"], r["desired"] or "-", r["recorded"] or "-", r["live"],
                (r["latest"] or "-") + (" (newer)" if r["outdated"] else ""), r["action"]]
               for r in rows])
    attention = any(r["live"] != "ok" or r["outdated"] or r["action"] != "no-op" for r in rows)
    if detailed_exitcode and attention:
        ctx.exit(2)


@click.command()
@files_option()
@click.option("--format", "fmt", type=click.Choice(["dot", "mermaid"]), default="dot",
              show_default=True, help="Graphviz DOT, or Mermaid for Markdown.")
def graph(files: tuple[Path, ...], fmt: str) -> None:
    """Print the toolchain's dependency graph, with the planned action of each instance."""
    from ..declarative import service
    from ..declarative.graph import to_dot, to_mermaid

    cli = get_context()
    app = cli.app
    toolchain = service.load(app, files)
    plan = service.make_plan(app, toolchain, app.read_state(), cli.run_options(), refresh=False).plan
    nodes = {c.address: {"tool": c.tool, "version": c.to_version or c.from_version or "",
                         "auto": c.auto, "action": c.action} for c in plan.changes}
    edges = [(c.address, d) for c in plan.changes for d in c.depends_on if d in nodes]
    click.echo(to_dot(nodes, edges) if fmt == "dot" else to_mermaid(nodes, edges), nl=False)


@click.command()
def schema() -> None:
    """Print a JSON Schema of toolchain files, built from the installed plugins' options.

    \b
    Save it and point your editor at it with a modeline on the file's first line:
      dtm schema > toolchain.schema.json
      # yaml-language-server: $schema=./toolchain.schema.json
    """
    from ..declarative.schema import toolchain_json_schema

    app = get_context().app
    emit_json(toolchain_json_schema(app.plugins.tool_kinds(),
                                    [e.name for e in app.registry if e.kind == "tool"]))
