"""Read-only views for search, info and list, as plain data with stable JSON shapes.

These shapes are the ``--output json`` interface documented in ``docs/cli.md``; change them
only by adding keys.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .registry.model import Registry
    from .state.model import State
    from .toolkind import ToolKind


def search_rows(registry: Registry, term: str | None, installed: Collection[str]) -> list[dict[str, Any]]:
    from .registry import search

    return [
        {
            "name": entry.name,
            "kind": entry.kind,
            "version": entry.latest_text,
            "description": entry.description,
            "tags": list(entry.tags),
            "installed": entry.name in installed,
        }
        for entry in search(registry, term)
    ]


def kind_data(kind: ToolKind | None) -> dict[str, Any]:
    """A tool kind's options and outputs, as ``dtm info`` shows them (empty without a plugin)."""
    if kind is None:
        return {"options": [], "outputs": []}
    from .options import option_json_schema

    return {
        "options": [{"name": o.name, "type": o.type, "required": o.required, "default": o.default,
                     "secret": o.secret, "description": o.description,
                     "schema": option_json_schema(o)} for o in kind.options],
        "outputs": [{"name": o.name, "secret": o.secret, "description": o.description}
                    for o in kind.outputs],
    }


def info_data(registry: Registry, state: State, name: str,
              kind: ToolKind | None = None) -> dict[str, Any]:
    """Everything ``dtm info`` shows about one tool; ``kind`` adds its options and outputs."""
    from .errors import UnknownToolError

    entry = registry.get(name)
    if entry is None:
        import difflib

        close = difflib.get_close_matches(name, [e.name for e in registry], n=3)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise UnknownToolError(f"no index lists a tool named {name!r}",
                               hint=f"{hint}'dtm search' lists tools; 'dtm update' refreshes "
                               "indexes")
    # Worked out when each index was cached: scanning every tool's newest version here would
    # decode and parse the whole of a large index to show one tool.
    dependents = registry.needed_by(name)
    instances = sorted(state.instances_of(name), key=lambda r: r.address)
    return {
        "name": entry.name,
        "kind": entry.kind,
        "description": entry.description,
        "tags": list(entry.tags),
        "homepage": entry.homepage,
        "source": entry.source,
        "versions": [
            {
                "version": v.version_text,
                "dependencies": list(v.dependency_texts),
                "conflicts": list(v.conflict_texts),
                "plugin": v.plugin.requirement if v.plugin.distribution else None,
                "verified": bool(v.plugin.hashes),
                "artifacts_verified": all(
                    bool(a.get("sha256")) for a in v.artifacts.values()
                    if isinstance(a, dict) and "url" in a),
                "has_artifacts": any(isinstance(a, dict) and "url" in a for a in v.artifacts.values()),
                "unverified_artifacts": sorted(
                    name for name, a in v.artifacts.items()
                    if isinstance(a, dict) and "url" in a and not a.get("sha256")),
                "dtm": v.dtm_text,
                "yanked": v.yanked,
            }
            for v in entry.versions
        ],
        "needed_by": dependents,
        "installed": [
            {"address": r.address, "version": r.version, "reason": r.reason, "held": r.held}
            for r in instances
        ],
        **kind_data(kind),
    }


def list_rows(state: State, registry: Registry | None = None, *,
              in_progress: bool = False) -> list[dict[str, Any]]:
    """Installed instances; with a registry, also the newest version listed for each.

    Instances the running transaction is changing are ``in progress`` while another run holds
    the lock (``in_progress``), else ``interrupted``.
    """
    rows = []
    for rec in sorted(state.instances.values(), key=lambda r: r.address):
        entry = registry.get(rec.tool) if registry is not None else None
        latest = entry.latest if entry else None
        rows.append({
            "address": rec.address,
            "tool": rec.tool,
            "instance": rec.instance,
            "version": rec.version,
            "reason": rec.reason,
            "held": rec.held,
            "status": "installed",
            "latest": latest.version_text if latest else None,
            "requires": list(rec.requires),
            "updated_at": rec.updated_at,
        })
    running = state.running_transaction()
    if running is not None:
        touched = {s.address for s in running.steps if s.status in {"running", "pending"}}
        for row in rows:
            if row["address"] in touched:
                row["status"] = "in progress" if in_progress else "interrupted"
    return rows
