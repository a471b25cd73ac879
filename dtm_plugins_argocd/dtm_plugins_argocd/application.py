"""The ``argocd-app`` tool: an Argo CD Application custom resource, applied and watched until synced.

dtm writes the Application as a Kubernetes object (``argoproj.io/v1alpha1``), the declarative
way Argo CD documents, rather than through Argo CD's API server: no login, no port-forward,
and the same credentials as the ``argocd`` tool. Its shape follows ``v1alpha1Application``
of Argo CD's own API description (``assets/swagger.json``).
"""

from __future__ import annotations

from typing import Any

from dtm_core import GONE, Live, ObjectRef, Option, OutputSpec, ReadResult, ToolContext, ToolKind

from .cluster import CONTEXT, KUBECONFIG, kube_client, wait_for

API_VERSION = "argoproj.io/v1alpha1"
#: Argo CD deletes what an Application deployed before the Application itself goes.
CASCADE_FINALIZER = "resources-finalizer.argocd.argoproj.io"
IN_CLUSTER = "https://kubernetes.default.svc"


def application(ctx: ToolContext) -> dict[str, Any]:
    """The Application object the options describe."""
    options = ctx.options
    spec: dict[str, Any] = {
        "project": options["project"],
        "source": {"repoURL": options["repo_url"], "path": options["path"],
                   "targetRevision": options["target_revision"]},
        "destination": {"server": options["destination_server"],
                        "namespace": options["destination_namespace"]},
    }
    policy: dict[str, Any] = {}
    if options["auto_sync"]:
        policy["automated"] = {"prune": bool(options["prune"]), "selfHeal": bool(options["self_heal"])}
    if options["create_namespace"]:
        policy["syncOptions"] = ["CreateNamespace=true"]
    if policy:
        spec["syncPolicy"] = policy
    metadata: dict[str, Any] = {"name": options["name"], "namespace": options["namespace"]}
    if options["cascade_delete"]:
        metadata["finalizers"] = [CASCADE_FINALIZER]
    return {"apiVersion": API_VERSION, "kind": "Application", "metadata": metadata, "spec": spec}


def observed_options(app: dict[str, Any]) -> dict[str, Any]:
    """The live Application's settings, named as the options that set them."""
    spec = app.get("spec") or {}
    source = spec.get("source") or {}
    destination = spec.get("destination") or {}
    policy = spec.get("syncPolicy") or {}
    automated = policy.get("automated")
    return {
        "project": spec.get("project"),
        "repo_url": source.get("repoURL"),
        "path": source.get("path"),
        "target_revision": source.get("targetRevision", "HEAD"),
        "destination_server": destination.get("server"),
        "destination_namespace": destination.get("namespace"),
        "auto_sync": automated is not None,
        "prune": bool((automated or {}).get("prune")),
        "self_heal": bool((automated or {}).get("selfHeal")),
        "create_namespace": "CreateNamespace=true" in (policy.get("syncOptions") or []),
    }


def status_outputs(app: dict[str, Any]) -> dict[str, Any]:
    status = app.get("status") or {}
    return {
        "name": app["metadata"]["name"],
        "namespace": app["metadata"].get("namespace"),
        "sync_status": (status.get("sync") or {}).get("status", "Unknown"),
        "health_status": (status.get("health") or {}).get("status", "Unknown"),
        "revision": (status.get("sync") or {}).get("revision"),
    }


def _settled(app: dict[str, Any] | None, wanted: dict[str, Any]) -> dict[str, Any] | None:
    """The Application once Argo CD synced *this* spec and found it healthy; else None.

    The status counts only once Argo CD compared against the source and destination just
    applied: until it reconciles, the status left from the previous spec still reads Synced.
    """
    if app is None:
        return None
    status = app.get("status") or {}
    sync = status.get("sync") or {}
    compared = sync.get("comparedTo") or {}
    current = all(all((compared.get(part) or {}).get(k) == v for k, v in wanted["spec"][part].items())
                  for part in ("source", "destination"))
    healthy = (status.get("health") or {}).get("status") == "Healthy"
    return app if sync.get("status") == "Synced" and healthy and current else None


def _describe(app: dict[str, Any] | None) -> str:
    if app is None:
        return "it does not exist"
    outputs = status_outputs(app)
    problems = [c.get("message", "") for c in (app.get("status") or {}).get("conditions") or []
                if str(c.get("type", "")).endswith("Error")]
    text = f"sync {outputs['sync_status']}, health {outputs['health_status']}"
    return text + (f"; {problems[0]}" if problems else "")


class ArgoCDApp(ToolKind):
    name = "argocd-app"
    description = "An Argo CD Application syncing a path of a Git repository into a cluster."
    options = (
        Option("name", required=True, description="Application name"),
        Option("namespace", default="argocd", description="namespace Argo CD runs in"),
        Option("project", default="default", description="Argo CD project the Application belongs to"),
        Option("repo_url", required=True, description="Git repository holding the manifests"),
        Option("path", default=".", description="directory of the manifests in the repository"),
        Option("target_revision", default="HEAD", description="branch, tag or commit to sync"),
        Option("destination_server", default=IN_CLUSTER, description="API server of the target cluster"),
        Option("destination_namespace", default="default",
               description="namespace the manifests are applied to"),
        Option("auto_sync", "boolean", default=True, description="sync on every change"),
        Option("prune", "boolean", default=False,
               description="with auto_sync, delete resources removed from Git"),
        Option("self_heal", "boolean", default=False,
               description="with auto_sync, undo changes made in the cluster by hand"),
        Option("create_namespace", "boolean", default=True,
               description="let Argo CD create the destination namespace"),
        Option("cascade_delete", "boolean", default=True,
               description="deleting the Application deletes what it deployed"),
        Option("wait", "boolean", default=True,
               description="with auto_sync, wait until the Application is Synced and Healthy"),
        Option("timeout", "integer", default=300, description="seconds to wait for Synced and Healthy"),
        KUBECONFIG,
        CONTEXT,
    )
    outputs = (
        OutputSpec("name", "Application name"),
        OutputSpec("namespace", "namespace of the Application object"),
        OutputSpec("sync_status", "Synced or OutOfSync, as last read"),
        OutputSpec("health_status", "Healthy, Progressing, Degraded … as last read"),
        OutputSpec("revision", "the commit Argo CD last synced"),
    )

    def _ref(self, ctx: ToolContext, *, recorded: bool = False) -> ObjectRef:
        source = ctx.outputs if recorded and ctx.outputs.get("name") else ctx.options
        return ObjectRef(API_VERSION, "Application", str(source["name"]), str(source["namespace"]))

    def create(self, ctx: ToolContext) -> dict[str, Any]:
        wanted = application(ctx)
        ref = self._ref(ctx)
        with kube_client(ctx) as kube:
            ctx.progress(f"applying application {ref.namespace}/{ref.name}")
            kube.apply(wanted, instance=ctx.address, namespace=ref.namespace)
            app = kube.get(ref)
            if ctx.options["auto_sync"] and ctx.options["wait"]:
                ctx.progress(f"waiting for {ref.name} to be Synced and Healthy")
                app = wait_for(lambda: _settled(kube.get(ref), wanted),
                               timeout=float(ctx.options["timeout"]), poll=kube.poll_interval,
                               waiting=lambda: f"application {ref.namespace}/{ref.name} to be Synced and "
                               f"Healthy ({_describe(kube.get(ref))})",
                               hint=f"see why with 'kubectl -n {ref.namespace} get application {ref.name} "
                               f"-o yaml' or 'argocd app get {ref.name}'")
        return status_outputs(app or wanted)

    def update(self, ctx: ToolContext, live: Live) -> dict[str, Any]:
        old, new = self._ref(ctx, recorded=True), self._ref(ctx)
        outputs = self.create(ctx)
        if old != new:  # renamed or moved: the Application dtm made before is not wanted any more
            with kube_client(ctx) as kube:
                kube.delete([old], timeout=float(ctx.options["timeout"]))
        return outputs

    def read(self, ctx: ToolContext) -> ReadResult:
        with kube_client(ctx) as kube:
            app = kube.get(self._ref(ctx, recorded=True))
        if app is None or app["metadata"].get("deletionTimestamp"):
            return GONE
        observed = {"name": app["metadata"]["name"], "namespace": app["metadata"].get("namespace"),
                    **observed_options(app)}
        return Live(observed=observed, outputs=status_outputs(app))

    def delete(self, ctx: ToolContext) -> None:
        ref = self._ref(ctx, recorded=True)
        with kube_client(ctx) as kube:
            ctx.progress(f"deleting application {ref.namespace}/{ref.name}")
            kube.delete([ref], timeout=float(ctx.options["timeout"]))
