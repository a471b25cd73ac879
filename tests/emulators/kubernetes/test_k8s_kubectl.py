"""The real kubectl (1.32, ``/usr/bin/kubectl``) against the emulator, with its default flags.

kubectl needs, besides discovery and the resource endpoints: ``/openapi/v3`` and the per group
version documents (its default ``--validate=strict`` checks that PATCH declares
``fieldValidation``, then sends ``fieldValidation=Strict``; client-side apply builds its strategic
merge patch from the kind's schema there), watches for ``wait`` and ``delete``, Table responses
for ``get``, and protobuf request bodies for ``create namespace|configmap|secret|serviceaccount``.
Aggregated discovery is not served: kubectl falls back to ``/api`` and ``/apis`` by itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from dtm_core.emulators.kubernetes import KubernetesEmulator

# Each test runs against the vendor description (kubectl sees the real schemas) and without one
# (kubectl sees the emulator's own description).
pytestmark = [pytest.mark.slow, pytest.mark.parametrize("emulator", ["vendor", "own"], indirect=True)]


def _manifest(tmp_path: Path, *documents: dict[str, Any]) -> str:
    path = tmp_path / "manifest.yaml"
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    with path.open("w") as stream:
        yaml.dump_all(list(documents), stream)
    return str(path)


def _web_app(make_deployment: Callable[..., dict[str, Any]], replicas: int = 2) -> list[dict[str, Any]]:
    return [make_deployment("web", replicas=replicas),
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
             "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 80}]}},
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web"},
             "data": {"greeting": "hi"}}]


def test_client_side_apply_creates_then_patches(kubectl: Any, emulator: KubernetesEmulator, tmp_path: Path,
                                                make_deployment: Callable[..., dict[str, Any]]) -> None:
    manifest = _manifest(tmp_path, *_web_app(make_deployment))
    assert kubectl.ok("apply", "-f", manifest).split("\n")[:3] == [
        "deployment.apps/web created", "service/web created", "configmap/web created"]
    assert kubectl.ok("apply", "-f", manifest).count("unchanged") == 3
    changed = _manifest(tmp_path, *_web_app(make_deployment, replicas=3))
    assert "deployment.apps/web configured" in kubectl.ok("apply", "-f", changed)
    stored = emulator.get("deployments", "web", "default")
    assert stored is not None and stored["spec"]["replicas"] == 3
    assert "kubectl.kubernetes.io/last-applied-configuration" in stored["metadata"]["annotations"]
    assert {e["manager"] for e in stored["metadata"]["managedFields"]} >= {"kubectl-client-side-apply"}
    patches = [path for method, path in emulator.requests if method == "PATCH"]
    assert patches == ["/apis/apps/v1/namespaces/default/deployments/web"
                       "?fieldManager=kubectl-client-side-apply&fieldValidation=Strict"]


def test_client_side_apply_merges_lists_by_key_on_a_second_apply(
        kubectl: Any, emulator: KubernetesEmulator, tmp_path: Path,
        make_deployment: Callable[..., dict[str, Any]]) -> None:
    def web(greeting: str, *extra: dict[str, str]) -> list[dict[str, Any]]:
        deployment = make_deployment("web")
        containers = deployment["spec"]["template"]["spec"]["containers"]
        containers[0]["env"] = [{"name": "GREETING", "value": greeting}, *extra]
        containers.append({"name": "sidecar", "image": "busybox:1.36"})
        settings = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web"},
                    "data": {"greeting": greeting}}
        return [deployment, settings]

    kubectl.ok("apply", "-f", _manifest(tmp_path, *web("hi", {"name": "EXTRA", "value": "1"})))
    again = kubectl("apply", "-f", _manifest(tmp_path, *web("hello")))
    assert again.returncode == 0 and again.stderr == ""  # no warning about the patch kubectl computed
    assert again.stdout.splitlines() == ["deployment.apps/web configured", "configmap/web configured"]
    stored = emulator.get("deployments", "web", "default")
    assert stored is not None
    containers = stored["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [("web", "nginx:1.27"),
                                                             ("sidecar", "busybox:1.36")]
    assert containers[0]["env"] == [{"name": "GREETING", "value": "hello"}]
    assert containers[0]["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert emulator.get("configmaps", "web", "default")["data"] == {"greeting": "hello"}  # type: ignore[index]


def test_get_lists_across_namespaces_with_the_usual_columns(
        kubectl: Any, tmp_path: Path, make_deployment: Callable[..., dict[str, Any]]) -> None:
    kubectl.ok("apply", "-f", _manifest(tmp_path, *_web_app(make_deployment)))
    kubectl.ok("create", "namespace", "team")
    kubectl.ok("apply", "-n", "team", "-f", _manifest(tmp_path, make_deployment("api")))
    kubectl.ok("wait", "--for=condition=Available", "deployment/web", "--timeout=10s")
    lines = kubectl.ok("get", "deployments", "-A").splitlines()
    assert lines[0].split() == ["NAMESPACE", "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    rows = {tuple(line.split()[:3]) for line in lines[1:]}
    assert ("default", "web", "2/2") in rows
    assert ("team", "api") in {row[:2] for row in rows}
    assert kubectl.ok("get", "cm", "web", "-o", "jsonpath={.data.greeting}") == "hi"
    assert kubectl.ok("scale", "deployment/web", "--replicas=3").strip() == "deployment.apps/web scaled"
    assert kubectl.ok("get", "deployment", "web", "-o", "jsonpath={.spec.replicas}") == "3"
    assert "service/web" in kubectl.ok("get", "all")


def test_wait_for_available_succeeds_after_the_delay_and_times_out_when_never_ready(
        kubectl: Any, tmp_path: Path, emulator: KubernetesEmulator,
        make_deployment: Callable[..., dict[str, Any]]) -> None:
    """A 2 s timeout stands for the brief's 10 s in the never-ready case, to keep the suite fast."""
    stuck = make_deployment("stuck", annotations={"emulator.dtm.dev/never-ready": "true"})
    kubectl.ok("apply", "-f", _manifest(tmp_path, make_deployment("web"), stuck))
    began = time.monotonic()
    assert kubectl.ok("wait", "--for=condition=Available", "deployment/web", "--timeout=10s").strip() == (
        "deployment.apps/web condition met")
    assert time.monotonic() - began < 5
    timed_out = kubectl("wait", "--for=condition=Available", "deployment/stuck", "--timeout=2s")
    assert timed_out.returncode == 1
    assert timed_out.stderr.strip() == "error: timed out waiting for the condition on deployments/stuck"


def test_delete_waits_for_the_objects_to_go(kubectl: Any, tmp_path: Path, emulator: KubernetesEmulator,
                                            make_deployment: Callable[..., dict[str, Any]]) -> None:
    manifest = _manifest(tmp_path, *_web_app(make_deployment))
    kubectl.ok("apply", "-f", manifest)
    output = kubectl.ok("delete", "-f", manifest)
    assert output.splitlines() == ['deployment.apps "web" deleted', 'service "web" deleted',
                                   'configmap "web" deleted']
    assert emulator.objects(namespace="default") == []


def test_deleting_a_namespace_removes_what_it_holds(
        kubectl: Any, tmp_path: Path, emulator: KubernetesEmulator,
        make_deployment: Callable[..., dict[str, Any]]) -> None:
    kubectl.ok("create", "namespace", "doomed")
    kubectl.ok("create", "configmap", "settings", "-n", "doomed", "--from-literal=a=1")
    kubectl.ok("create", "secret", "generic", "token", "-n", "doomed", "--from-literal=t=x")
    kubectl.ok("apply", "-n", "doomed", "-f", _manifest(tmp_path, *_web_app(make_deployment)))
    assert len(emulator.objects(namespace="doomed")) == 5
    assert kubectl.ok("delete", "namespace", "doomed").strip() == 'namespace "doomed" deleted'
    assert emulator.objects(namespace="doomed") == []
    assert "doomed" not in kubectl.ok("get", "namespaces")


def test_the_argocd_manifest_client_side_fails_only_where_a_real_server_does(
        kubectl: Any, emulator: KubernetesEmulator, argocd_documents: list[dict[str, Any]],
        argocd_manifest: Path) -> None:
    """Client-side apply stores the whole object in an annotation; the ApplicationSet CRD of
    v3.5.1 makes it larger than the 262144 bytes a real API server allows, so a real cluster
    answers 422 there too (argoproj/argo-cd#25538, which moved Argo CD's docs to
    ``--server-side``). Everything else is created."""
    kubectl.ok("create", "namespace", "argocd")
    result = kubectl("apply", "-n", "argocd", "-f", str(argocd_manifest), timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == ('The CustomResourceDefinition "applicationsets.argoproj.io" is invalid: '
                                     "metadata.annotations: Too long: may not be more than 262144 bytes")
    assert result.stdout.count(" created") == len(argocd_documents) - 1
    assert emulator.get("crd", "applicationsets.argoproj.io") is None


def test_the_argocd_manifest_server_side_then_its_custom_resources(
        kubectl: Any, emulator: KubernetesEmulator, argocd_documents: list[dict[str, Any]],
        argocd_manifest: Path, tmp_path: Path) -> None:
    kubectl.ok("create", "namespace", "argocd")
    output = kubectl.ok("apply", "-n", "argocd", "--server-side", "-f", str(argocd_manifest), timeout=60)
    assert output.count("serverside-applied") == len(argocd_documents)
    again = kubectl.ok("apply", "-n", "argocd", "--server-side", "--force-conflicts", "-f",
                       str(argocd_manifest), timeout=60)
    assert again.count("serverside-applied") == len(argocd_documents)
    assert len(emulator.objects("crd")) == 3
    application = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                   "metadata": {"name": "guestbook", "namespace": "argocd"},
                   "spec": {"project": "default",
                            "source": {"repoURL": "https://github.com/argoproj/argocd-example-apps.git",
                                       "path": "guestbook", "targetRevision": "HEAD"},
                            "destination": {"server": "https://kubernetes.default.svc",
                                            "namespace": "default"}}}
    kubectl.ok("apply", "-f", _manifest(tmp_path, application))
    kubectl.ok("wait", "-n", "argocd", "--for=jsonpath={.status.health.status}=Healthy",
               "application/guestbook", "--timeout=10s")
    lines = kubectl.ok("get", "applications", "-n", "argocd").splitlines()
    assert lines[0].split() == ["NAME", "SYNC", "STATUS", "HEALTH", "STATUS", "AGE"]
    assert lines[1].split()[:3] == ["guestbook", "Synced", "Healthy"]
    nothing = kubectl("get", "appprojects", "-n", "argocd")
    assert nothing.stderr.strip() == "No resources found in argocd namespace."
    kubectl.ok("wait", "-n", "argocd", "--for=condition=Available", "deployment", "--all", "--timeout=10s")
