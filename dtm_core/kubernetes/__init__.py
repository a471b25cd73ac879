"""Kubernetes for plugins: pick the cluster as kubectl does, apply manifests, wait, read and delete.

Plugins import these names from ``dtm_core`` (see ``docs/kubernetes.md``). Loaded lazily, like
``dtm_core`` itself: lightkube is imported only when a client is made.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import DEFAULT_MANAGED_KINDS as DEFAULT_MANAGED_KINDS
    from .client import KubeClient as KubeClient
    from .client import load_kube_client as load_kube_client
    from .manifests import INSTANCE_LABEL as INSTANCE_LABEL
    from .manifests import MANAGED_BY_LABEL as MANAGED_BY_LABEL
    from .manifests import ObjectRef as ObjectRef
    from .manifests import load_manifests as load_manifests
    from .secrets import kube_secret_ref as kube_secret_ref

_EXPORTS: dict[str, str] = {
    "DEFAULT_MANAGED_KINDS": "client",
    "KubeClient": "client",
    "load_kube_client": "client",
    "INSTANCE_LABEL": "manifests",
    "MANAGED_BY_LABEL": "manifests",
    "ObjectRef": "manifests",
    "load_manifests": "manifests",
    "kube_secret_ref": "secrets",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dtm_core.kubernetes' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
