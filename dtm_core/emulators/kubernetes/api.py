"""API semantics behind the HTTP layer: create, read, list, replace and patch, with their metadata rules."""

from __future__ import annotations

import base64
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from . import errors
from .apply import apply
from .defaults import apply_defaults, initial_status, validate
from .fieldsets import entries_of, owned_part, record_update, render
from .patching import json_patch, merge_patch, strategic_merge
from .resources import Registry, ResourceType
from .schema import Schemas
from .selectors import Predicate
from .store import Store, clone

PATCH_TYPES = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
}
SERVER_FIELDS = ("uid", "creationTimestamp", "resourceVersion", "generation", "deletionTimestamp",
                 "deletionGracePeriodSeconds", "selfLink")
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class WriteOptions:
    """The query parameters of a write: who writes, and how strictly the body is read."""

    manager: str = ""
    dry_run: bool = False
    validation: str = "Warn"  # fieldValidation: Ignore, Warn or Strict
    force: bool = False
    warnings: list[str] = field(default_factory=list)


class Api:
    """Objects as the API server keeps them; every method runs under the store lock."""

    def __init__(self, store: Store, registry: Registry, schemas: Schemas) -> None:
        self.store = store
        self.registry = registry
        self.schemas = schemas

    # -- reading -----------------------------------------------------------------------------------

    def render(self, rtype: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        """A stored object as served at ``rtype``'s version."""
        shown = clone(obj)
        return {"apiVersion": rtype.api_version, "kind": rtype.kind,
                **{key: value for key, value in shown.items() if key not in ("apiVersion", "kind")}}

    def stored(self, rtype: ResourceType, namespace: str, name: str) -> dict[str, Any]:
        obj = self.store.get(rtype.group, rtype.plural, namespace if rtype.namespaced else "", name)
        if obj is None:
            raise errors.not_found(rtype.plural, rtype.group, name)
        return obj

    def get(self, rtype: ResourceType, namespace: str, name: str) -> dict[str, Any]:
        with self.store.lock:
            return self.render(rtype, self.stored(rtype, namespace, name))

    def list(self, rtype: ResourceType, namespace: str | None, match: Predicate, limit: int = 0,
             token: str = "") -> dict[str, Any]:
        with self.store.lock:
            rv = self.store.rv
            found = [obj for obj in self.store.items(rtype.group, rtype.plural, namespace) if match(obj)]
        start = 0
        if token:
            try:
                start = int(json.loads(base64.b64decode(token))["start"])
            except (ValueError, KeyError, TypeError) as error:
                raise errors.bad_request(f"invalid continue token: {error}") from error
        page = found[start:start + limit] if limit else found[start:]
        items = []
        for obj in page:
            item = self.render(rtype, obj)
            if not rtype.custom:  # typed lists of built-ins leave kind and apiVersion out of items
                item.pop("apiVersion")
                item.pop("kind")
            items.append(item)
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        if limit and start + limit < len(found):
            meta["continue"] = base64.b64encode(json.dumps({"start": start + limit}).encode()).decode()
            meta["remainingItemCount"] = len(found) - start - limit
        return {"kind": rtype.list_kind, "apiVersion": rtype.api_version, "metadata": meta, "items": items}

    # -- writing -----------------------------------------------------------------------------------

    def _check_namespace(self, rtype: ResourceType, namespace: str, name: str) -> None:
        if not rtype.namespaced:
            return
        found = self.store.get("", "namespaces", "", namespace)
        if found is None:
            raise errors.not_found("namespaces", "", namespace)
        if found["metadata"].get("deletionTimestamp"):
            raise errors.namespace_terminating(rtype.plural, rtype.group, name, namespace)

    def _check_body(self, rtype: ResourceType, given: Any, namespace: str, name: str | None
                    ) -> dict[str, Any]:
        if not isinstance(given, dict):
            raise errors.bad_request("the body of the request was in an unknown format")
        body: dict[str, Any] = clone(given)
        kind, api_version = body.get("kind"), body.get("apiVersion")
        if kind and kind != rtype.kind or api_version and api_version != rtype.api_version:
            raise errors.bad_request(f"the API version in the data ({api_version}) does not match the "
                                     f"expected API version ({rtype.api_version})" if kind == rtype.kind else
                                     f"the kind in the data ({kind}) does not match the expected kind "
                                     f"({rtype.kind})")
        meta = body.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        if rtype.namespaced:
            if meta.get("namespace") not in (None, "", namespace):
                raise errors.bad_request("the namespace of the provided object does not match the namespace "
                                         "sent on the request")
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        if name is not None:
            if meta.get("name") not in (None, name):
                raise errors.bad_request(f"the name of the object ({meta['name']}) does not match the name "
                                         f"on the URL ({name})")
            meta["name"] = name
        body["apiVersion"], body["kind"] = rtype.api_version, rtype.kind
        return body

    def _unknown_fields(self, rtype: ResourceType, obj: dict[str, Any], options: WriteOptions) -> None:
        if options.validation == "Ignore":
            self.schemas.root(rtype).unknown_fields(obj, prune=True)
            return
        unknown = self.schemas.root(rtype).unknown_fields(obj, prune=options.validation != "Strict")
        if unknown and options.validation == "Strict":
            listed = ", ".join(f'unknown field "{path}"' for path in unknown)
            raise errors.bad_request(f"strict decoding error: {listed}")
        options.warnings += [f'unknown field "{path}"' for path in unknown]

    def _validate(self, rtype: ResourceType, obj: dict[str, Any]) -> None:
        causes = validate(rtype, obj)
        if causes:
            raise errors.invalid(rtype.kind, rtype.group, obj["metadata"].get("name", ""), causes)

    def create(self, rtype: ResourceType, namespace: str, body: Any, options: WriteOptions) -> dict[str, Any]:
        with self.store.lock:
            obj = self._check_body(rtype, body, namespace, None)
            self._unknown_fields(rtype, obj, options)
            meta = obj["metadata"]
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = meta["generateName"] + "".join(random.choices(_NAME_CHARS, k=5))
            self._validate(rtype, obj)
            return self._create(rtype, obj, options, owned_by_writer=True)

    def _create(self, rtype: ResourceType, obj: dict[str, Any], options: WriteOptions,
                owned_by_writer: bool) -> dict[str, Any]:
        meta = obj["metadata"]
        self._check_namespace(rtype, meta.get("namespace", ""), meta["name"])
        if self.store.get(rtype.group, rtype.plural, meta.get("namespace", ""), meta["name"]) is not None:
            raise errors.already_exists(rtype.plural, rtype.group, meta["name"])
        for server_field in SERVER_FIELDS:
            meta.pop(server_field, None)
        stamp = now()
        meta["uid"], meta["creationTimestamp"] = str(uuid.uuid4()), stamp
        if rtype.generation:
            meta["generation"] = 1
        if rtype.status:
            obj.pop("status", None)
        initial_status(rtype, obj, stamp)
        apply_defaults(rtype, obj)
        if owned_by_writer:
            meta.pop("managedFields", None)
            entries = record_update([], options.manager, "", rtype.api_version, stamp, {},
                                    owned_part(obj, "", rtype.status), self.schemas.root(rtype))
            if entries:
                meta["managedFields"] = render(entries)
        if options.dry_run:
            meta["resourceVersion"] = str(self.store.rv)
            return self.render(rtype, obj)
        stored = self.store.put(rtype.group, rtype.plural, obj, "ADDED")
        if rtype.plural == "customresourcedefinitions" and not rtype.custom:
            self.registry.add_crd(stored)
        return self.render(rtype, stored)

    def update(self, rtype: ResourceType, namespace: str, name: str, body: Any, subresource: str,
               options: WriteOptions) -> dict[str, Any]:
        with self.store.lock:
            old = self.stored(rtype, namespace, name)
            new = self._check_body(rtype, body, namespace, name)
            given = new["metadata"].get("resourceVersion")
            if rtype.custom and not given:
                raise errors.invalid(rtype.kind, rtype.group, name, [(
                    "metadata.resourceVersion", "FieldValueInvalid",
                    "Invalid value: 0x0: must be specified for an update")])
            if given and given != old["metadata"]["resourceVersion"]:
                raise errors.stale(rtype.plural, rtype.group, name)
            self._unknown_fields(rtype, new, options)
            return self._write(rtype, old, new, subresource, options, owned_by_writer=True)

    def patch(self, rtype: ResourceType, namespace: str, name: str, patch_type: str, body: Any,
              subresource: str, options: WriteOptions) -> tuple[dict[str, Any], bool]:
        """Apply a patch; the flag says whether an apply created the object."""
        with self.store.lock:
            if patch_type == "apply":
                return self._apply(rtype, namespace, name, body, subresource, options)
            if options.force:
                raise errors.invalid("PatchOptions", "meta.k8s.io", "", [(
                    "force", "FieldValueForbidden", "Forbidden: may not be specified for non-apply patch")])
            old = self.stored(rtype, namespace, name)
            current = self.render(rtype, old)
            if patch_type == "json":
                new = json_patch(current, body)
            elif patch_type == "merge":
                new = merge_patch(current, body)
            elif rtype.custom:
                raise errors.unsupported_patch([media for media, short in PATCH_TYPES.items()
                                                if short != "strategic"])
            else:
                new = strategic_merge(current, body, self.schemas.root(rtype))
            new = self._check_body(rtype, new, namespace, name)
            if new["metadata"].get("resourceVersion") not in (None, old["metadata"]["resourceVersion"]):
                raise errors.stale(rtype.plural, rtype.group, name)
            self._unknown_fields(rtype, new, options)
            return self._write(rtype, old, new, subresource, options, owned_by_writer=True), False

    def _apply(self, rtype: ResourceType, namespace: str, name: str, body: Any, subresource: str,
               options: WriteOptions) -> tuple[dict[str, Any], bool]:
        if not options.manager:
            raise errors.invalid("PatchOptions", "meta.k8s.io", "", [(
                "fieldManager", "FieldValueRequired", "Required value: is required for apply patch")])
        if not isinstance(body, dict) or not body.get("apiVersion") or not body.get("kind"):
            raise errors.bad_request("error decoding YAML: apiVersion and kind must be set in an applied "
                                     "configuration")
        applied = self._check_body(rtype, body, namespace, name)
        self._unknown_fields(rtype, applied, options)
        old = self.store.get(rtype.group, rtype.plural, namespace if rtype.namespaced else "", name)
        if old is None and subresource:
            raise errors.not_found(rtype.plural, rtype.group, name)
        base: dict[str, Any] = clone(old) if old else {"apiVersion": rtype.api_version, "kind": rtype.kind,
                                       "metadata": dict(applied["metadata"])}
        if old is None:
            base["metadata"].pop("managedFields", None)
        live_part = owned_part(base, subresource, rtype.status)
        merged, entries = apply(live_part, owned_part(applied, subresource, rtype.status),
                                entries_of(old), options.manager, subresource, rtype.api_version, now(),
                                options.force, self.schemas.root(rtype))
        new = clone(base)
        kept = {"apiVersion", "kind", "metadata"} | ({"status"} if rtype.status else set())
        if subresource == "status":
            new["status"] = merged.get("status", {})
        else:
            new = {key: value for key, value in new.items() if key in kept}
            meta = {key: value for key, value in base["metadata"].items() if key in SERVER_FIELDS
                    or key in ("name", "namespace")}
            new.update({key: value for key, value in merged.items() if key != "metadata"})
            new["metadata"] = {**meta, **merged.get("metadata", {})}
        new["metadata"]["managedFields"] = render(entries)
        if old is None:
            self._validate(rtype, new)
            return self._create(rtype, new, options, owned_by_writer=False), True
        apply_defaults(rtype, new)
        return self._write(rtype, old, new, subresource, options, owned_by_writer=False), False

    def _write(self, rtype: ResourceType, old: dict[str, Any], new: dict[str, Any], subresource: str,
               options: WriteOptions, owned_by_writer: bool) -> dict[str, Any]:
        """The shared end of every update: status separation, generation, ownership, then store."""
        old_meta, meta = old["metadata"], new["metadata"]
        if subresource == "status":
            status = new.get("status") or {}
            new = {**clone(old), "metadata": {**clone(old_meta), "managedFields": meta.get("managedFields")}}
            new["status"] = status
            meta = new["metadata"]
        elif rtype.status:
            new["status"] = clone(old.get("status", {}))
        for server_field in SERVER_FIELDS:
            meta.pop(server_field, None)
            if server_field in old_meta:
                meta[server_field] = old_meta[server_field]
        apply_defaults(rtype, new)
        if rtype.generation and _spec_changed(rtype, old, new):
            meta["generation"] = old_meta.get("generation", 1) + 1
        if owned_by_writer:
            given = meta.get("managedFields")
            base = clone(old) if given is None or given == old_meta.get("managedFields") else {
                "metadata": {"managedFields": given}}
            entries = record_update(entries_of(base), options.manager, subresource, rtype.api_version, now(),
                                    owned_part(old, subresource, rtype.status),
                                    owned_part(new, subresource, rtype.status), self.schemas.root(rtype))
            meta["managedFields"] = render(entries)
        if not meta.get("managedFields"):
            meta.pop("managedFields", None)
        self._validate(rtype, new)
        if _same(old, new):
            return self.render(rtype, old)
        if options.dry_run:
            return self.render(rtype, new)
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            gone = self.store.remove(rtype.group, rtype.plural, meta.get("namespace", ""), meta["name"])
            return self.render(rtype, gone or new)
        stored = self.store.put(rtype.group, rtype.plural, new, "MODIFIED")
        if rtype.plural == "customresourcedefinitions" and not rtype.custom:
            self.registry.add_crd(stored)
        return self.render(rtype, stored)


def _without_meta(obj: dict[str, Any], drop_status: bool) -> dict[str, Any]:
    return {key: value for key, value in obj.items()
            if key not in ("metadata", "apiVersion", "kind") and not (drop_status and key == "status")}


def _spec_changed(rtype: ResourceType, old: dict[str, Any], new: dict[str, Any]) -> bool:
    if rtype.custom:
        return _without_meta(old, rtype.status) != _without_meta(new, rtype.status)
    return old.get("spec") != new.get("spec")


def _same(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether a write changes nothing (managedFields timestamps aside): the server then skips it."""
    def comparable(obj: dict[str, Any]) -> dict[str, Any]:
        meta = dict(obj["metadata"])
        meta.pop("resourceVersion", None)
        meta["managedFields"] = [{key: value for key, value in entry.items() if key != "time"}
                                 for entry in meta.get("managedFields", [])]
        return {**_without_meta(obj, False), "metadata": meta}

    return comparable(old) == comparable(new)


def write_status(api: Api, rtype: ResourceType, seen: dict[str, Any], status: dict[str, Any],
                 manager: str) -> None:
    """A controller's status write, skipped when the object changed since the controller read it."""
    with api.store.lock:
        meta = seen["metadata"]
        current = api.store.get(rtype.group, rtype.plural, meta.get("namespace", ""), meta["name"])
        if current is None or current["metadata"]["resourceVersion"] != meta["resourceVersion"]:
            return
        new = clone(current)
        new["status"] = status
        api._write(rtype, current, new, "status" if rtype.status else "", WriteOptions(manager=manager),
                   owned_by_writer=True)
