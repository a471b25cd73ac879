"""The sandbox registry index: the bundled index with release artifacts pointed at the sandbox's mirrors.

``dtm sandbox env`` exports ``DTM_REGISTRY`` as this file, so ``dtm install argocd`` offline
downloads the manifest from the mirror. Each artifact a running service claims gets the
mirror's URL and, for a stand-in, the stand-in's sha256: the digest verifies what is served,
and the index says plainly that it is not upstream's release. An artifact served as upstream's
own bytes (``--mirror DIR``) keeps upstream's digest, so a wrong file fails verification.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from .service import MirroredArtifact

Claim = Callable[[str], MirroredArtifact | None]


def bundled_index() -> dict[str, Any]:
    """The index shipped inside dtm, as JSON data."""
    from ..registry.sources import BUNDLED_INDEX

    data: dict[str, Any] = json.loads(BUNDLED_INDEX.read_text(encoding="utf-8"))
    return data


def sandbox_index(index: Mapping[str, Any], claim: Claim) -> tuple[dict[str, Any], list[str]]:
    """A copy of ``index`` with every claimed artifact rewritten; and the upstream URLs rewritten."""
    data: dict[str, Any] = json.loads(json.dumps(index))  # a deep copy of plain JSON
    rewritten: list[str] = []
    for entry in (data.get("tools") or {}).values():
        for version in (entry.get("versions") or {}).values():
            for artifact in (version.get("artifacts") or {}).values():
                if not isinstance(artifact, dict) or not isinstance(artifact.get("url"), str):
                    continue
                mirrored = claim(artifact["url"])
                if mirrored is None:
                    continue
                rewritten.append(artifact["url"])
                artifact["url"] = mirrored.url
                if mirrored.sha256 is not None:
                    artifact["sha256"] = mirrored.sha256
    return data, rewritten


def first_claim(claims: list[Claim]) -> Claim:
    """Ask each service in turn; the first that serves a URL gets it."""

    def claim(url: str) -> MirroredArtifact | None:
        for ask in claims:
            found = ask(url)
            if found is not None:
                return found
        return None

    return claim
