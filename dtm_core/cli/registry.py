"""Registry commands: list, add and remove indexes, keygen and sign for publishers; ``update``
refreshes them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .context import get_context
from .render import emit_json, notice, output_option, table

if TYPE_CHECKING:
    from ..registry.sources import Source


def _source_json(source: Source) -> dict[str, object]:
    return {"name": source.name, "url": source.shown_url, "priority": source.priority,
            "key": source.key}


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
    from ..registry.signing import key_label

    table(["NAME", "PRIORITY", "KEY", "URL"],
          [[s.name, s.priority, key_label(s.key) if s.key else "-", s.shown_url] for s in sources])


@registry.command(name="add")
@click.argument("name")
@click.argument("url")
@click.option("--priority", type=int, default=50, show_default=True,
              help="Higher wins when two indexes list the same tool (the default index is 0).")
@click.option("--key", metavar="PUBLIC_KEY",
              help="The publisher's ed25519 public key (base64, hex, or @FILE): the index must "
              "then carry a valid signature at URL.sig, checked at every fetch.")
@output_option
def registry_add(name: str, url: str, priority: int, key: str | None, output: str) -> None:
    """Add index NAME at URL (https://, file:// or a path); it is fetched and validated now."""
    from ..registry import add_source

    app = get_context().app
    source = add_source(app.paths, name, url, priority=priority, key=key, transport=app.transport,
                        environ=app.environ)
    if output == "json":
        emit_json(_source_json(source))
    else:
        signed = ", signature verified" if source.key else ""
        notice(f"added index {source.name} ({source.shown_url}) with priority {source.priority}{signed}")


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


@registry.command(name="keygen")
@click.argument("private_key_file", type=click.Path(dir_okay=False))
def registry_keygen(private_key_file: str) -> None:
    """Create an ed25519 signing key for publishing an index; print its public key.

    The private key is written to PRIVATE_KEY_FILE (mode 0600, never over an existing file);
    users pass the public key to 'dtm registry add --key'.
    """
    from pathlib import Path

    from ..registry.signing import generate_key

    public_key = generate_key(Path(private_key_file))
    notice(f"wrote the private key to {private_key_file}; keep it secret")
    click.echo(public_key)


@registry.command(name="sign")
@click.argument("index", type=click.Path(dir_okay=False))
@click.option("--key", "private_key_file", required=True, type=click.Path(dir_okay=False),
              help="The private key file 'dtm registry keygen' wrote.")
def registry_sign(index: str, private_key_file: str) -> None:
    """Sign the index file INDEX: write INDEX.sig, to publish next to it.

    The index is validated first, so a broken index is never signed.
    """
    from pathlib import Path

    from ..registry.signing import sign_index

    notice(f"wrote {sign_index(Path(index), Path(private_key_file))}")


@click.command()
@output_option
def update(output: str) -> None:
    """Refresh every configured index into the cache: remote ones with conditional requests
    (unchanged is cheap), local ones re-read when their file changed."""
    from ..errors import RefusedError
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
    failed = [r.error for r in results if r.error is not None]
    if failed:
        # A refusal anywhere sets the exit code (3), whichever index failed first; else the
        # first failure's own (an invalid index 2, the network 1).
        cause = next((exc for exc in failed if isinstance(exc, RefusedError)), failed[0])
        raise type(cause)(f"{len(failed)} of {len(results)} indexes could not be refreshed",
                          hint=cause.hint)
