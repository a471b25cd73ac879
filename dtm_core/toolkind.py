"""The tool kind contract: what a plugin implements so dtm can create, read, update and delete a tool.

A tool kind is named like the registry tool it provides (``argocd``). dtm validates options
against :attr:`ToolKind.options` before any call, resolves secret references into
:class:`~dtm_core.secrets.Secret` values, and passes everything through a :class:`ToolContext`.

Contract for authors:

* ``create`` makes the resource and returns its outputs. It must tolerate finding the
  resource already there (a retry after an ambiguous failure): look before creating again.
* ``read`` reports the live resource as :class:`Live`, or :data:`GONE` when it no longer
  exists. ``Live.observed`` uses the same option names as the user's options, so dtm compares
  like with like and reports drift by key.
* ``update`` converges an existing resource in place; it never deletes to update.
* ``delete`` removes what ``create`` made; deleting something already gone is not an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Final

from .options import Option
from .secrets import SecretRef
from .sourcecontrol import SourceControl, find_provider


@dataclass(frozen=True)
class OutputSpec:
    """One output a tool kind promises; ``secret`` outputs are returned as :class:`SecretRef`."""

    name: str
    description: str = ""
    secret: bool = False


@dataclass(frozen=True)
class Live:
    """What ``read`` found: the observed settings (by option name) and the current outputs."""

    observed: Mapping[str, Any] = field(default_factory=dict)
    outputs: Mapping[str, Any] = field(default_factory=dict)
    #: Drift no option names, one line each ("deployment argocd/argocd-server is missing").
    #: Any line makes the next plan update the instance. Added in plugin API 1.1.
    drift: Sequence[str] = ()


class _Gone:
    """Type of :data:`GONE`; a singleton so ``read(...) is GONE`` reads naturally."""

    _instance: ClassVar[_Gone | None] = None

    def __new__(cls) -> _Gone:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "GONE"

    def __bool__(self) -> bool:
        return False


#: Returned by ``read`` when the resource no longer exists (deleted outside dtm, or never made).
GONE: Final = _Gone()

#: What ``read`` returns; annotate your ``read`` with it (added in plugin API 1.1).
ReadResult = Live | _Gone

Outputs = dict[str, Any]


@dataclass
class ToolContext:
    """What dtm hands every operation: who is being worked on, and services of the core.

    ``options`` are validated, defaults applied, secrets resolved to :class:`Secret`.
    ``outputs`` are those recorded by the last successful create/update (empty on create).
    ``progress`` reports a line of progress for long work (shown live on a terminal).
    """

    tool: str
    instance: str
    version: str
    options: Mapping[str, Any]
    outputs: Mapping[str, Any] = field(default_factory=dict)
    progress: Callable[[str], None] = field(default=lambda message: None)
    resolve_secret: Callable[[SecretRef], Any] | None = None
    #: The environment dtm runs with (KUBECONFIG, GITHUB_API_URL …): read it, not os.environ.
    #: Left out of the repr: it holds every token the user exported (GITHUB_TOKEN …).
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)
    #: What the registry lists for this version beside the plugin: release artifacts with their
    #: URLs and sha256 (``{"manifest": {"url": …, "sha256": …}}``). Verify what you download.
    artifacts: Mapping[str, Any] = field(default_factory=dict)
    #: The user passed ``--allow-unverified``: artifacts without a sha256 may be downloaded.
    allow_unverified: bool = False
    #: Where verified downloads are cached by digest; ``None`` disables the cache.
    cache_dir: Path | None = None
    #: The source-control providers the installed plugins offer; use :meth:`source_control`.
    source_controls: Sequence[SourceControl] = ()
    #: Set when dtm finishes (``dtm recover``) or rolls back a create that a killed run began:
    #: when that transaction started, ISO 8601 UTC (``2026-01-31T12:00:00Z``). A resource under
    #: this instance's name made since then is most likely the killed run's own: adopt and
    #: finish it (or delete it, on rollback) instead of refusing it or making a second one.
    #: ``None`` on ordinary calls. Added in plugin API 1.4.
    resuming_since: str | None = None

    @property
    def address(self) -> str:
        """``tool.instance``: how users and state name this instance."""
        return f"{self.tool}.{self.instance}"

    def source_control(self, repo_url: str) -> SourceControl:
        """The plugin-provided writer for ``repo_url`` (GitHub's, say); an error names what to install.

        Added in plugin API 1.2.
        """
        return find_provider(self.source_controls, repo_url, self.environ)

    def download_artifact(self, name: str, *, url: str | None = None, timeout: float = 120.0) -> bytes:
        """The bytes of release artifact ``name`` of this version, checked against its sha256.

        ``url`` replaces the registry's URL (a mirror, or a local path for air-gapped use); the
        registry's sha256 still applies. Raises a DtmError for an unreachable URL, a mismatch,
        or an artifact without a sha256 when the user did not pass ``--allow-unverified``.
        Added in plugin API 1.1.
        """
        from .artifacts import artifact_entry, download_artifact

        entry: Mapping[str, Any] = {}
        if url is None or name in self.artifacts:
            entry = artifact_entry(self.artifacts, name, self.tool, self.version)
        return download_artifact(url or str(entry["url"]), sha256=entry.get("sha256"),
                                 allow_unverified=self.allow_unverified,
                                 label=f"{self.tool} {self.version} {name}",
                                 cache_dir=self.cache_dir, timeout=timeout)


class ToolKind:
    """Base class of tool kinds. Subclass it, set the class attributes, implement the four operations."""

    #: The registry tool name this kind provides, e.g. ``"argocd"``.
    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    options: ClassVar[Sequence[Option]] = ()
    outputs: ClassVar[Sequence[OutputSpec]] = ()

    def create(self, ctx: ToolContext) -> Outputs:
        raise NotImplementedError(f"{self.name}: create is not implemented")

    def read(self, ctx: ToolContext) -> ReadResult:
        raise NotImplementedError(f"{self.name}: read is not implemented")

    def update(self, ctx: ToolContext, live: Live) -> Outputs:
        raise NotImplementedError(f"{self.name}: update is not implemented")

    def delete(self, ctx: ToolContext) -> None:
        raise NotImplementedError(f"{self.name}: delete is not implemented")
