"""Server-side apply: merge an applied configuration, find conflicts, drop released fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import ApiError
from .fieldsets import MISSING, Entry, Path, leaves, lookup, path_string, paths_of, remove
from .schema import Node
from .store import clone


def without_nulls(value: Any) -> Any:
    """An applied configuration without ``null`` fields: in apply they mean "not specified"."""
    if isinstance(value, dict):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value


def _matches(item: Any, applied: Any, keys: list[str]) -> bool:
    return (isinstance(item, dict) and isinstance(applied, dict)
            and all(item.get(key) == applied[key] for key in keys if key in applied))


def merge(live: Any, applied: Any, node: Node) -> Any:
    """The live value with the applied one laid over it, lists merged as their schema says."""
    if isinstance(applied, dict) and isinstance(live, dict) and not node.atomic:
        result = dict(live)
        for key, value in applied.items():
            result[key] = merge(live[key], value, node.child(key)) if key in live else clone(value)
        return result
    if isinstance(applied, list) and isinstance(live, list) and node.list_type == "map":
        result_list = list(live)
        for item in applied:
            index = next((i for i, old in enumerate(result_list) if _matches(old, item, node.map_keys)), None)
            if index is None:
                result_list.append(clone(item))
            else:
                result_list[index] = merge(result_list[index], item, node.item())
        return result_list
    if isinstance(applied, list) and isinstance(live, list) and node.list_type == "set":
        return live + [clone(item) for item in applied if item not in live]
    return clone(applied)


def _manager_label(entry: Entry) -> str:
    label = f'"{entry.manager}"'
    if entry.subresource:
        label += f' with subresource "{entry.subresource}"'
    if entry.operation == "Update":
        label += f" using {entry.api_version}"
    return label


def conflict_error(conflicts: list[tuple[Entry, Path]]) -> ApiError:
    causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {_manager_label(entry)}",
               "field": path_string(path)} for entry, path in conflicts]
    if len(conflicts) == 1:
        entry, path = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {_manager_label(entry)}: {path_string(path)}"
    else:
        by_manager: dict[str, list[str]] = {}
        for entry, path in conflicts:
            by_manager.setdefault(_manager_label(entry), []).append(path_string(path))
        lines = []
        for label in sorted(by_manager):
            lines.append(f"conflicts with {label}:")
            lines += [f"- {path}" for path in by_manager[label]]
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return ApiError(409, "Conflict", message, {"causes": causes})


def _owner(entry: Entry, path: Path, entry_leaves: set[Path]) -> bool:
    """Whether ``entry`` owns ``path`` itself or an atomic (leaf) ancestor of it."""
    return path in entry.paths or any(path[:i] in entry_leaves for i in range(1, len(path)))


def _drop_emptied_parents(obj: dict[str, Any], path: Path, applied_paths: set[Path],
                          held: Callable[[Path], bool]) -> None:
    """Remove maps left empty by a release, as structured-merge-diff does since its fix for #171.

    Otherwise ``syncPolicy.automated: {}`` would stay behind after a manager stopped applying
    ``automated`` — and for Argo CD an empty ``automated`` still means auto-sync is on.
    """
    for end in range(len(path) - 1, 1, -1):
        parent = path[:end]
        value = lookup(obj, parent)
        if value != {} or parent in applied_paths or held(parent):
            return
        remove(obj, parent)


def apply(live: dict[str, Any], applied: dict[str, Any], entries: list[Entry], manager: str,
          subresource: str, api_version: str, now: str, force: bool, node: Node
          ) -> tuple[dict[str, Any], list[Entry]]:
    """Return the owned part of the object after the apply and the new ownership."""
    applied = without_nulls(applied)
    applied_paths = paths_of(applied, node)
    mine = next((e for e in entries if e.same_slot(manager, "Apply", subresource)), None)
    others = [e for e in entries if e is not mine]
    owned = [(entry, leaves(entry.paths)) for entry in others]
    conflicts = [(entry, path) for path in sorted(leaves(applied_paths)) for entry, entry_leaves in owned
                 if _owner(entry, path, entry_leaves) and lookup(live, path) != lookup(applied, path)]
    if conflicts and not force:
        raise conflict_error(conflicts)
    for entry, path in conflicts:
        entry.paths.discard(path)
    merged = merge(live, applied, node)
    previous = mine.paths if mine else set()
    def held(path: Path) -> bool:
        return any(p[:len(path)] == path for entry in others for p in entry.paths)

    for path in sorted(previous - applied_paths, key=len, reverse=True):
        if not held(path) and lookup(merged, path) is not MISSING:
            remove(merged, path)
            _drop_emptied_parents(merged, path, applied_paths, held)
    if mine is None:
        mine = Entry(manager, "Apply", api_version, now, subresource)
        entries = [*entries, mine]
    mine.paths, mine.time, mine.api_version = applied_paths, now, api_version
    return merged, [entry for entry in entries if entry.paths]

