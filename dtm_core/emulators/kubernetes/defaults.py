"""What the real server's per-kind strategies do on write: defaulting, initial status and validation."""

from __future__ import annotations

import base64
import itertools
import json
import re
from collections.abc import Callable
from typing import Any

from .resources import ResourceType
from .selectors import match_labels

Cause = tuple[str, str, str]  # (field, cause type, message)
ANNOTATIONS_LIMIT = 262144
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN_HELP = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
                   "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
                   "used for validation is "
                   "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
_LABEL_HELP = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
               "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
               "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
_cluster_ips = itertools.count(1)


def _pod_template(template: dict[str, Any]) -> None:
    spec = template.setdefault("spec", {})
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for container in [*spec.get("initContainers", []), *spec.get("containers", [])]:
        image = str(container.get("image", ""))
        latest = ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")
        container.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
        container.setdefault("terminationMessagePath", "/dev/termination-log")
        container.setdefault("terminationMessagePolicy", "File")
        container.setdefault("resources", {})
        for port in container.get("ports", []):
            port.setdefault("protocol", "TCP")


def _deployment(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        strategy.setdefault("rollingUpdate", {}).setdefault("maxUnavailable", "25%")
        strategy["rollingUpdate"].setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    _pod_template(spec.setdefault("template", {}))


def _statefulset(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    strategy = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
    if strategy.get("type") == "RollingUpdate":
        strategy.setdefault("rollingUpdate", {}).setdefault("partition", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"})
    for claim in spec.get("volumeClaimTemplates", []):
        claim.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
    _pod_template(spec.setdefault("template", {}))


def _service(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    for port in spec.get("ports", []):
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port.get("port"))
    if spec["type"] != "ExternalName":
        if not spec.get("clusterIP"):
            number = next(_cluster_ips)
            spec["clusterIP"] = f"10.96.{number // 250 % 250}.{number % 250 + 1}"
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")


def _secret(obj: dict[str, Any]) -> None:
    obj.setdefault("type", "Opaque")
    string_data = obj.pop("stringData", None) or {}
    if string_data:
        data = obj.setdefault("data", {})
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()


def _pvc(obj: dict[str, Any]) -> None:
    obj.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")


DEFAULTERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "deployments": _deployment, "statefulsets": _statefulset, "services": _service, "secrets": _secret,
    "persistentvolumeclaims": _pvc,
}


def apply_defaults(rtype: ResourceType, obj: dict[str, Any]) -> None:
    """Fill the fields the real server defaults when it decodes a built-in object."""
    if not rtype.custom and rtype.plural in DEFAULTERS:
        DEFAULTERS[rtype.plural](obj)


def initial_status(rtype: ResourceType, obj: dict[str, Any], now: str) -> None:
    """The status a new object starts with (clients cannot set it on create when /status exists)."""
    if rtype.plural == "namespaces" and not rtype.custom:
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj["status"] = {"phase": "Active"}
    elif rtype.plural == "customresourcedefinitions":
        names = dict(obj.get("spec", {}).get("names", {}))
        names.setdefault("singular", names.get("kind", "").lower())
        names.setdefault("listKind", names.get("kind", "") + "List")
        stored = [v["name"] for v in obj.get("spec", {}).get("versions", []) if v.get("storage")]
        obj["status"] = {"acceptedNames": names, "storedVersions": stored, "conditions": [
            {"type": "NamesAccepted", "status": "True", "lastTransitionTime": now, "reason": "NoConflicts",
             "message": "no conflicts found"},
            {"type": "Established", "status": "True", "lastTransitionTime": now,
             "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"}]}
    elif rtype.plural == "services" and not rtype.custom:
        obj["status"] = {"loadBalancer": {}}
    elif rtype.plural == "persistentvolumeclaims" and not rtype.custom:
        obj["status"] = {"phase": "Pending"}
    elif rtype.plural == "statefulsets" and not rtype.custom:
        obj["status"] = {"replicas": 0, "availableReplicas": 0}  # fields Go always serialises
    elif rtype.status:
        obj["status"] = {}


def validate(rtype: ResourceType, obj: dict[str, Any]) -> list[Cause]:
    """The 422 causes the real server would report for this object (a useful subset)."""
    causes: list[Cause] = []
    meta = obj.get("metadata", {})
    name = meta.get("name", "")
    pattern, help_text = (_LABEL, _LABEL_HELP) if rtype.plural in ("namespaces", "services") else (
        _SUBDOMAIN, _SUBDOMAIN_HELP)
    if not name:
        causes.append(("metadata.name", "FieldValueRequired",
                       "Required value: name or generateName is required"))
    elif not pattern.match(name) or len(name) > 253:
        causes.append(("metadata.name", "FieldValueInvalid", f'Invalid value: "{name}": {help_text}'))
    size = sum(len(k) + len(str(v)) for k, v in (meta.get("annotations") or {}).items())
    if size > ANNOTATIONS_LIMIT:
        causes.append(("metadata.annotations", "FieldValueTooLong",
                       f"Too long: may not be more than {ANNOTATIONS_LIMIT} bytes"))
    if rtype.plural in ("deployments", "statefulsets") and not rtype.custom:
        causes += _validate_workload(obj.get("spec", {}))
    if rtype.plural == "customresourcedefinitions":
        spec = obj.get("spec", {})
        expected = f"{spec.get('names', {}).get('plural', '')}.{spec.get('group', '')}"
        if name and name != expected:
            causes.append(("metadata.name", "FieldValueInvalid",
                           f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group'))
    return causes


def _validate_workload(spec: dict[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    selector = spec.get("selector")
    labels = spec.get("template", {}).get("metadata", {}).get("labels") or {}
    if not selector:
        causes.append(("spec.selector", "FieldValueRequired", "Required value"))
    elif not match_labels(selector, labels):
        shown = "map[string]string{" + ", ".join(f"{json.dumps(k)}:{json.dumps(v)}"
                                                 for k, v in sorted(labels.items())) + "}"
        causes.append(("spec.template.metadata.labels", "FieldValueInvalid",
                       f"Invalid value: {shown}: `selector` does not match template `labels`"))
    if not spec.get("template", {}).get("spec", {}).get("containers"):
        causes.append(("spec.template.spec.containers", "FieldValueRequired", "Required value"))
    return causes
