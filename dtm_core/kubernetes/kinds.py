"""From (apiVersion, kind) to the lightkube resource class that knows its URL, for any kind a cluster serves.

Built-in kinds come from lightkube-models. Custom kinds get lightkube *generic resources*
(:mod:`lightkube.generic_resource`), made from a CustomResourceDefinition: one dtm just applied,
or else one found on the cluster. lightkube keeps generic resources in a process-wide registry,
so a kind learned once is known to every client afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from lightkube import Client
from lightkube.core import resource as lkres
from lightkube.core.exceptions import LoadResourceError
from lightkube.core.resource_registry import resource_registry
from lightkube.generic_resource import (
    create_global_resource,
    create_namespaced_resource,
    create_resources_from_crd,
)
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition

from ..errors import OperationError
from .apierrors import ErrorMapper

__all__ = ["KindResolver", "ResourceType", "is_namespaced"]

# Typed as namespaced although cluster-scoped classes are ResourceTypes too: lightkube's overloads are
# split by scope, and it ignores the namespace argument for cluster-scoped classes, so one call shape
# with ``namespace=None`` serves both.
ResourceType = type[lkres.NamespacedResource]


def is_namespaced(resource: type[lkres.Resource]) -> bool:
    return issubclass(resource, lkres.NamespacedResource)


def _clash(kind: str, error: ValueError) -> OperationError:
    # lightkube refuses a second, different class for one kind: the CRD changed scope while dtm ran.
    return OperationError(f"cannot use kind {kind}: {error}",
                          hint="its CustomResourceDefinition changed while dtm was running; run dtm again")


class KindResolver:
    """Finds resource classes; asks the cluster (one list of CRDs) only for kinds it does not know yet."""

    def __init__(self, client: Client, errors: ErrorMapper) -> None:
        self._client = client
        self._errors = errors

    @staticmethod
    def known(api_version: str, kind: str) -> ResourceType | None:
        """The class lightkube already has for this kind (built-in or learned), else None."""
        try:
            return cast(ResourceType, resource_registry.load(api_version, kind))
        except LoadResourceError:
            return None

    def learn(self, crd: Mapping[str, Any]) -> None:
        """Make the kinds a CustomResourceDefinition (a dict, as in a manifest) defines known."""
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        create = create_namespaced_resource if spec.get("scope") == "Namespaced" else create_global_resource
        for version in spec.get("versions") or []:
            try:
                create(spec["group"], version["name"], names["kind"], names["plural"])
            except ValueError as error:
                raise _clash(str(names.get("kind")), error) from error

    def resolve(self, api_version: str, kind: str) -> ResourceType | None:
        """The class for this kind, or None when the cluster has no CustomResourceDefinition for it."""
        found = self.known(api_version, kind)
        if found is not None:
            return found
        group, _, version = api_version.rpartition("/")
        with self._errors("list", "customresourcedefinitions.apiextensions.k8s.io"):
            crds = list(self._client.list(CustomResourceDefinition))
        for crd in crds:
            spec = crd.spec
            served = any(item.name == version for item in spec.versions)
            if spec.group == group and spec.names.kind == kind and served:
                try:
                    create_resources_from_crd(crd)
                except ValueError as error:
                    raise _clash(kind, error) from error
                return self.known(api_version, kind)
        return None
