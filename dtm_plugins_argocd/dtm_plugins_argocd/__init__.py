"""dtm-plugins-argocd: registers the argocd tool (Argo CD in a cluster) and argocd-app (an Application)."""

from __future__ import annotations

from collections.abc import Sequence

from dtm_core import ToolKind, hookimpl

from .application import ArgoCDApp
from .install import ArgoCD

__version__ = "0.1.0"

__all__ = ["ArgoCD", "ArgoCDApp", "dtm_tool_kinds"]


@hookimpl
def dtm_tool_kinds() -> Sequence[ToolKind]:
    return [ArgoCD(), ArgoCDApp()]
