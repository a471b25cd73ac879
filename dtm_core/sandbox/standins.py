"""Stand-in Argo CD releases, written by dtm: the release's component names, none of its content.

dtm ships no copy of upstream artifacts. For the sandbox's release mirror it writes, for any
version asked, a small manifest with the objects a cluster and ``kubectl`` see of an Argo CD
install: the ``argoproj.io`` CRDs (so Applications can be created), service accounts, the
cluster role bindings dtm fits to the namespace, services, and the workloads named as upstream
names them (``argocd-server`` …) running ``quay.io/argoproj/argocd:v<version>``, which is how
the ``argocd`` tool reads the version back. The Kubernetes emulator makes them ready; nothing
here would run Argo CD on a real cluster, and every object says so in an annotation.
"""

from __future__ import annotations

import re
from typing import Any

#: The release files the mirror serves, as paths under raw.githubusercontent.com.
RELEASE_PATH = re.compile(r"^argoproj/argo-cd/v(?P<version>[0-9][0-9A-Za-z.+-]{0,40})/manifests/"
                          r"(?P<ha>ha/)?install\.yaml$")
STAND_IN = "sandbox.dtm.dev/stand-in"
HEADER = ("# A stand-in for Argo CD {version}'s {name}, written by dtm's sandbox (dtm sandbox up).\n"
          "# It has the release's component names and none of its content: it is for the sandbox's\n"
          "# Kubernetes emulator only, never for a real cluster.\n")

_COMPONENT = "app.kubernetes.io/component"
_NAME = "app.kubernetes.io/name"
_PART_OF = {"app.kubernetes.io/part-of": "argocd"}
_ANNOTATIONS = {STAND_IN: "true"}

#: name -> (component, image kind, ports): every workload of the release and its Service's ports.
_DEPLOYMENTS: dict[str, tuple[str, str, tuple[int, ...]]] = {
    "argocd-applicationset-controller": ("applicationset-controller", "argocd", (7000,)),
    "argocd-dex-server": ("dex-server", "dex", (5556, 5557)),
    "argocd-notifications-controller": ("notifications-controller", "argocd", ()),
    "argocd-redis": ("redis", "redis", (6379,)),
    "argocd-repo-server": ("repo-server", "argocd", (8081,)),
    "argocd-server": ("server", "argocd", (80, 443)),
}
_CONTROLLER = "argocd-application-controller"
_IMAGES = {"dex": "ghcr.io/dexidp/dex:v2.45.0", "redis": "public.ecr.aws/docker/library/redis:8.2.3-alpine"}
#: Custom resources of the release: (plural, kind, short names); Application first.
_CRDS = (("applications", "Application", ["app", "apps"]),
         ("applicationsets", "ApplicationSet", ["appset", "appsets"]),
         ("appprojects", "AppProject", ["appproj", "appprojs"]))
_CLUSTER_ROLES = (_CONTROLLER, "argocd-server")


def release_file(path: str) -> bytes | None:
    """The stand-in for a path under raw.githubusercontent.com, or None when it is not one."""
    match = RELEASE_PATH.match(path)
    if match is None:
        return None
    version, ha = match["version"], bool(match["ha"])
    import yaml

    name = "ha/install.yaml" if ha else "install.yaml"
    documents = yaml.safe_dump_all(install_objects(version, ha=ha), sort_keys=False)
    return (HEADER.format(version=version, name=name) + documents).encode("utf-8")


def install_objects(version: str, *, ha: bool = False) -> list[dict[str, Any]]:
    """The objects of the stand-in install manifest, in the order upstream lists their kinds."""
    names = sorted([*_DEPLOYMENTS, _CONTROLLER])
    objects: list[dict[str, Any]] = [_crd(*crd) for crd in _CRDS]
    objects += [_object("v1", "ServiceAccount", name, _component(name)) for name in names]
    rbac = "rbac.authorization.k8s.io"
    read_all = {"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch"]}
    for name in _CLUSTER_ROLES:
        objects.append({**_object(f"{rbac}/v1", "ClusterRole", name, _component(name)),
                        "rules": [read_all]})
    for name in _CLUSTER_ROLES:
        objects.append({**_object(f"{rbac}/v1", "ClusterRoleBinding", name, _component(name)),
                        "roleRef": {"apiGroup": rbac, "kind": "ClusterRole", "name": name},
                        # Upstream names the namespace it expects; dtm's argocd tool rewrites it.
                        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": "argocd"}]})
    objects.append({**_object("v1", "ConfigMap", "argocd-cm", "server"),
                    "data": {"sandbox": "a stand-in written by dtm; Argo CD's settings are not here"}})
    for name in sorted(_DEPLOYMENTS):
        component, _, ports = _DEPLOYMENTS[name]
        if ports:
            objects.append({**_object("v1", "Service", name, component), "spec": {
                "selector": {_NAME: name},
                "ports": [{"name": f"port-{port}", "port": port, "targetPort": port, "protocol": "TCP"}
                          for port in ports]}})
    for name in sorted(_DEPLOYMENTS):
        component, image, ports = _DEPLOYMENTS[name]
        replicas = 2 if ha and name in ("argocd-server", "argocd-repo-server") else 1
        objects.append(_workload("Deployment", name, component, _image(image, version), ports, replicas))
    objects.append(_workload("StatefulSet", _CONTROLLER, "application-controller",
                             _image("argocd", version), (), 1))
    return objects


def _component(name: str) -> str:
    return _DEPLOYMENTS[name][0] if name in _DEPLOYMENTS else "application-controller"


def _image(kind: str, version: str) -> str:
    return _IMAGES.get(kind) or f"quay.io/argoproj/argocd:v{version}"


def _object(api_version: str, kind: str, name: str, component: str) -> dict[str, Any]:
    labels = {_NAME: name, _COMPONENT: component, **_PART_OF}
    return {"apiVersion": api_version, "kind": kind,
            "metadata": {"name": name, "labels": labels, "annotations": dict(_ANNOTATIONS)}}


def _workload(kind: str, name: str, component: str, image: str, ports: tuple[int, ...],
              replicas: int) -> dict[str, Any]:
    container: dict[str, Any] = {"name": component, "image": image, "command": [name]}
    if ports:
        container["ports"] = [{"containerPort": port} for port in ports]
    spec: dict[str, Any] = {
        "replicas": replicas,
        "selector": {"matchLabels": {_NAME: name}},
        "template": {"metadata": {"labels": {_NAME: name}},
                     "spec": {"serviceAccountName": name,
                              "containers": [container]}},
    }
    if kind == "StatefulSet":
        spec["serviceName"] = name
    return {**_object("apps/v1", kind, name, component), "spec": spec}


def _crd(plural: str, kind: str, short_names: list[str]) -> dict[str, Any]:
    """A CRD the emulator (and a real API server) accepts; fields are kept, not validated."""
    keep = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    version: dict[str, Any] = {
        "name": "v1alpha1", "served": True, "storage": True, "subresources": {},
        "schema": {"openAPIV3Schema": {"type": "object", "required": ["metadata", "spec"],
                                       "properties": {"apiVersion": {"type": "string"},
                                                      "kind": {"type": "string"},
                                                      "metadata": {"type": "object"},
                                                      "spec": keep, "status": keep}}},
    }
    if kind == "Application":
        # The columns `kubectl get applications` shows, as upstream declares them.
        version["additionalPrinterColumns"] = [
            {"jsonPath": ".status.sync.status", "name": "Sync Status", "type": "string"},
            {"jsonPath": ".status.health.status", "name": "Health Status", "type": "string"}]
    name = f"{plural}.argoproj.io"
    metadata = {"name": name, "labels": {_NAME: name, **_PART_OF}, "annotations": dict(_ANNOTATIONS)}
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": metadata,
            "spec": {"group": "argoproj.io", "scope": "Namespaced",
                     "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural,
                               "singular": kind.lower(), "shortNames": short_names},
                     "versions": [version]}}
