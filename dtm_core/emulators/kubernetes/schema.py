"""Schema knowledge from an OpenAPI description and CRDs: list and map semantics, unknown fields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .resources import ResourceType

OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


def load_spec(path: Path) -> dict[str, Any]:
    """A Swagger 2.0 description of the Kubernetes API, as a real server's ``/openapi/v2`` serves it."""
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read the Kubernetes OpenAPI description {path}: {error}") from error
    if not (isinstance(spec, dict) and isinstance(spec.get("paths"), dict)
            and isinstance(spec.get("definitions"), dict)):
        raise ValueError(f"{path} is not a Swagger 2.0 description (it needs 'paths' and 'definitions')")
    return spec


class Schemas:
    """The definitions of one description, found by group, version and kind."""

    def __init__(self, definitions: dict[str, Any]) -> None:
        self.definitions = definitions
        self._by_gvk: dict[tuple[str, str, str], str] = {}
        for name, definition in definitions.items():
            for gvk in definition.get("x-kubernetes-group-version-kind", ()):
                self._by_gvk.setdefault((gvk["group"], gvk["version"], gvk["kind"]), name)

    def definition_name(self, group: str, version: str, kind: str) -> str | None:
        return self._by_gvk.get((group, version, kind))

    def root(self, rtype: ResourceType) -> Node:
        """The schema of a whole object of ``rtype``."""
        if rtype.custom:
            return Node(rtype.schema or {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                        self.definitions, root=True)
        name = self.definition_name(rtype.group, rtype.version, rtype.kind)
        return Node({"$ref": f"#/definitions/{name}"} if name else None, self.definitions, root=True)


class Node:
    """A place in a schema; an unknown place (``schema is None``) behaves as free-form and atomic-free."""

    def __init__(self, schema: dict[str, Any] | None, definitions: dict[str, Any], *,
                 root: bool = False) -> None:
        self.definitions = definitions
        while schema is not None and "$ref" in schema:
            schema = definitions.get(schema["$ref"].rsplit("/", 1)[-1])
        self.schema = schema
        self.root = root

    def _get(self, key: str, default: Any = None) -> Any:
        return default if self.schema is None else self.schema.get(key, default)

    def child(self, name: str) -> Node:
        if self.root and name == "metadata":
            # Custom resources declare metadata loosely; the server always treats it as ObjectMeta.
            return Node({"$ref": f"#/definitions/{OBJECT_META}"}, self.definitions)
        properties = self._get("properties")
        if properties is not None and name in properties:
            return Node(properties[name], self.definitions)
        extra = self._get("additionalProperties")
        return Node(extra if isinstance(extra, dict) else None, self.definitions)

    def item(self) -> Node:
        items = self._get("items")
        return Node(items if isinstance(items, dict) else None, self.definitions)

    @property
    def patch_merge_key(self) -> str | None:
        key: str | None = self._get("x-kubernetes-patch-merge-key")
        return key

    @property
    def patch_strategies(self) -> set[str]:
        return set(str(self._get("x-kubernetes-patch-strategy", "")).split(","))

    @property
    def list_type(self) -> str:
        """``map``, ``set`` or ``atomic``, as server-side apply sees a list."""
        declared = self._get("x-kubernetes-list-type")
        if declared:
            return str(declared)
        return "map" if self.patch_merge_key else "atomic"

    @property
    def map_keys(self) -> list[str]:
        keys = self._get("x-kubernetes-list-map-keys")
        if keys:
            return list(keys)
        merge_key = self.patch_merge_key
        return [merge_key] if merge_key else []

    @property
    def atomic(self) -> bool:
        """A map or struct owned and replaced as a whole (``x-kubernetes-map-type: atomic``)."""
        return bool(self._get("x-kubernetes-map-type") == "atomic")

    @property
    def granular_map(self) -> bool:
        """A map with free keys (labels, data): apply records the map itself as well as its keys."""
        return isinstance(self._get("additionalProperties"), dict) or self.free_form

    @property
    def free_form(self) -> bool:
        if (self.schema is None or self._get("x-kubernetes-preserve-unknown-fields")
                or self._get("additionalProperties") is True):
            return True
        return "properties" not in self.schema and not isinstance(self._get("additionalProperties"), dict)

    def unknown_fields(self, value: Any, path: str = "", prune: bool = False) -> list[str]:
        """Dotted paths of fields the schema does not declare; removes them when ``prune``."""
        found: list[str] = []
        if isinstance(value, dict):
            properties = self._get("properties")
            embedded = self._get("x-kubernetes-embedded-resource")
            for key in list(value):
                where = f"{path}.{key}" if path else key
                known = (self.free_form or properties is None or key in properties
                         or (self.root or embedded) and key in ("apiVersion", "kind", "metadata"))
                if not known:
                    found.append(where)
                    if prune:
                        del value[key]
                    continue
                found += self.child(key).unknown_fields(value[key], where, prune)
        elif isinstance(value, list) and self._get("items") is not None:
            item = self.item()
            for index, entry in enumerate(value):
                found += item.unknown_fields(entry, f"{path}[{index}]", prune)
        return found

