"""dtm-plugins-argocd: registers the argocd and argocd-app tool kinds (stubs in 0.1.0)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

from dtm_core import Live, OperationError, Option, OutputSpec, ToolContext, ToolKind, hookimpl

__version__ = "0.1.0"

_RELEASE = f"dtm-plugins-argocd {__version__}"
_KUBECONFIG = Option("kubeconfig", description="kubeconfig file; the usual lookup when unset")
_CONTEXT = Option("context", description="kubeconfig context; the current one when unset")


class _NotYetImplemented(ToolKind):
    """Registration only: the real operations arrive with their own issue."""

    def _refuse(self) -> NoReturn:
        raise OperationError(
            f"{self.name} is not implemented yet in {_RELEASE}",
            hint="its real implementation is tracked as a separate issue; "
            "only registration exists today",
        )

    def create(self, ctx: ToolContext) -> NoReturn:
        self._refuse()

    def read(self, ctx: ToolContext) -> NoReturn:
        self._refuse()

    def update(self, ctx: ToolContext, live: Live) -> NoReturn:
        self._refuse()

    def delete(self, ctx: ToolContext) -> NoReturn:
        self._refuse()


class ArgoCD(_NotYetImplemented):
    name = "argocd"
    description = "Argo CD installed into a Kubernetes cluster from its release manifest."
    options = (
        Option("namespace", default="argocd", description="namespace Argo CD runs in"),
        _KUBECONFIG,
        _CONTEXT,
        Option(
            "server_service_type",
            default="ClusterIP",
            choices=("ClusterIP", "NodePort", "LoadBalancer"),
            description="how the API server is exposed",
        ),
    )
    outputs = (
        OutputSpec("server_url", "address of the Argo CD API server and web UI"),
        OutputSpec("namespace", "namespace Argo CD runs in"),
        OutputSpec("admin_password", "initial admin password", secret=True),
    )


class ArgoCDApp(_NotYetImplemented):
    name = "argocd-app"
    description = "An Argo CD Application syncing a path of a Git repository into a cluster."
    options = (
        Option("name", required=True, description="Application name"),
        Option("namespace", default="argocd", description="namespace Argo CD runs in"),
        Option("repo_url", required=True, description="Git repository holding the manifests"),
        Option("path", default=".", description="directory of the manifests in the repository"),
        Option("target_revision", default="HEAD", description="branch, tag or commit to sync"),
        Option(
            "destination_namespace",
            default="default",
            description="namespace the manifests are applied to",
        ),
        Option("auto_sync", type="boolean", default=True, description="sync on every change"),
        _KUBECONFIG,
        _CONTEXT,
    )
    outputs = (
        OutputSpec("name", "Application name"),
        OutputSpec("sync_status", "Synced or OutOfSync, as last read"),
    )


@hookimpl
def dtm_tool_kinds() -> Sequence[ToolKind]:
    return [ArgoCD(), ArgoCDApp()]
