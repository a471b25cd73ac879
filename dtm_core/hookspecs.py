"""The pluggy hook specifications a dtm plugin may implement (every hook is prefixed ``dtm_``).

A plugin module, named by an entry point in group ``dtm``, implements hooks with
``@dtm_core.hookimpl``. Changing a hook's signature is a breaking change of
:data:`dtm_core.PLUGIN_API_VERSION`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pluggy

from .sandbox.service import SandboxService
from .secrets import SecretResolver
from .sourcecontrol import SourceControl
from .toolkind import ToolKind

PROJECT = "dtm"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def dtm_tool_kinds() -> Sequence[ToolKind]:  # type: ignore[empty-body]
    """Return the tool kinds this plugin provides, one instance each.

    Each kind's ``name`` must match the registry tool it provides. Two plugins providing the
    same name is an error that marks the later plugin broken.
    """


@hookspec
def dtm_secret_resolvers() -> Mapping[str, SecretResolver]:  # type: ignore[empty-body]
    """Return extra secret-reference schemes: ``{"vault": resolve}`` makes ``vault:path`` work.

    A resolver receives the text after ``scheme:`` and returns the secret value, or raises a
    :class:`dtm_core.DtmError` saying what is missing.
    """


@hookspec
def dtm_source_control() -> Sequence[SourceControl]:  # type: ignore[empty-body]
    """Return source-control providers: what lets other plugins commit files to a repository.

    Tools reach them through ``ctx.source_control(repo_url)``. Added in plugin API 1.2.
    """


@hookspec
def dtm_sandbox_services() -> Sequence[SandboxService]:  # type: ignore[empty-body]
    """Return services ``dtm sandbox up`` starts in its background process (emulators, mirrors).

    Each is a :class:`dtm_core.SandboxService` with a unique ``name``; the core contributes
    ``kubernetes``, ``github``, ``jenkins`` and ``releases`` the same way. A service that fails
    to start is left out with one line of explanation. Added in plugin API 1.3.
    """
