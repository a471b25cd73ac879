"""The resource types the emulator serves: the built-in kinds and those CRDs register at run time."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    """One served resource: what discovery lists and what the store keys objects by."""

    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    status: bool = False  # has a ``/status`` subresource
    generation: bool = False  # the server keeps metadata.generation
    returns_object: bool = False  # DELETE answers with the object rather than a Status
    custom: bool = False
    crd_name: str = ""
    schema: dict[str, Any] | None = field(default=None, compare=False, hash=False)
    printer_columns: tuple[dict[str, Any], ...] = field(default=(), compare=False, hash=False)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def group_resource(self) -> tuple[str, str]:
        return (self.group, self.plural)

    @property
    def scalable(self) -> bool:
        """Whether the kind has a ``/scale`` subresource (the built-in workloads)."""
        return not self.custom and self.plural in ("deployments", "statefulsets")

    @property
    def prefix(self) -> str:
        """The URL prefix of the group version: ``/api/v1`` or ``/apis/apps/v1``."""
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"


def _builtin(group: str, plural: str, kind: str, namespaced: bool = True, *, short: tuple[str, ...] = (),
             categories: tuple[str, ...] = (), status: bool = False, generation: bool = False,
             returns_object: bool = False, verbs: tuple[str, ...] = ALL_VERBS) -> ResourceType:
    return ResourceType(group=group, version="v1", plural=plural, singular=kind.lower(), kind=kind,
                        namespaced=namespaced, short_names=short, categories=categories, verbs=verbs,
                        status=status, generation=generation, returns_object=returns_object)


# The kinds of the trimmed spec, with the properties the real server registers for them
# (short names, categories, status subresource, whether DELETE returns the object).
BUILTINS: tuple[ResourceType, ...] = (
    _builtin("", "namespaces", "Namespace", False, short=("ns",), status=True, returns_object=True,
             verbs=("create", "delete", "get", "list", "patch", "update", "watch")),
    _builtin("", "configmaps", "ConfigMap", short=("cm",)),
    _builtin("", "secrets", "Secret"),
    _builtin("", "services", "Service", short=("svc",), categories=("all",), status=True,
             returns_object=True,
             verbs=("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")),
    _builtin("", "serviceaccounts", "ServiceAccount", short=("sa",), returns_object=True),
    _builtin("", "persistentvolumeclaims", "PersistentVolumeClaim", short=("pvc",), status=True,
             returns_object=True),
    _builtin("", "pods", "Pod", short=("po",), categories=("all",), status=True, returns_object=True),
    _builtin("apps", "deployments", "Deployment", short=("deploy",), categories=("all",), status=True,
             generation=True),
    _builtin("apps", "statefulsets", "StatefulSet", short=("sts",), categories=("all",), status=True,
             generation=True),
    _builtin("rbac.authorization.k8s.io", "roles", "Role"),
    _builtin("rbac.authorization.k8s.io", "rolebindings", "RoleBinding"),
    _builtin("rbac.authorization.k8s.io", "clusterroles", "ClusterRole", False),
    _builtin("rbac.authorization.k8s.io", "clusterrolebindings", "ClusterRoleBinding", False),
    _builtin("networking.k8s.io", "networkpolicies", "NetworkPolicy", short=("netpol",), generation=True),
    _builtin("coordination.k8s.io", "leases", "Lease"),
    _builtin("apiextensions.k8s.io", "customresourcedefinitions", "CustomResourceDefinition", False,
             short=("crd", "crds"), status=True, generation=True),
)

BUILTIN_GROUPS = ("", "apps", "rbac.authorization.k8s.io", "networking.k8s.io", "coordination.k8s.io",
                  "apiextensions.k8s.io")


def types_from_crd(crd: dict[str, Any]) -> list[ResourceType]:
    """The resource types one CustomResourceDefinition serves, one per served version."""
    spec = crd.get("spec", {})
    names = spec.get("names", {})
    kind = names.get("kind", "")
    found = []
    for version in spec.get("versions", []):
        if not version.get("served", True):
            continue
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        found.append(ResourceType(
            group=spec.get("group", ""), version=version["name"], plural=names.get("plural", ""),
            singular=names.get("singular") or kind.lower(), kind=kind,
            namespaced=spec.get("scope", "Namespaced") == "Namespaced",
            short_names=tuple(names.get("shortNames", ())), categories=tuple(names.get("categories", ())),
            status="status" in (version.get("subresources") or {}), generation=True, custom=True,
            crd_name=crd["metadata"]["name"], schema=schema,
            printer_columns=tuple(version.get("additionalPrinterColumns", ()))))
    return found


class Registry:
    """Every served type, looked up by URL parts, by kind or by a name kubectl would type."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._types: dict[tuple[str, str, str], ResourceType] = {
            (t.group, t.version, t.plural): t for t in BUILTINS}

    def add_crd(self, crd: dict[str, Any]) -> None:
        with self._lock:
            self._drop(crd["metadata"]["name"])
            for rtype in types_from_crd(crd):
                self._types[(rtype.group, rtype.version, rtype.plural)] = rtype

    def remove_crd(self, name: str) -> None:
        with self._lock:
            self._drop(name)

    def _drop(self, crd_name: str) -> None:
        for key in [key for key, t in self._types.items() if t.custom and t.crd_name == crd_name]:
            del self._types[key]

    def all(self) -> list[ResourceType]:
        with self._lock:
            return list(self._types.values())

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        with self._lock:
            return self._types.get((group, version, plural))

    def served(self, group: str, plural: str) -> list[ResourceType]:
        """Every version of a group resource (the store keeps one copy for them all)."""
        with self._lock:
            return [t for t in self._types.values() if t.group == group and t.plural == plural]

    def find(self, name: str) -> ResourceType | None:
        """A type by kind, plural, singular or short name, case-insensitively (for in-process access)."""
        wanted = name.lower()
        for rtype in self.all():
            if wanted in (rtype.kind.lower(), rtype.plural, rtype.singular, *rtype.short_names):
                return rtype
        return None

    def groups(self) -> dict[str, list[str]]:
        """Group name to served versions, built-in groups first as the real server orders them."""
        found: dict[str, list[str]] = {group: [] for group in BUILTIN_GROUPS}
        for rtype in sorted(self.all(), key=lambda t: (t.group, t.version)):
            versions = found.setdefault(rtype.group, [])
            if rtype.version not in versions:
                versions.append(rtype.version)
        return {group: versions for group, versions in found.items() if versions}
