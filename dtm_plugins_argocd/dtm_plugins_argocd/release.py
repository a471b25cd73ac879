"""Argo CD's release manifest: where it comes from, and how it is fitted to the chosen namespace."""

from __future__ import annotations

from typing import Any

from dtm_core import ToolContext, load_manifests

#: Where every Argo CD release publishes its manifests (``.goreleaser.yaml`` of argoproj/argo-cd).
OFFICIAL_URL = "https://raw.githubusercontent.com/argoproj/argo-cd/v{version}/manifests/{path}"
#: The namespace the upstream manifests name in their role bindings.
UPSTREAM_NAMESPACE = "argocd"
SERVER = "argocd-server"
INITIAL_ADMIN_SECRET = "argocd-initial-admin-secret"


def manifest_objects(ctx: ToolContext, timeout: float) -> list[dict[str, Any]]:
    """The objects of this version's (HA) install manifest, fitted to the options."""
    ha = bool(ctx.options.get("ha"))
    artifact = "ha_manifest" if ha else "manifest"
    url = ctx.options.get("manifest_url")
    if url is None and artifact not in ctx.artifacts:
        # An index that lists no artifact still gets the release, unverified (needs --allow-unverified).
        url = OFFICIAL_URL.format(version=ctx.version, path="ha/install.yaml" if ha else "install.yaml")
    text = ctx.download_artifact(artifact, url=url, timeout=timeout).decode("utf-8")
    return fit(load_manifests(text), namespace=str(ctx.options["namespace"]),
               service_type=str(ctx.options["server_service_type"]))


def fit(objects: list[dict[str, Any]], *, namespace: str, service_type: str) -> list[dict[str, Any]]:
    """Point role bindings at ``namespace`` and expose the API server as ``service_type``.

    The upstream manifest leaves namespaced objects without a namespace (``kubectl apply -n``
    places them) but names ``argocd`` in the subjects of its ClusterRoleBindings; installed
    elsewhere, Argo CD's service accounts would lose their cluster permissions.
    """
    for obj in objects:
        if obj["kind"] in ("ClusterRoleBinding", "RoleBinding"):
            for subject in obj.get("subjects") or []:
                if subject.get("kind") == "ServiceAccount" and subject.get("namespace") == UPSTREAM_NAMESPACE:
                    subject["namespace"] = namespace
        if obj["kind"] == "Service" and obj["metadata"]["name"] == SERVER and service_type != "ClusterIP":
            obj.setdefault("spec", {})["type"] = service_type
    return objects


def image_version(deployment: dict[str, Any]) -> str | None:
    """The Argo CD version a Deployment runs, from its ``argocd`` image tag (``v3.5.1`` → ``3.5.1``)."""
    containers = deployment.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or []
    for container in containers:
        image = str(container.get("image", ""))
        repository, _, tag = image.rpartition(":")
        if repository.endswith("/argocd") and tag:
            return tag.removeprefix("v")
    return None
