"""Manifests as dtm applies them: parsing, references to objects, dependency order and dtm's labels."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import yaml

from ..errors import InvalidInputError

__all__ = [
    "INSTANCE_LABEL",
    "MANAGED_BY_LABEL",
    "Manifests",
    "ObjectRef",
    "load_manifests",
    "managed_labels",
    "tier",
]

#: Set to ``dtm`` on every object dtm applies (the label Helm and others use for the same purpose).
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
#: Set to the tool instance's address (``argocd.main``) on every object dtm applies for it.
INSTANCE_LABEL = "dtm.dev/instance"

#: YAML text (one or more documents), one object as a mapping, or a sequence mixing both.
Manifests: TypeAlias = "str | Mapping[str, Any] | Iterable[str | Mapping[str, Any]]"

_LABEL_VALUE_RE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_BASE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BASE_LOADER):  # type: ignore[misc,valid-type]
    """YAML 1.1 as kubectl reads it, except that timestamps stay strings (JSON has no datetimes)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BASE_LOADER.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class ObjectRef:
    """Names one Kubernetes object; ``namespace`` is None for cluster-scoped kinds."""

    api_version: str
    kind: str
    name: str
    namespace: str | None = None

    @property
    def group(self) -> str:
        """The API group (``apps``; empty for the core group)."""
        return self.api_version.rpartition("/")[0]

    def __str__(self) -> str:
        """How messages name it: ``deployment argocd/argocd-server`` or ``namespace argocd``."""
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind.lower()} {where}"

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> ObjectRef:
        """The reference to an object given as a manifest or as the server returned it."""
        meta = obj.get("metadata") or {}
        return cls(str(obj["apiVersion"]), str(obj["kind"]), str(meta["name"]), meta.get("namespace") or None)


def tier(kind: str, api_version: str) -> int:
    """Apply order: Namespaces, then CustomResourceDefinitions, then everything else."""
    if kind == "Namespace" and api_version == "v1":
        return 0
    if kind == "CustomResourceDefinition" and api_version.startswith("apiextensions.k8s.io/"):
        return 1
    return 2


def managed_labels(instance: str) -> dict[str, str]:
    """The labels marking an object as managed by dtm for ``instance`` (a tool's ``tool.instance``)."""
    if not instance or len(instance) > 63 or not _LABEL_VALUE_RE.match(instance):
        raise InvalidInputError(
            f"instance {instance!r} cannot be a Kubernetes label value",
            hint="use at most 63 letters, digits, '-', '_' or '.', "
                 "starting and ending with a letter or digit")
    return {MANAGED_BY_LABEL: "dtm", INSTANCE_LABEL: instance}


def _documents(manifests: Manifests) -> Iterable[tuple[str, Any]]:
    """(where, document) for every document, ``where`` naming it for error messages."""
    parts: Iterable[str | Mapping[str, Any]]
    parts = [manifests] if isinstance(manifests, str | Mapping) else manifests
    for index, part in enumerate(parts, start=1):
        if isinstance(part, str):
            try:
                for number, document in enumerate(yaml.load_all(part, Loader=_Loader), start=1):
                    yield f"document {number}", document
            except yaml.YAMLError as error:
                first = " ".join(str(error).split())
                raise InvalidInputError(
                    f"manifest is not valid YAML: {first}",
                    hint="check it with 'kubectl apply --dry-run=client -f FILE'") from error
        else:
            yield f"object {index}", part


def _flatten(where: str, document: Any) -> Iterable[tuple[str, Any]]:
    # kubectl accepts ``kind: List`` (and any ``*List``) and applies its items.
    if isinstance(document, Mapping) and str(document.get("kind", "")).endswith("List") \
            and isinstance(document.get("items"), list):
        for number, item in enumerate(document["items"], start=1):
            yield from _flatten(f"{where}, item {number}", item)
    else:
        yield where, document


def load_manifests(manifests: Manifests) -> list[dict[str, Any]]:
    """Every object in ``manifests`` as a fresh dict, empty documents skipped, in the order given."""
    objects: list[dict[str, Any]] = []
    for where, document in (pair for outer in _documents(manifests) for pair in _flatten(*outer)):
        if document is None:
            continue
        if not isinstance(document, Mapping):
            raise InvalidInputError(f"manifest {where} is not a mapping",
                                    hint="each document must be one Kubernetes object")
        obj = copy.deepcopy(dict(document))
        meta = obj.get("metadata")
        missing = [key for key in ("apiVersion", "kind") if not obj.get(key)]
        if not isinstance(meta, Mapping) or not meta.get("name"):
            missing.append("metadata.name")
        if missing:
            kind = obj.get("kind") or "no kind"
            raise InvalidInputError(f"manifest {where} ({kind}) has no {', '.join(missing)}",
                                    hint="each object needs apiVersion, kind and metadata.name to be applied")
        objects.append(obj)
    return objects


def labelled(obj: Mapping[str, Any], labels: Mapping[str, str]) -> dict[str, Any]:
    """A copy of ``obj`` with ``labels`` added to its metadata (theirs win over the manifest's)."""
    result = copy.deepcopy(dict(obj))
    meta = result.setdefault("metadata", {})
    meta["labels"] = {**(meta.get("labels") or {}), **labels}
    return result
