"""dtm: a package manager for DevOps toolchains. This module is the public plugin API.

Plugins import only names listed in ``__all__``; everything else is internal. The API is
versioned by :data:`PLUGIN_API_VERSION` (see ``docs/plugin-authors.md``). Names are imported
lazily so that a local ``dtm search`` does not pay for pluggy or packaging.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .version import PLUGIN_API_VERSION, __version__

if TYPE_CHECKING:
    from .errors import DtmError as DtmError
    from .errors import OperationError as OperationError
    from .errors import OptionError as OptionError
    from .hookspecs import hookimpl as hookimpl
    from .kubernetes.client import KubeClient as KubeClient
    from .kubernetes.client import load_kube_client as load_kube_client
    from .kubernetes.manifests import ObjectRef as ObjectRef
    from .kubernetes.manifests import load_manifests as load_manifests
    from .kubernetes.secrets import kube_secret_ref as kube_secret_ref
    from .options import Option as Option
    from .retries import RetryingTransport as RetryingTransport
    from .retries import RetryPolicy as RetryPolicy
    from .retries import UncertainWrite as UncertainWrite
    from .retries import attempts_of as attempts_of
    from .retries import create_once as create_once
    from .retries import is_uncertain as is_uncertain
    from .retries import network_transport as network_transport
    from .sandbox.service import MirroredArtifact as MirroredArtifact
    from .sandbox.service import RunningService as RunningService
    from .sandbox.service import SandboxService as SandboxService
    from .secrets import Secret as Secret
    from .secrets import SecretRef as SecretRef
    from .sourcecontrol import CommitRequest as CommitRequest
    from .sourcecontrol import CommitResult as CommitResult
    from .sourcecontrol import SourceControl as SourceControl
    from .toolkind import GONE as GONE
    from .toolkind import Live as Live
    from .toolkind import OutputSpec as OutputSpec
    from .toolkind import ReadResult as ReadResult
    from .toolkind import ToolContext as ToolContext
    from .toolkind import ToolKind as ToolKind

_EXPORTS: dict[str, str] = {
    "DtmError": "errors",
    "OperationError": "errors",
    "OptionError": "errors",
    "hookimpl": "hookspecs",
    # The Kubernetes API for plugins; lightkube is imported only when a name from it is used.
    "KubeClient": "kubernetes.client",
    "load_kube_client": "kubernetes.client",
    "ObjectRef": "kubernetes.manifests",
    "load_manifests": "kubernetes.manifests",
    "kube_secret_ref": "kubernetes.secrets",
    "Option": "options",
    # Retries and look-before-create after an uncertain failure (plugin API 1.4).
    "RetryPolicy": "retries",
    "RetryingTransport": "retries",
    "UncertainWrite": "retries",
    "attempts_of": "retries",
    "create_once": "retries",
    "is_uncertain": "retries",
    "network_transport": "retries",
    # The sandbox service contract (plugin API 1.3).
    "MirroredArtifact": "sandbox.service",
    "RunningService": "sandbox.service",
    "SandboxService": "sandbox.service",
    "Secret": "secrets",
    "SecretRef": "secrets",
    "CommitRequest": "sourcecontrol",
    "CommitResult": "sourcecontrol",
    "SourceControl": "sourcecontrol",
    "GONE": "toolkind",
    "Live": "toolkind",
    "OutputSpec": "toolkind",
    "ReadResult": "toolkind",
    "ToolContext": "toolkind",
    "ToolKind": "toolkind",
}

__all__ = ["PLUGIN_API_VERSION", "__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dtm_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
