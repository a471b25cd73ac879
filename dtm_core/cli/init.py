"""``dtm init --stack NAME``: write a stack's commented starter toolchain file."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import InvalidInputError, RefusedError, UnknownToolError
from .context import get_context
from .render import notice


@click.command()
@click.option("--stack", "stack", required=True, help="The stack to start from, e.g. gitops.")
@click.option("--set", "set_pairs", multiple=True, metavar="NAME=VALUE",
              help="A value the starter needs (asked for when missing on a terminal).")
@click.option("-o", "--out", "out", type=click.Path(path_type=Path, dir_okay=False),
              default=Path("toolchain.yaml"), show_default=True, help="Where to write it.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(stack: str, set_pairs: tuple[str, ...], out: Path, force: bool) -> None:
    """Write a stack's commented starter toolchain file, ready for 'dtm plan -f'."""
    from ..declarative.starter import render_starter, starter_placeholders
    from ..values import merge_set_pairs

    entry = get_context().app.registry.get(stack)
    if entry is None or entry.kind != "stack":
        stacks = ", ".join(sorted(e.name for e in get_context().app.registry if e.kind == "stack"))
        raise UnknownToolError(f"no index lists a stack named {stack!r}",
                               hint=f"stacks: {stacks or 'none'}; 'dtm search' lists them")
    if out.exists() and not force:
        raise RefusedError(f"{out} already exists", hint="choose another --out, or pass --force")
    values = {k: str(v) for k, v in merge_set_pairs({}, set_pairs).items()}
    for name in starter_placeholders(entry):
        if name not in values:
            if not sys.stdin.isatty():
                continue  # render_starter names everything still missing
            values[name] = click.prompt(f"{name}", err=True)
    text = render_starter(entry, values)
    try:
        out.write_text(text)
    except OSError as exc:
        raise InvalidInputError(f"cannot write {out}: {exc.strerror}", hint="check the path") from None
    notice(f"wrote {out}; next: dtm plan -f {out}")
