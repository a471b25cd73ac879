"""The index policy: which indexes may be used, and whether each must be signed.

Read from the ``[registry]`` table of dtm's settings file (:mod:`dtm_core.settings`)::

    [registry]
    allowed = ["https://index.example.com/*", "bundled"]
    require_signed = true

``allowed`` holds shell-style patterns (``fnmatch``) matched against an index's URL, or its
absolute path for a local index; ``bundled`` names the index shipped inside dtm. Absent, every
index is allowed. The policy is checked when an index is added, fetched and read, so an index
added before the policy was set is refused too; ``DTM_REGISTRY`` is no way around it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..errors import RefusedError
from ..records import Frozen, fill

if TYPE_CHECKING:
    from ..paths import DtmPaths
    from ..settings import Settings
    from .sources import Source

__all__ = ["BUNDLED_PATTERN", "IndexPolicy", "load_policy"]

#: The pattern in ``registry.allowed`` that allows the index shipped inside dtm.
BUNDLED_PATTERN = "bundled"
_KEYS = ("allowed", "require_signed")


class IndexPolicy(Frozen):
    """``allowed`` is None when every index is allowed; ``file`` is named in every refusal."""

    __slots__ = _fields = ("allowed", "require_signed", "file")
    allowed: tuple[str, ...] | None
    require_signed: bool
    file: str

    def __init__(self, allowed: tuple[str, ...] | None = None, require_signed: bool = False,
                 file: str = "") -> None:
        fill(self, allowed, require_signed, file)

    def allows(self, source: Source) -> bool:
        """Whether ``registry.allowed`` lets ``source`` be used (signatures aside)."""
        if self.allowed is None:
            return True
        if source.bundled:
            return BUNDLED_PATTERN in self.allowed
        from fnmatch import fnmatchcase

        return any(fnmatchcase(source.url, pattern) for pattern in self.allowed
                   if pattern != BUNDLED_PATTERN)

    def check(self, source: Source, *, adding: bool = False) -> None:
        """Refuse ``source`` (RefusedError, exit 3) if the policy forbids using it."""
        from .fetch import shown
        from .sources import REGISTRY_ENV

        if not self.allows(source):
            if adding:
                fix = "choose an allowed index"
            elif source.builtin:
                fix = f"unset {REGISTRY_ENV}"
            else:
                fix = f"remove it with 'dtm registry remove {source.name}'"
            raise RefusedError(
                f"index '{source.name}' ({shown(source.url)}) is not allowed by registry.allowed "
                f"in {self.file}",
                hint=f"{fix}, or add a pattern matching its URL to registry.allowed",
            )
        if self.require_signed and not source.bundled and source.key is None:
            if adding:
                fix = "pass --key with the publisher's public key"
            elif source.builtin:
                fix = f"set {REGISTRY_ENV}_KEY to the publisher's public key, or unset {REGISTRY_ENV}"
            else:
                fix = (f"'dtm registry remove {source.name}', then add it again with --key and "
                       "the publisher's public key")
            raise RefusedError(
                f"index '{source.name}' ({shown(source.url)}) has no trusted key and "
                f"registry.require_signed is true in {self.file}",
                hint=f"{fix}, or set registry.require_signed = false",
            )


def load_policy(paths: DtmPaths, environ: Mapping[str, str] | None = None) -> IndexPolicy:
    """The policy in effect; a malformed ``[registry]`` table is a ConfigError (exit 2)."""
    from ..settings import load_settings

    settings = load_settings(paths, environ)
    table = settings.table("registry")
    if not table:
        return IndexPolicy(file=settings.file)
    return _policy(settings, table)


def _policy(settings: Settings, table: Mapping[str, object]) -> IndexPolicy:
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise settings.error(f"registry.{unknown[0]}", "is not a setting",
                             hint=f"the [registry] settings are {', '.join(_KEYS)}")
    allowed = table.get("allowed")
    if allowed is not None and not (
        isinstance(allowed, list) and all(isinstance(item, str) and item for item in allowed)
    ):
        raise settings.error("registry.allowed", "must be a list of URL patterns",
                             hint='for example allowed = ["https://index.example.com/*", "bundled"]')
    require_signed = table.get("require_signed", False)
    if not isinstance(require_signed, bool):
        raise settings.error("registry.require_signed", "must be true or false")
    return IndexPolicy(None if allowed is None else tuple(allowed), require_signed, settings.file)
