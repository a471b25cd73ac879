"""The ``argocd`` tool: Argo CD installed into a cluster from its release manifest, read back and removed."""

from __future__ import annotations

from typing import Any

from dtm_core import (
    GONE,
    KubeClient,
    Live,
    ObjectRef,
    Option,
    OutputSpec,
    ReadResult,
    ToolContext,
    ToolKind,
    kube_secret_ref,
)

from .cluster import CONTEXT, KUBECONFIG, kube_client, wait_for
from .release import INITIAL_ADMIN_SECRET, SERVER, image_version, manifest_objects

_CRD = "CustomResourceDefinition"


def _server_ref(namespace: str) -> ObjectRef:
    return ObjectRef("apps/v1", "Deployment", SERVER, namespace)


class ArgoCD(ToolKind):
    name = "argocd"
    description = "Argo CD installed into a Kubernetes cluster from its release manifest."
    options = (
        Option("namespace", default="argocd", description="namespace Argo CD runs in"),
        Option("ha", "boolean", default=False,
               description="install the high-availability manifest (several replicas, Redis HA)"),
        Option("manifest_url",
               description="download the manifest from here instead: a mirror, or a local file for "
               "air-gapped installs; the registry's sha256 still applies"),
        Option("server_service_type", default="ClusterIP", choices=("ClusterIP", "NodePort", "LoadBalancer"),
               description="how the API server is exposed"),
        Option("timeout", "integer", default=600,
               description="seconds to wait for Argo CD to become ready"),
        Option("delete_crds", "boolean", default=False,
               description="on delete, remove Argo CD's CRDs too, and with them every Application "
               "on the cluster"),
        KUBECONFIG,
        CONTEXT,
    )
    outputs = (
        OutputSpec("namespace", "namespace Argo CD runs in"),
        OutputSpec("server_url", "in-cluster address of the Argo CD API server and web UI"),
        OutputSpec("version", "the Argo CD version running, as read from the cluster"),
        OutputSpec("ready", "whether every Argo CD workload was ready when last read"),
        OutputSpec("admin_username", "name of the initial admin account"),
        OutputSpec("admin_password", "initial admin password (a k8s-secret: reference)", secret=True),
        OutputSpec("objects", "the objects dtm applied, as 'kind namespace/name'"),
    )

    def create(self, ctx: ToolContext) -> dict[str, Any]:
        return self._install(ctx, wait_for_password=True)

    def update(self, ctx: ToolContext, live: Live) -> dict[str, Any]:
        return self._install(ctx, wait_for_password=False)

    def _install(self, ctx: ToolContext, *, wait_for_password: bool) -> dict[str, Any]:
        """Apply the manifest (a retry or a repeat changes nothing), prune leftovers, wait until ready."""
        namespace = str(ctx.options["namespace"])
        timeout = float(ctx.options["timeout"])
        objects = manifest_objects(ctx, timeout)
        with kube_client(ctx) as kube:
            ctx.progress(f"applying {len(objects)} objects of Argo CD {ctx.version} to {namespace} "
                         f"({kube.context})")
            applied = kube.apply(objects, instance=ctx.address, namespace=namespace, create_namespace=True)
            self._prune(ctx, kube, applied, timeout)
            kube.wait_ready(applied, timeout=timeout, progress=ctx.progress)
            if wait_for_password:
                # Argo CD's server writes the initial admin secret on its first start.
                secret = ObjectRef("v1", "Secret", INITIAL_ADMIN_SECRET, namespace)
                wait_for(lambda: kube.get(secret), timeout=timeout, poll=kube.poll_interval,
                         waiting=lambda: f"secret {namespace}/{INITIAL_ADMIN_SECRET}",
                         hint=f"see the server's log: kubectl -n {namespace} logs deploy/{SERVER}")
        return {
            "namespace": namespace,
            "server_url": f"https://{SERVER}.{namespace}.svc",
            "version": ctx.version,
            "ready": True,
            "admin_username": "admin",
            "admin_password": kube_secret_ref(namespace, INITIAL_ADMIN_SECRET, "password",
                                              context=ctx.options.get("context"),
                                              kubeconfig=ctx.options.get("kubeconfig")),
            "objects": [str(ref) for ref in applied],
        }

    @staticmethod
    def _prune(ctx: ToolContext, kube: KubeClient, applied: list[ObjectRef], timeout: float) -> None:
        """Delete what an earlier version or namespace had and this one does not (never CRDs)."""
        keep = set(applied)
        stale = [ref for ref in kube.list_managed(ctx.address) if ref not in keep and ref.kind != _CRD]
        if stale:
            ctx.progress(f"removing {len(stale)} objects the manifest no longer has")
            kube.delete(stale, timeout=timeout)

    def read(self, ctx: ToolContext) -> ReadResult:
        namespace = str(ctx.outputs.get("namespace") or ctx.options["namespace"])
        with kube_client(ctx) as kube:
            live = {str(ref): ref for ref in kube.list_managed(ctx.address)}
            if not live:
                return GONE  # nothing of this instance is left: the next apply installs it again
            server = kube.get(_server_ref(namespace))
            service = kube.get(ObjectRef("v1", "Service", SERVER, namespace))
            unready = kube.not_ready(live.values())
        drift = [f"{name} is missing" for name in ctx.outputs.get("objects") or [] if name not in live]
        running = image_version(server) if server else None
        if running and running != ctx.version:
            drift.append(f"Argo CD {running} is running, not {ctx.version}")
        observed: dict[str, Any] = {"namespace": namespace}
        if service is not None:
            observed["server_service_type"] = service.get("spec", {}).get("type", "ClusterIP")
        return Live(observed=observed, drift=drift,
                    outputs={**ctx.outputs, "version": running,
                             "ready": server is not None and not unready})

    def delete(self, ctx: ToolContext) -> None:
        namespace = str(ctx.outputs.get("namespace") or ctx.options["namespace"])
        with kube_client(ctx) as kube:
            refs = kube.list_managed(ctx.address)
            if not ctx.options.get("delete_crds"):
                refs = [ref for ref in refs if ref.kind != _CRD]
            # Argo CD made this one itself; it holds a password and goes with the install.
            refs.append(ObjectRef("v1", "Secret", INITIAL_ADMIN_SECRET, namespace))
            ctx.progress(f"deleting {len(refs)} objects")
            kube.delete(refs, timeout=float(ctx.options["timeout"]))

