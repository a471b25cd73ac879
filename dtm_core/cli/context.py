"""The per-invocation CLI context: global flags and the application facade built from them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ..app import Dtm, RunOptions
    from ..plugins import PluginHost


class CliContext:
    """Global flags, and how to build the :class:`~dtm_core.app.Dtm` facade (tests inject one).

    A plain class, not a dataclass: it is built on every start, and so is its import.
    """

    def __init__(self, environ: dict[str, str], *, debug: bool = False, lock_timeout: float = 60.0,
                 plugin_loader: Callable[[], PluginHost] | None = None, transport: Any = None) -> None:
        self.environ = environ
        self.debug = debug
        self.lock_timeout = lock_timeout
        self.plugin_loader = plugin_loader
        self.transport = transport
        self._app: Dtm | None = None

    @property
    def app(self) -> Dtm:
        if self._app is None:
            from ..app import Dtm
            from .render import notice

            self._app = Dtm(environ=self.environ, plugin_loader=self.plugin_loader,
                            transport=self.transport, warn=notice)
        return self._app

    def run_options(self, *, yes: bool = False, dry_run: bool = False,
                    allow_unverified: bool = False) -> RunOptions:
        from ..app import RunOptions
        from .render import lock_wait_notice, progress_line

        return RunOptions(yes=yes, dry_run=dry_run, lock_timeout=self.lock_timeout,
                          progress=progress_line, on_lock_wait=lock_wait_notice,
                          allow_unverified=allow_unverified, command=command_words())


def command_words(limit: int = 6) -> str:
    """The running command as a waiting run is shown it: ``dtm install argocd``.

    Its path and positional arguments only: an option's value (``--set token=…``) could be
    sensitive, and telling values from option names needs click's parse, not argv.
    """
    ctx = click.get_current_context()
    words = [ctx.command_path]
    for param in ctx.command.params:
        if isinstance(param, click.Argument):
            value = ctx.params.get(param.name or "")
            values = value if isinstance(value, (list, tuple)) else [value]
            words += [str(v) for v in values if v is not None]  # an id, a path: shown as typed
    return " ".join(words[:limit])


def get_context() -> CliContext:
    ctx = click.get_current_context()
    obj = ctx.find_object(CliContext)
    assert obj is not None, "the dtm group always sets a CliContext"
    return obj
