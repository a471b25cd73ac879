"""Discovery documents: ``/version``, ``/api``, ``/apis`` and the per group-version resource lists."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from .resources import Registry, ResourceType

SUBRESOURCE_VERBS = ["get", "patch", "update"]


def version_info(git_version: str) -> dict[str, Any]:
    major, minor = git_version.lstrip("v").split(".")[:2]
    return {"major": major, "minor": minor, "emulationMajor": major, "emulationMinor": minor,
            "minCompatibilityMajor": major, "minCompatibilityMinor": str(max(int(minor) - 1, 0)),
            "gitVersion": git_version, "gitCommit": "0" * 40, "gitTreeState": "clean",
            "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.25.0", "compiler": "gc",
            "platform": "linux/amd64"}


def api_versions(address: str) -> dict[str, Any]:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}]}


def _group(name: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def api_group_list(registry: Registry) -> dict[str, Any]:
    groups = [_group(name, versions) for name, versions in registry.groups().items() if name]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(registry: Registry, name: str) -> dict[str, Any] | None:
    versions = registry.groups().get(name)
    if not name or not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def _storage_hash(rtype: ResourceType) -> str:
    digest = hashlib.sha256(f"{rtype.group}/{rtype.version}/{rtype.kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


def _resource(rtype: ResourceType) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": rtype.plural, "singularName": rtype.singular,
                             "namespaced": rtype.namespaced, "kind": rtype.kind, "verbs": list(rtype.verbs)}
    if rtype.short_names:
        entry["shortNames"] = list(rtype.short_names)
    if rtype.categories:
        entry["categories"] = list(rtype.categories)
    entry["storageVersionHash"] = _storage_hash(rtype)
    return entry


def resource_list(registry: Registry, group: str, version: str) -> dict[str, Any] | None:
    types = sorted((t for t in registry.all() if t.group == group and t.version == version),
                   key=lambda t: t.plural)
    if not types:
        return None
    resources = []
    for rtype in types:
        resources.append(_resource(rtype))
        if rtype.status:
            resources.append({"name": f"{rtype.plural}/status", "singularName": "",
                              "namespaced": rtype.namespaced, "kind": rtype.kind,
                              "verbs": SUBRESOURCE_VERBS})
        if rtype.scalable:
            resources.append({"name": f"{rtype.plural}/scale", "singularName": "", "namespaced": True,
                              "group": "autoscaling", "version": "v1", "kind": "Scale",
                              "verbs": SUBRESOURCE_VERBS})
    group_version = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
            "resources": resources}
