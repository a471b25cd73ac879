"""The source-control capability: one plugin writes files to a repository another plugin asked for.

A Jenkins pipeline wants a starter ``Jenkinsfile`` in the application's repository; the
repository lives on GitHub, which only the GitHub plugin can talk to — and plugins never
import each other. So the core defines the capability and routes between them:

* a plugin that can write to some hosting service returns a :class:`SourceControl` from the
  ``dtm_source_control`` hook (the GitHub plugin claims ``https://github.com/...`` and its
  Enterprise hosts);
* any tool asks ``ctx.source_control(repo_url)`` for the provider of a URL and calls
  :meth:`SourceControl.commit_files` with a :class:`CommitRequest`.

Added in plugin API 1.2.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from .errors import OperationError
from .secrets import Secret


@dataclass(frozen=True)
class CommitRequest:
    """Files to put on a branch of a repository, in one commit.

    ``files`` maps repository paths to their new content; ``None`` deletes the file. A file
    whose content is already there is left out of the commit, and a request that changes
    nothing makes no commit. ``token`` is the credential the asking tool holds, if any; without
    one the provider uses its own (``GITHUB_TOKEN`` from ``environ``, say).
    """

    repo_url: str
    files: Mapping[str, bytes | None]
    message: str
    branch: str | None = None
    token: Secret | None = None
    # Left out of the repr: it holds every token the user exported (GITHUB_TOKEN …).
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)
    progress: Callable[[str], None] = field(default=lambda message: None)


@dataclass(frozen=True)
class CommitResult:
    """What a commit did: its sha (None when nothing changed) and the paths it changed."""

    commit: str | None
    changed: Sequence[str] = ()


class SourceControl:
    """Base class of source-control providers; plugins subclass it and return it from the hook."""

    #: A short name for messages, e.g. ``"github"``.
    name: ClassVar[str] = ""

    def handles(self, repo_url: str, environ: Mapping[str, str]) -> bool:
        """Whether this provider can write to ``repo_url`` (by its host, usually)."""
        raise NotImplementedError

    def commit_files(self, request: CommitRequest) -> CommitResult:
        """Write ``request.files`` in one commit; raise a DtmError a user can act on."""
        raise NotImplementedError

    def read_file(self, repo_url: str, path: str, *, branch: str | None = None,
                  token: Secret | None = None, environ: Mapping[str, str] | None = None) -> bytes | None:
        """The content of ``path`` on ``branch`` (the default branch when None), or None if absent."""
        raise NotImplementedError


def find_provider(providers: Sequence[SourceControl], repo_url: str,
                  environ: Mapping[str, str]) -> SourceControl:
    """The provider that handles ``repo_url``, or an error naming what would."""
    for provider in providers:
        if provider.handles(repo_url, environ):
            return provider
    known = ", ".join(sorted(p.name for p in providers)) or "none is installed"
    raise OperationError(
        f"no source-control plugin can write to {repo_url} (providers: {known})",
        hint="install the plugin for its host (dtm-plugins-github for GitHub), "
        "or commit the file yourself",
    )
