"""Running the dtm command line in-process, for tests (click's runner stays in the CLI package)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def run_cli(args: list[str], environ: Mapping[str, str], input: str | None = None) -> Any:
    """Run ``dtm ARGS...`` with ``environ``; returns click's ``Result`` (exit_code, stdout, stderr)."""
    from click.testing import CliRunner

    from . import cli
    from .context import CliContext

    return CliRunner().invoke(cli, args, input=input, obj=CliContext(environ=dict(environ)))
