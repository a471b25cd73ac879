"""Deletion: finalizers, propagation policies, namespace termination, CRD clean-up and garbage collection."""

from __future__ import annotations

from typing import Any

from . import errors
from .api import Api, now
from .resources import ResourceType
from .store import clone

#: Argo CD's application controller deletes an Application's deployed resources, then drops this.
ARGOCD_RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"
BACKGROUND = {"propagationPolicy": "Background"}
FOREGROUND = {"propagationPolicy": "Foreground"}


def delete(api: Api, rtype: ResourceType, namespace: str, name: str, options: dict[str, Any],
           dry_run: bool = False) -> dict[str, Any]:
    """Delete one object; the body returned is the object or a Success Status, as the server answers."""
    store = api.store
    with store.lock:
        obj = api.stored(rtype, namespace, name)
        meta = obj["metadata"]
        preconditions = options.get("preconditions") or {}
        for key, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
            if preconditions.get(key) and preconditions[key] != meta.get(key):
                raise errors.conflict(rtype.plural, rtype.group, name,
                                      f"Precondition failed: {label} in precondition: {preconditions[key]}, "
                                      f"{label} in object meta: {meta.get(key)}")
        policy = options.get("propagationPolicy")
        if policy is None and options.get("orphanDependents") is not None:
            policy = "Orphan" if options["orphanDependents"] else "Background"
        if dry_run:
            return api.render(rtype, obj)
        if rtype.plural == "namespaces" and not rtype.custom:
            return _terminate_namespace(api, rtype, obj)
        finalizers = list(meta.get("finalizers") or [])
        extra = {"Foreground": "foregroundDeletion", "Orphan": "orphan"}.get(policy or "")
        if extra and extra not in finalizers and _has_dependents(api, meta["uid"]):
            finalizers.append(extra)
        if finalizers:
            if meta.get("deletionTimestamp") and finalizers == meta.get("finalizers"):
                return api.render(rtype, obj)
            pending = clone(obj)
            pending["metadata"].update(deletionTimestamp=meta.get("deletionTimestamp") or now(),
                                       deletionGracePeriodSeconds=0, finalizers=finalizers)
            return api.render(rtype, store.put(rtype.group, rtype.plural, pending, "MODIFIED"))
        gone = remove(api, rtype, obj)
        if rtype.returns_object:
            return api.render(rtype, gone)
        details = {"name": name, **({"group": rtype.group} if rtype.group else {}), "kind": rtype.plural,
                   "uid": meta["uid"]}
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}


def remove(api: Api, rtype: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    """Take an object out of the store, with what its removal implies for CRDs."""
    meta = obj["metadata"]
    gone = api.store.remove(rtype.group, rtype.plural, meta.get("namespace", ""), meta["name"])
    if rtype.plural == "customresourcedefinitions" and not rtype.custom:
        spec = obj.get("spec", {})
        group, plural = spec.get("group", ""), spec.get("names", {}).get("plural", "")
        for instance in api.store.items(group, plural):
            instance_meta = instance["metadata"]
            api.store.remove(group, plural, instance_meta.get("namespace", ""), instance_meta["name"])
        api.registry.remove_crd(meta["name"])
    return gone or obj


def _terminate_namespace(api: Api, rtype: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    if obj["metadata"].get("deletionTimestamp"):
        return api.render(rtype, obj)
    terminating = clone(obj)
    terminating["metadata"].update(deletionTimestamp=now(), deletionGracePeriodSeconds=0)
    terminating["status"] = {"phase": "Terminating"}
    return api.render(rtype, api.store.put(rtype.group, rtype.plural, terminating, "MODIFIED"))


def _has_dependents(api: Api, uid: str) -> bool:
    return any(_owned_by(obj, uid) for group, plural in api.store.group_resources()
               for obj in api.store.items(group, plural))


def _owned_by(obj: dict[str, Any], uid: str) -> bool:
    return any(ref.get("uid") == uid for ref in obj["metadata"].get("ownerReferences") or [])


def _type_of(api: Api, group: str, plural: str) -> ResourceType | None:
    served = api.registry.served(group, plural)
    return served[0] if served else None


def reconcile_deletions(api: Api) -> bool:
    """One pass of the namespace controller and the garbage collector; True while deletions are pending."""
    store = api.store
    with store.lock:
        everything = [(group, plural, obj) for group, plural in store.group_resources()
                      for obj in store.items(group, plural)]
        uids = {obj["metadata"]["uid"] for _, _, obj in everything}
        for group, plural, obj in everything:
            rtype = _type_of(api, group, plural)
            if rtype is None:
                continue
            meta = obj["metadata"]
            if plural == "namespaces" and not group and meta.get("deletionTimestamp"):
                _finish_namespace(api, meta["name"])
            elif "foregroundDeletion" in (meta.get("finalizers") or []) and meta.get("deletionTimestamp"):
                _collect_dependents(api, meta["uid"], orphan=False)
                _drop_finalizer(api, rtype, obj, "foregroundDeletion")
            elif "orphan" in (meta.get("finalizers") or []) and meta.get("deletionTimestamp"):
                _collect_dependents(api, meta["uid"], orphan=True)
                _drop_finalizer(api, rtype, obj, "orphan")
            elif (plural == "applications" and group == "argoproj.io" and meta.get("deletionTimestamp")
                  and ARGOCD_RESOURCES_FINALIZER in (meta.get("finalizers") or [])):
                # The emulator deploys nothing for an Application, so the cascade is already done.
                _drop_finalizer(api, rtype, obj, ARGOCD_RESOURCES_FINALIZER)
            elif meta.get("ownerReferences") and not any(
                    ref.get("uid") in uids for ref in meta["ownerReferences"]):
                if store.get(group, plural, meta.get("namespace", ""), meta["name"]) is not None:
                    delete(api, rtype, meta.get("namespace", ""), meta["name"], BACKGROUND)
        return any(obj["metadata"].get("deletionTimestamp") for group, plural in store.group_resources()
                   for obj in store.items(group, plural))


def _collect_dependents(api: Api, uid: str, orphan: bool) -> None:
    for group, plural in api.store.group_resources():
        rtype = _type_of(api, group, plural)
        for obj in api.store.items(group, plural):
            if rtype is None or not _owned_by(obj, uid):
                continue
            meta = obj["metadata"]
            if orphan:
                released = clone(obj)
                released["metadata"]["ownerReferences"] = [
                    ref for ref in meta["ownerReferences"] if ref.get("uid") != uid]
                if not released["metadata"]["ownerReferences"]:
                    del released["metadata"]["ownerReferences"]
                api.store.put(group, plural, released, "MODIFIED")
            else:
                delete(api, rtype, meta.get("namespace", ""), meta["name"], FOREGROUND)


def _drop_finalizer(api: Api, rtype: ResourceType, obj: dict[str, Any], finalizer: str) -> None:
    if finalizer == "foregroundDeletion" and _has_dependents(api, obj["metadata"]["uid"]):
        return
    meta = obj["metadata"]
    left = [f for f in meta.get("finalizers") or [] if f != finalizer]
    if left:
        updated = clone(obj)
        updated["metadata"]["finalizers"] = left
        api.store.put(rtype.group, rtype.plural, updated, "MODIFIED")
    else:
        remove(api, rtype, obj)


def _finish_namespace(api: Api, namespace: str) -> None:
    """Delete what the namespace holds; the namespace goes once nothing is left in it."""
    remaining = False
    for group, plural in api.store.group_resources():
        rtype = _type_of(api, group, plural)
        if rtype is None or not rtype.namespaced:
            continue
        for obj in api.store.items(group, plural, namespace):
            remaining = True
            if not obj["metadata"].get("deletionTimestamp"):
                delete(api, rtype, namespace, obj["metadata"]["name"], BACKGROUND)
    if not remaining:
        ns_type = _type_of(api, "", "namespaces")
        found = api.store.get("", "namespaces", "", namespace)
        if ns_type is not None and found is not None:
            remove(api, ns_type, found)
