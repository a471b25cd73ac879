"""The ``/scale`` subresource of Deployments and StatefulSets, as ``kubectl scale`` uses it."""

from __future__ import annotations

from typing import Any

from . import errors
from .api import Api, WriteOptions
from .patching import json_patch, merge_patch
from .resources import ResourceType


def _selector(obj: dict[str, Any]) -> str:
    labels = (obj.get("spec", {}).get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))


def scale_of(obj: dict[str, Any]) -> dict[str, Any]:
    """An ``autoscaling/v1`` Scale for a workload."""
    meta = obj["metadata"]
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {key: meta[key] for key in ("name", "namespace", "uid", "resourceVersion",
                                                     "creationTimestamp") if key in meta},
            "spec": {"replicas": obj.get("spec", {}).get("replicas", 1)},
            "status": {"replicas": (obj.get("status") or {}).get("replicas", 0), "selector": _selector(obj)}}


def get_scale(api: Api, rtype: ResourceType, namespace: str, name: str) -> dict[str, Any]:
    return scale_of(api.get(rtype, namespace, name))


def write_scale(api: Api, rtype: ResourceType, namespace: str, name: str, patch_type: str | None, body: Any,
                options: WriteOptions) -> dict[str, Any]:
    """Replace (``patch_type`` None) or patch the Scale, then carry its replicas to the workload."""
    with api.store.lock:
        current = scale_of(api.get(rtype, namespace, name))
        if patch_type is None:
            wanted = body
        elif patch_type == "json":
            wanted = json_patch(current, body)
        elif patch_type in ("merge", "strategic"):
            wanted = merge_patch(current, body)
        else:
            raise errors.unsupported_patch(["application/json-patch+json", "application/merge-patch+json",
                                            "application/strategic-merge-patch+json"])
        replicas = (wanted.get("spec") or {}).get("replicas") if isinstance(wanted, dict) else None
        if not isinstance(replicas, int) or replicas < 0:
            raise errors.invalid("Scale", "autoscaling", name, [
                ("spec.replicas", "FieldValueInvalid",
                 f"Invalid value: {replicas}: must be greater than or equal to 0")])
        given = (wanted.get("metadata") or {}).get("resourceVersion")
        if given and given != current["metadata"]["resourceVersion"]:
            raise errors.stale(rtype.plural, rtype.group, name)
        updated, _ = api.patch(rtype, namespace, name, "strategic", {"spec": {"replicas": replicas}}, "",
                               options)
        return scale_of(updated)

