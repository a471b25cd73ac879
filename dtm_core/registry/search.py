"""Searching the merged registry by name, tag and description, best matches first."""

from __future__ import annotations

from .model import Registry, ToolEntry

__all__ = ["search"]

# Rank of each way a term can match; lower sorts first.
_EXACT, _PREFIX, _NAME, _TAG, _DESCRIPTION = range(5)


def search(registry: Registry, term: str | None) -> list[ToolEntry]:
    """Entries matching ``term`` (case-insensitive): exact name, name prefix, name substring,
    then tags, then description; ties sorted by name. No term lists everything by name."""
    needle = (term or "").strip().lower()
    if not needle:
        return sorted(registry, key=lambda entry: entry.name)
    ranked: list[tuple[int, str, ToolEntry]] = []
    for entry in registry:
        rank = _rank(entry, needle)
        if rank is not None:
            ranked.append((rank, entry.name, entry))
    ranked.sort(key=lambda item: (item[0], item[1]))
    return [entry for _, _, entry in ranked]


def _rank(entry: ToolEntry, needle: str) -> int | None:
    name = entry.name.lower()
    if name == needle:
        return _EXACT
    if name.startswith(needle):
        return _PREFIX
    if needle in name:
        return _NAME
    if any(needle in tag.lower() for tag in entry.tags):
        return _TAG
    if needle in entry.description.lower():
        return _DESCRIPTION
    return None
