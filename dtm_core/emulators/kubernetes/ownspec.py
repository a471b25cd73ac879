"""The emulator's own Swagger 2.0 description of the kinds it serves, for when no vendor spec is given.

Written from the resource table (kinds, group versions, verbs, subresources), not copied: each
kind is an object with ``apiVersion``, ``kind`` and ``metadata`` that keeps whatever else it is
sent (``x-kubernetes-preserve-unknown-fields``). Below that, only the lists the Kubernetes API
merges by key are declared (``SHAPES``): the emulator's strategic merge and server-side apply read
them there, and they are the keys kubectl's compiled-in types put in client-side apply patches.
"""

from __future__ import annotations

import functools
from typing import Any

from .api import PATCH_TYPES
from .resources import BUILTINS, ResourceType
from .schema import OBJECT_META

Schema = dict[str, Any]
META = "io.k8s.apimachinery.pkg.apis.meta.v1."
LIST_META, STATUS, DELETE_OPTIONS, PATCH = (META + name for name in ("ListMeta", "Status", "DeleteOptions",
                                                                     "Patch"))
SCALE = "io.k8s.api.autoscaling.v1.Scale"
# The server takes strategic merge patches, but PATCH does not list them: when it does, kubectl's
# client-side apply builds its patch from this schema, which cannot describe the free-form parts
# ("unable to find api field", printed as a warning). Unlisted, kubectl builds it from its own
# compiled-in types, whose list keys are the ones SHAPES declares.
PATCH_CONSUMES = [media for media, name in PATCH_TYPES.items() if name != "strategic"]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/definitions/{name}"}


def _open(properties: dict[str, Schema] | None = None, **extensions: Any) -> Schema:
    """An object that keeps undeclared fields; ``properties`` only where something needs declaring."""
    schema: Schema = {"type": "object", "x-kubernetes-preserve-unknown-fields": True, **extensions}
    if properties:
        schema["properties"] = properties
    return schema


def _keyed(*keys: str, items: dict[str, Schema] | None = None, strategy: str = "merge") -> Schema:
    """A list whose items are told apart by ``keys`` (the first one is the strategic merge key)."""
    return {"type": "array", "items": _open(items), "x-kubernetes-patch-merge-key": keys[0],
            "x-kubernetes-patch-strategy": strategy, "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": list(keys)}


STRING: Schema = {"type": "string"}
STRING_MAP: Schema = {"type": "object", "additionalProperties": STRING}
CONDITIONS = _keyed("type")
CONTAINER = {"env": _keyed("name"), "ports": _keyed("containerPort", "protocol"),
             "volumeMounts": _keyed("mountPath"), "volumeDevices": _keyed("devicePath")}
POD_SPEC = {"containers": _keyed("name", items=CONTAINER), "initContainers": _keyed("name", items=CONTAINER),
            "ephemeralContainers": _keyed("name", items=CONTAINER),
            "volumes": _keyed("name", strategy="merge,retainKeys"), "imagePullSecrets": _keyed("name"),
            "hostAliases": _keyed("ip"), "schedulingGates": _keyed("name"),
            "resourceClaims": _keyed("name", strategy="merge,retainKeys"),
            "topologySpreadConstraints": _keyed("topologyKey", "whenUnsatisfiable")}
POD_TEMPLATE = _open({"metadata": _ref(OBJECT_META), "spec": _open(POD_SPEC)})
WITH_CONDITIONS = _open({"conditions": CONDITIONS})
# Below the standard three fields, what each kind declares: the lists the Kubernetes API merges by
# key (strategic merge patch and server-side apply), and the objects on the way to them. The rest
# of every kind is free-form, and its lists are replaced whole.
SHAPES: dict[str, dict[str, Schema]] = {
    "Namespace": {"status": WITH_CONDITIONS},
    "Service": {"spec": _open({"ports": _keyed("port", "protocol")}), "status": WITH_CONDITIONS},
    "ServiceAccount": {"secrets": _keyed("name")},
    "PersistentVolumeClaim": {"status": WITH_CONDITIONS},
    "Pod": {"spec": _open(POD_SPEC), "status": _open({"conditions": CONDITIONS, "podIPs": _keyed("ip"),
                                                      "hostIPs": _keyed("ip")})},
    "Deployment": {"spec": _open({"template": POD_TEMPLATE,
                                  "strategy": {**_open(), "x-kubernetes-patch-strategy": "retainKeys"}}),
                   "status": WITH_CONDITIONS},
    "StatefulSet": {"spec": _open({"template": POD_TEMPLATE}), "status": WITH_CONDITIONS},
}
OBJECT_META_SCHEMA: Schema = {"type": "object", "properties": {
    **{name: STRING for name in ("name", "generateName", "namespace", "uid", "resourceVersion", "selfLink")},
    "creationTimestamp": {"type": "string", "format": "date-time"},
    "deletionTimestamp": {"type": "string", "format": "date-time"},
    "generation": {"type": "integer", "format": "int64"},
    "deletionGracePeriodSeconds": {"type": "integer", "format": "int64"},
    "labels": STRING_MAP, "annotations": STRING_MAP,
    "finalizers": {"type": "array", "items": STRING, "x-kubernetes-patch-strategy": "merge",
                   "x-kubernetes-list-type": "set"},
    "ownerReferences": _keyed("uid"),
    "managedFields": {"type": "array", "items": _open(), "x-kubernetes-list-type": "atomic"},
}}


def definition_name(rtype: ResourceType) -> str:
    """``io.k8s.api.<first label of the group, or core>.<version>.<Kind>``: the names clients expect."""
    return f"io.k8s.api.{rtype.group.split('.')[0] or 'core'}.{rtype.version}.{rtype.kind}"


def _gvk(group: str, version: str, kind: str) -> dict[str, str]:
    return {"group": group, "version": version, "kind": kind}


def _kind_of(group: str, version: str, kind: str) -> dict[str, Any]:
    """The extension that ties a definition to its kind (kubectl finds the schema of a kind by it)."""
    return {"x-kubernetes-group-version-kind": [_gvk(group, version, kind)]}


def _definitions() -> dict[str, Schema]:
    standard = {"apiVersion": STRING, "kind": STRING}
    found: dict[str, Schema] = {
        OBJECT_META: OBJECT_META_SCHEMA,
        LIST_META: _open({"resourceVersion": STRING, "continue": STRING}),
        STATUS: _open({**standard, "metadata": _ref(LIST_META)}, **_kind_of("", "v1", "Status")),
        DELETE_OPTIONS: _open(standard),
        PATCH: {"type": "object", "description": "A patch in one of the formats PATCH consumes."},
        SCALE: _open({**standard, "metadata": _ref(OBJECT_META)}, **_kind_of("autoscaling", "v1", "Scale")),
        **{META + name: _open() for name in ("APIResourceList", "APIGroupList", "APIVersions")},
        "io.k8s.apimachinery.pkg.version.Info": _open(),
    }
    for rtype in BUILTINS:
        name = definition_name(rtype)
        found[name] = _open({**standard, "metadata": _ref(OBJECT_META), **SHAPES.get(rtype.kind, {})},
                            **_kind_of(rtype.group, rtype.version, rtype.kind))
        items = {"type": "array", "items": _ref(name)}
        found[name + "List"] = {"type": "object", "required": ["items"],
                                "properties": {**standard, "metadata": _ref(LIST_META), "items": items},
                                **_kind_of(rtype.group, rtype.version, rtype.list_kind)}
    return found


def _query(name: str, kind: str = "string") -> Schema:
    return {"name": name, "in": "query", "type": kind, "uniqueItems": True}


def _body(definition: str) -> Schema:
    return {"name": "body", "in": "body", "required": True, "schema": _ref(definition)}


READ_LIST = [_query("allowWatchBookmarks", "boolean"), _query("continue"), _query("fieldSelector"),
             _query("labelSelector"), _query("limit", "integer"), _query("resourceVersion"),
             _query("resourceVersionMatch"), _query("sendInitialEvents", "boolean"),
             _query("timeoutSeconds", "integer"), _query("watch", "boolean")]
WRITE = [_query("dryRun"), _query("fieldManager"), _query("fieldValidation")]
DELETE = [_body(DELETE_OPTIONS), _query("dryRun"), _query("gracePeriodSeconds", "integer"),
          _query("orphanDependents", "boolean"), _query("propagationPolicy")]


def _operation_id(verb: str, rtype: ResourceType, scoped: bool, suffix: str) -> str:
    group = "".join(part.capitalize() for part in rtype.group.removesuffix(".k8s.io").split(".")) or "Core"
    namespaced = "Namespaced" if scoped and rtype.namespaced else ""
    return f"{verb}{group}{rtype.version.capitalize()}{namespaced}{rtype.kind}{suffix}"


def _operation(rtype: ResourceType, action: str, verb: str, parameters: list[Schema], answer: str,
               codes: tuple[str, ...] = ("200",), *, gvk: dict[str, str] | None = None, scoped: bool = True,
               suffix: str = "") -> Schema:
    return {
        "operationId": _operation_id(verb, rtype, scoped, suffix),
        "consumes": PATCH_CONSUMES if action == "patch" else ["*/*"],
        "produces": ["application/json"],
        "parameters": parameters,
        "responses": {**{code: {"description": "OK", "schema": _ref(answer)} for code in codes},
                      "401": {"description": "Unauthorized"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk or _gvk(rtype.group, rtype.version, rtype.kind),
    }


def _object_operations(rtype: ResourceType, answer: str, gvk: dict[str, str] | None = None,
                       suffix: str = "") -> dict[str, Schema]:
    """Read, replace and patch of one object or of one of its subresources, by HTTP method."""
    replace, patch = [_body(answer), *WRITE], [_body(PATCH), *WRITE, _query("force", "boolean")]
    return {"get": _operation(rtype, "get", "read", [], answer, gvk=gvk, suffix=suffix),
            "put": _operation(rtype, "put", "replace", replace, answer, gvk=gvk, suffix=suffix),
            "patch": _operation(rtype, "patch", "patch", patch, answer, ("200", "201"), gvk=gvk,
                                suffix=suffix)}


def _paths(rtype: ResourceType) -> dict[str, Schema]:
    """The operations of one kind at the URLs the emulator serves them, as its verbs allow."""
    name, verbs = definition_name(rtype), rtype.verbs
    scope = "/namespaces/{namespace}" if rtype.namespaced else ""
    collection = f"{rtype.prefix}{scope}/{rtype.plural}"
    item = collection + "/{name}"
    namespace = [{"name": "namespace", "in": "path", "required": True, "type": "string"}] if scope else []
    named = [{"name": "name", "in": "path", "required": True, "type": "string"}, *namespace]
    paths: dict[str, Schema] = {collection: {"parameters": namespace} if namespace else {},
                                item: {"parameters": named}}
    if "list" in verbs:
        paths[collection]["get"] = _operation(rtype, "list", "list", READ_LIST, name + "List")
        if rtype.namespaced:
            paths[f"{rtype.prefix}/{rtype.plural}"] = {"get": _operation(
                rtype, "list", "list", READ_LIST, name + "List", scoped=False, suffix="ForAllNamespaces")}
    if "create" in verbs:
        paths[collection]["post"] = _operation(rtype, "post", "create", [_body(name), *WRITE], name,
                                               ("200", "201", "202"))
    if "deletecollection" in verbs:
        paths[collection]["delete"] = _operation(rtype, "deletecollection", "deleteCollection",
                                                 [*DELETE, *READ_LIST], STATUS)
    verb_of = {"get": "get", "put": "update", "patch": "patch"}
    paths[item].update({method: operation for method, operation in _object_operations(rtype, name).items()
                        if verb_of[method] in verbs})
    if "delete" in verbs:
        paths[item]["delete"] = _operation(rtype, "delete", "delete", DELETE,
                                           name if rtype.returns_object else STATUS, ("200", "202"))
    if rtype.status:
        paths[item + "/status"] = {"parameters": named, **_object_operations(rtype, name, suffix="Status")}
    if rtype.scalable:
        paths[item + "/scale"] = {"parameters": named, **_object_operations(
            rtype, SCALE, _gvk("autoscaling", "v1", "Scale"), suffix="Scale")}
    return paths


def _discovery(path: str, operation_id: str, answer: str) -> dict[str, Schema]:
    return {path: {"get": {"operationId": operation_id, "produces": ["application/json"],
                           "responses": {"200": {"description": "OK", "schema": _ref(answer)},
                                         "401": {"description": "Unauthorized"}}}}}


@functools.cache
def own_spec() -> dict[str, Any]:
    """The description, built once per process from the built-in kinds."""
    paths: dict[str, Schema] = {}
    paths.update(_discovery("/api/", "getCoreAPIVersions", META + "APIVersions"))
    paths.update(_discovery("/apis/", "getAPIVersions", META + "APIGroupList"))
    paths.update(_discovery("/version/", "getCodeVersion", "io.k8s.apimachinery.pkg.version.Info"))
    for rtype in BUILTINS:
        resources = _operation_id("get", rtype, False, "").removesuffix(rtype.kind) + "APIResources"
        paths.update(_discovery(rtype.prefix + "/", resources, META + "APIResourceList"))
        for path, item in _paths(rtype).items():
            paths.setdefault(path, {}).update(item)
    return {"swagger": "2.0", "info": {"title": "Kubernetes (dtm emulator)", "version": "unversioned"},
            "paths": paths, "definitions": _definitions(), "parameters": {},
            "securityDefinitions": {"BearerToken": {"type": "apiKey", "name": "authorization", "in": "header",
                                                    "description": "Bearer Token authentication"}},
            "security": [{"BearerToken": []}]}
