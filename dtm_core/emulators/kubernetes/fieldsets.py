"""Field ownership: an object's field paths, their ``fieldsV1`` encoding and ``managedFields`` entries."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .schema import Node

Path = tuple[str, ...]
# Never owned by anyone: the server sets them (the real field manager strips the same set).
STRIPPED_META = ("name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                 "managedFields", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds")
MISSING = object()


def owned_part(obj: dict[str, Any], subresource: str, status_enabled: bool) -> dict[str, Any]:
    """The part of an object a write through this endpoint may own."""
    if subresource == "status":
        return {"status": obj["status"]} if "status" in obj else {}
    part = {key: value for key, value in obj.items() if key not in ("apiVersion", "kind", "metadata")}
    if status_enabled:
        part.pop("status", None)
    meta = {key: value for key, value in obj.get("metadata", {}).items() if key not in STRIPPED_META}
    if meta:
        part["metadata"] = meta
    return part


def item_key(item: Any, keys: list[str]) -> str:
    values = {key: item.get(key) for key in sorted(keys) if isinstance(item, dict) and key in item}
    return "k:" + json.dumps(values, separators=(",", ":"), sort_keys=True)


def paths_of(value: Any, node: Node, prefix: Path = ()) -> set[Path]:
    """Every owned path in ``value``: leaves, plus the maps and list items that hold children."""
    found: set[Path] = set()
    if not isinstance(value, dict) or node.atomic:
        return found
    for key, child_value in value.items():
        path = prefix + (f"f:{key}",)
        child = node.child(key)
        if isinstance(child_value, dict) and child_value and not child.atomic:
            if child.granular_map:
                found.add(path)
            found |= paths_of(child_value, child, path)
        elif isinstance(child_value, list) and child_value and child.list_type == "map":
            item_node = child.item()
            for item in child_value:
                item_path = path + (item_key(item, child.map_keys),)
                found.add(item_path)
                found |= paths_of(item, item_node, item_path)
        elif isinstance(child_value, list) and child_value and child.list_type == "set":
            found |= {path + ("v:" + json.dumps(item, separators=(",", ":")),) for item in child_value}
        else:
            found.add(path)
    return found


def leaves(paths: set[Path]) -> set[Path]:
    parents = {path[:i] for path in paths for i in range(1, len(path))}
    return paths - parents


def lookup(value: Any, path: Path) -> Any:
    """The value at ``path``, or MISSING."""
    for token in path:
        kind, _, rest = token.partition(":")
        if kind == "f" and isinstance(value, dict) and rest in value:
            value = value[rest]
        elif kind == "k" and isinstance(value, list):
            wanted = json.loads(rest)
            value = next((item for item in value if isinstance(item, dict)
                          and all(item.get(k) == v for k, v in wanted.items())), MISSING)
        elif kind == "v" and isinstance(value, list) and json.loads(rest) in value:
            value = json.loads(rest)
        else:
            return MISSING
        if value is MISSING:
            return MISSING
    return value


def remove(value: Any, path: Path) -> None:
    """Delete the field or list item at ``path`` when it is there."""
    parent = lookup(value, path[:-1])
    kind, _, rest = path[-1].partition(":")
    if kind == "f" and isinstance(parent, dict):
        parent.pop(rest, None)
    elif kind in ("k", "v") and isinstance(parent, list):
        target = lookup(parent, (path[-1],))
        if target is not MISSING:
            parent.remove(target)


def path_string(path: Path) -> str:
    """A path as the server prints it in conflicts: ``.spec.containers[name="web"].image``."""
    text = ""
    for token in path:
        kind, _, rest = token.partition(":")
        if kind == "f":
            text += f".{rest}"
        elif kind == "k":
            text += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in json.loads(rest).items()) + "]"
        else:
            text += f"[={rest}]"
    return text


def encode(paths: set[Path]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in sorted(paths):
        node = tree
        for token in path:
            node = node.setdefault(token, {})
    for path in paths:
        node = tree
        for token in path:
            node = node[token]
        if node and "." not in node:
            node["."] = {}
    return _sorted(tree)


def _sorted(tree: dict[str, Any]) -> dict[str, Any]:
    return {key: _sorted(tree[key]) for key in sorted(tree, key=lambda k: (k != ".", k))}


def decode(tree: dict[str, Any], prefix: Path = ()) -> set[Path]:
    found: set[Path] = set()
    for key, child in tree.items():
        if key == ".":
            continue
        path = prefix + (key,)
        if not child or "." in child:
            found.add(path)
        found |= decode(child, path)
    return found


@dataclass
class Entry:
    """One ``managedFields`` entry with its field set decoded."""

    manager: str
    operation: str
    api_version: str
    time: str
    subresource: str = ""
    paths: set[Path] = field(default_factory=set)

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Entry:
        return cls(raw.get("manager", ""), raw.get("operation", "Update"), raw.get("apiVersion", ""),
                   raw.get("time", ""), raw.get("subresource", ""), decode(raw.get("fieldsV1") or {}))

    def render(self) -> dict[str, Any]:
        raw: dict[str, Any] = {"manager": self.manager, "operation": self.operation,
                               "apiVersion": self.api_version, "time": self.time,
                               "fieldsType": "FieldsV1", "fieldsV1": encode(self.paths)}
        if self.subresource:
            raw["subresource"] = self.subresource
        return raw

    def same_slot(self, manager: str, operation: str, subresource: str) -> bool:
        return (self.manager, self.operation, self.subresource) == (manager, operation, subresource)


def entries_of(obj: dict[str, Any] | None) -> list[Entry]:
    if obj is None:
        return []
    return [Entry.parse(raw) for raw in obj.get("metadata", {}).get("managedFields") or []]


def render(entries: list[Entry]) -> list[dict[str, Any]]:
    return [entry.render() for entry in entries if entry.paths]


def record_update(entries: list[Entry], manager: str, subresource: str, api_version: str, now: str,
                  old: dict[str, Any], new: dict[str, Any], node: Node) -> list[Entry]:
    """Ownership after a non-apply write: the writer takes what it changed, nobody keeps what is gone."""
    old_paths, new_paths = paths_of(old, node), paths_of(new, node)
    new_leaves = leaves(new_paths)
    changed = {path for path in new_paths if path not in old_paths
               or (path in new_leaves and lookup(old, path) != lookup(new, path))}
    removed = old_paths - new_paths
    for entry in entries:
        entry.paths -= removed
        if not entry.same_slot(manager, "Update", subresource):
            entry.paths -= changed
    if changed:
        mine = next((e for e in entries if e.same_slot(manager, "Update", subresource)), None)
        if mine is None:
            mine = Entry(manager, "Update", api_version, now, subresource)
            entries.append(mine)
        mine.paths |= changed
        mine.time, mine.api_version = now, api_version
    return [entry for entry in entries if entry.paths]
