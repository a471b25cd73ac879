"""Server-side printing: ``meta.k8s.io/v1`` Tables for ``kubectl get``, with each kind's usual columns."""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Callable
from typing import Any

from .resources import ResourceType

Column = tuple[str, str, int, Callable[[dict[str, Any]], Any]]  # name, type, priority, cell
NAME_HELP = ("Name must be unique within a namespace. Is required when creating resources, although some "
             "resources may allow a client to request the generation of an appropriate name automatically. "
             "Name is primarily intended for creation idempotence and configuration definition. Cannot be "
             "updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names")
TABLE_MEDIA = "as=Table"


def human_age(timestamp: str | None) -> str:
    if not timestamp:
        return "<unknown>"
    seconds = max(int(time.time()) - calendar.timegm(time.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ")), 0)
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 120:
        return f"{seconds}s"
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if hours < 3:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    return f"{days}d"


def _path(obj: Any, json_path: str) -> Any:
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", json_path):
        if part.startswith("["):
            index = int(part[1:-1])
            obj = obj[index] if isinstance(obj, list) and index < len(obj) else None
        else:
            obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def _get(path: str, default: Any = "") -> Callable[[dict[str, Any]], Any]:
    return lambda obj: _default(_path(obj, path), default)


def _default(value: Any, default: Any) -> Any:
    return default if value is None else value


def _ports(obj: dict[str, Any]) -> str:
    ports = obj.get("spec", {}).get("ports") or []
    return ",".join(f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in ports) or "<none>"


def _ready(obj: dict[str, Any]) -> str:
    status = obj.get("status") or {}
    return f"{status.get('readyReplicas', 0)}/{obj.get('spec', {}).get('replicas', 1)}"


def _images(obj: dict[str, Any]) -> str:
    containers = obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
    return ",".join(str(c.get("image", "")) for c in containers)


def _names(obj: dict[str, Any]) -> str:
    containers = obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
    return ",".join(str(c.get("name", "")) for c in containers)


AGE: Column = ("Age", "string", 0, lambda obj: human_age(obj["metadata"].get("creationTimestamp")))
COLUMNS: dict[str, list[Column]] = {
    "deployments": [("Ready", "string", 0, _ready),
                    ("Up-to-date", "integer", 0, _get("status.updatedReplicas", 0)),
                    ("Available", "integer", 0, _get("status.availableReplicas", 0)), AGE,
                    ("Containers", "string", 1, _names), ("Images", "string", 1, _images)],
    "statefulsets": [("Ready", "string", 0, _ready), AGE],
    "services": [("Type", "string", 0, _get("spec.type")),
                 ("Cluster-IP", "string", 0, _get("spec.clusterIP")),
                 ("External-IP", "string", 0, lambda obj: "<none>"), ("Port(s)", "string", 0, _ports), AGE],
    "configmaps": [("Data", "integer", 0,
                    lambda obj: len(obj.get("data") or {}) + len(obj.get("binaryData") or {})), AGE],
    "secrets": [("Type", "string", 0, _get("type")),
                ("Data", "integer", 0, lambda obj: len(obj.get("data") or {})), AGE],
    "namespaces": [("Status", "string", 0, _get("status.phase")), AGE],
    "pods": [("Status", "string", 0, _get("status.phase", "Pending")), AGE],
    "persistentvolumeclaims": [("Status", "string", 0, _get("status.phase")), AGE],
    "customresourcedefinitions": [("Created At", "date", 0, _get("metadata.creationTimestamp"))],
}


def _columns(rtype: ResourceType) -> list[Column]:
    if rtype.custom:
        columns: list[Column] = [
            (c["name"], c.get("type", "string"), c.get("priority", 0), _get(c["jsonPath"].lstrip("."), None))
            for c in rtype.printer_columns]
        if not any(c[0] == "Age" for c in columns):
            columns.append(AGE)
        return columns
    return COLUMNS.get(rtype.plural, [AGE])


def table(rtype: ResourceType, objects: list[dict[str, Any]], list_meta: dict[str, Any]) -> dict[str, Any]:
    columns = [("Name", "string", 0, _get("metadata.name")), *_columns(rtype)]
    definitions = [{"name": name, "type": kind, "format": "name" if name == "Name" else "",
                    "description": NAME_HELP if name == "Name" else name, "priority": priority}
                   for name, kind, priority, _ in columns]
    rows = [{"cells": [cell(obj) for _, _, _, cell in columns],
             "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                        "metadata": obj["metadata"]}} for obj in objects]
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta,
            "columnDefinitions": definitions, "rows": rows}
