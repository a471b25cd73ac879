"""The sandbox service contract: what a plugin returns from ``dtm_sandbox_services`` (plugin API 1.3).

A :class:`SandboxService` is a factory: the sandbox's background process calls
:meth:`SandboxService.start` once, on ``dtm sandbox up``, and keeps the
:class:`RunningService` it returns until ``dtm sandbox down``. Everything runs in that one
process, so a service starts its server on a thread (``127.0.0.1``, port 0) and returns.

Contract for authors:

* ``start`` returns only once the service answers; the sandbox reports ready after every
  service started. Raise :class:`~dtm_core.DtmError` to say why it cannot start: the service
  is then left out and ``dtm sandbox up`` shows the message.
* ``env`` is what ``dtm sandbox env`` exports so that dtm and other clients use the service;
  credentials go in as :class:`~dtm_core.Secret` and are shown masked everywhere else.
* ``summary`` says what the service holds (``{"repositories": [...]}``), for ``status``; it is
  called on a server thread while clients use the service, so take the service's own lock.
* ``mirror`` claims release artifacts the service serves in place of an upstream URL: the
  sandbox's registry index points dtm at the copy (see ``docs/sandbox.md``).
* ``stop`` stops serving; with ``persist`` it first saves what should survive into ``workdir``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from ..records import Frozen, fill

if TYPE_CHECKING:
    from pathlib import Path

    from ..secrets import Secret

__all__ = ["MirroredArtifact", "RunningService", "SandboxService"]


class MirroredArtifact(Frozen):
    """Where the sandbox serves a release artifact, and the sha256 of what it serves there.

    ``sha256`` None means the bytes are upstream's own (a downloaded copy), so the registry's
    digest for the upstream URL still applies; a stand-in gives its own digest.
    """

    __slots__ = _fields = ("url", "sha256")
    url: str
    sha256: str | None

    def __init__(self, url: str, sha256: str | None = None) -> None:
        fill(self, url, sha256)


class RunningService(ABC):
    """A started sandbox service: where it answers, what it exports, what it holds."""

    def __init__(self, urls: Mapping[str, str], env: Mapping[str, str | Secret] | None = None) -> None:
        #: Label -> URL, such as ``{"api": "http://127.0.0.1:40123"}``.
        self.urls = dict(urls)
        #: Environment variables ``dtm sandbox env`` exports for this service.
        self.env = dict(env or {})

    def summary(self) -> Mapping[str, Any]:
        """What the service holds, as JSON-ready lists or scalars by name (empty: nothing to say)."""
        return {}

    def mirror(self, url: str) -> MirroredArtifact | None:
        """Where this service serves the artifact upstream publishes at ``url``; None if it does not."""
        return None

    @abstractmethod
    def stop(self) -> None:
        """Stop serving (saving first when started with ``persist``); called once."""


class SandboxService(ABC):
    """Base class of sandbox services; a plugin subclasses it and returns instances from the hook."""

    #: Unique among all services: lowercase letters, digits and '-' (it names a directory).
    name: ClassVar[str] = ""
    #: One line for ``dtm sandbox status``.
    description: ClassVar[str] = ""

    @abstractmethod
    def start(self, workdir: Path, persist: bool) -> RunningService:
        """Start serving on loopback and return once ready.

        ``workdir`` exists and belongs to this service alone. With ``persist`` it survives
        ``dtm sandbox down``: load what an earlier run saved there, and save on :meth:`stop`.
        Without, it is removed on ``down``; keep data in memory.
        """
