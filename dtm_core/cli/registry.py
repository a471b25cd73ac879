"""Registry commands: list, add and remove indexes; ``update`` refreshes remote ones."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .context import get_context
from .render import emit_json, notice, output_option, table

if TYPE_CHECKING:
    from ..registry.sources import Source


def _source_json(source: Source) -> dict[str, object]:
    return {"name": source.name, "url": source.url, "priority": source.priority}


@click.group(invoke_without_command=True)
@output_option
@click.pass_context
def registry(ctx: click.Context, output: str) -> None:
    """List the indexes dtm resolves against, highest priority first."""
    if ctx.invoked_subcommand is not None:
        return
    ctx.invoke(registry_list, output=output)


@registry.command(name="list")
@output_option
def registry_list(output: str) -> None:
    """List configured indexes (the bundled 'default' is always there)."""
    from ..registry import list_sources

    app = get_context().app
    sources = list_sources(app.paths, environ=app.environ)
    if output == "json":
        emit_json([_source_json(s) for s in sources])
        return
    table(["NAME", "PRIORITY", "URL"], [[s.name, s.priority, s.url] for s in sources])


@registry.command(name="add")
@click.argument("name")
@click.argument("url")
@click.option("--priority", type=int, default=50, show_default=True,
              help="Higher wins when two indexes list the same tool (the default index is 0).")
@output_option
def registry_add(name: str, url: str, priority: int, output: str) -> None:
    """Add index NAME at URL (https://, file:// or a path); it is fetched and validated now."""
    from ..registry import add_source

    app = get_context().app
    source = add_source(app.paths, name, url, priority=priority, transport=app.transport)
    if output == "json":
        emit_json(_source_json(source))
    else:
        notice(f"added index {source.name} ({source.url}) with priority {source.priority}")


@registry.command(name="remove")
@click.argument("name")
@output_option
def registry_remove(name: str, output: str) -> None:
    """Remove index NAME and its cached copy."""
    from ..registry import remove_source

    source = remove_source(get_context().app.paths, name)
    if output == "json":
        emit_json(_source_json(source))
    else:
        notice(f"removed index {source.name}")


@click.command()
@output_option
def update(output: str) -> None:
    """Refresh every remote index into the cache (conditional requests: unchanged is cheap)."""
    from ..errors import NetworkError
    from ..registry import update_sources

    app = get_context().app
    results = update_sources(app.paths, transport=app.transport, environ=app.environ)
    if output == "json":
        emit_json([{"name": r.source.name, "status": r.status, "tools": r.tools,
                    "error": r.error.message if r.error else None} for r in results])
    else:
        for r in results:
            detail = f"{r.tools} tools" if r.error is None else r.error.message
            click.echo(f"{r.source.name}: {r.status} ({detail})")
    failed = [r for r in results if r.error is not None]
    if failed:
        raise NetworkError(f"{len(failed)} of {len(results)} indexes could not be refreshed",
                           hint=failed[0].error.hint if failed[0].error else None)
