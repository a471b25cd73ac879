"""Readiness waits, reads by label and deletion against the emulator's controllers."""

from __future__ import annotations

import time
from typing import Any

import pytest

from dtm_core.errors import OperationError
from dtm_core.kubernetes import KubeClient, ObjectRef

CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}


def deployment(name: str, *, replicas: int = 1, never_ready: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if never_ready:
        meta["annotations"] = {"emulator.dtm.dev/never-ready": "true"}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}]}}}}


def statefulset(name: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
            "spec": {"replicas": 1, "serviceName": name, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}]}}}}


def test_wait_ready_reports_progress(kube: KubeClient) -> None:
    refs = kube.apply([deployment("api", replicas=2), statefulset("db"),
                       {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}],
                      instance="app.main", namespace="app", create_namespace=True)
    lines: list[str] = []

    kube.wait_ready(refs, timeout=10, progress=lines.append)

    assert lines == ["waiting for deployment app/api (0/2 ready)",
                     "waiting for statefulset app/db (0/1 ready)"]
    live = kube.get(ObjectRef("apps/v1", "Deployment", "api", "app"))
    assert live is not None and live["status"]["readyReplicas"] == 2


def test_wait_ready_times_out_naming_the_unready_deployment(kube: KubeClient) -> None:
    refs = kube.apply([deployment("argocd-server"), deployment("argocd-repo-server", never_ready=True)],
                      instance="argocd.main", namespace="argocd", create_namespace=True)
    started = time.monotonic()

    with pytest.raises(OperationError) as caught:
        kube.wait_ready(refs, timeout=1)

    assert caught.value.message == ("timed out after 1 s waiting for deployment argocd/argocd-repo-server "
                                    "to become ready (0/1 replicas ready)")
    assert caught.value.hint == ("see why with 'kubectl describe deployment.apps argocd-repo-server "
                                 "-n argocd' and 'kubectl get events -n argocd'")
    assert 1 <= time.monotonic() - started < 3


def test_wait_ready_on_a_deleted_workload(kube: KubeClient) -> None:
    with pytest.raises(OperationError) as caught:
        kube.wait_ready([ObjectRef("apps/v1", "Deployment", "gone", "default")], timeout=1)
    assert caught.value.message == ("deployment default/gone was deleted while dtm waited for it "
                                    "to become ready")


def test_get_exists_and_list_managed(kube: KubeClient) -> None:
    mine = kube.apply([deployment("a"), {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}],
                      instance="mine.main", namespace="app", create_namespace=True)
    kube.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other"}},
               instance="theirs.main", namespace="app")

    assert sorted(kube.list_managed("mine.main"), key=str) == sorted(mine, key=str)
    assert kube.list_managed("mine.main", namespace="elsewhere") == [ObjectRef("v1", "Namespace", "app")]
    assert kube.list_managed("nobody.main") == []
    missing = ObjectRef("v1", "ConfigMap", "nope", "app")
    assert kube.get(missing) is None and not kube.exists(missing)
    assert not kube.exists(ObjectRef("nowhere.dtm.dev/v1", "Ghost", "g", "app"))


def test_delete_in_reverse_order_and_wait(kube: KubeClient, emulator: Any) -> None:
    refs = kube.apply([deployment("api"), CONFIG_MAP], instance="app.main", namespace="app",
                      create_namespace=True)
    kube.wait_ready(refs, timeout=10)
    before = len(emulator.requests)

    deleted = kube.delete(refs, propagation="Foreground", timeout=10)

    assert deleted == [ObjectRef("v1", "ConfigMap", "c", "app"),
                       ObjectRef("apps/v1", "Deployment", "api", "app"), ObjectRef("v1", "Namespace", "app")]
    deletes = [path for method, path in emulator.requests[before:] if method == "DELETE"]
    assert deletes == [
        "/api/v1/namespaces/app/configmaps/c?propagationPolicy=Foreground",
        "/apis/apps/v1/namespaces/app/deployments/api?propagationPolicy=Foreground",
        "/api/v1/namespaces/app?propagationPolicy=Foreground",
    ]
    assert emulator.objects("Deployment", "app") == [] and emulator.get("Namespace", "app") is None
    assert kube.delete(refs) == []  # already gone is fine


def test_delete_custom_resources_before_their_crd(kube: KubeClient, emulator: Any,
                                                  widgets: tuple[dict[str, Any], dict[str, Any]]) -> None:
    refs = kube.apply(list(widgets), instance="widgets.main", namespace="default")

    assert kube.delete(refs, timeout=10) == list(reversed(refs))
    assert emulator.get("CustomResourceDefinition", "widgets.example.dtm.dev") is None
    assert kube.delete(refs) == []  # the kind is no longer served: nothing of it can exist


def test_delete_times_out_on_a_finalizer(kube: KubeClient) -> None:
    held = {**CONFIG_MAP, "metadata": {"name": "held", "finalizers": ["dtm.dev/hold"]}}
    refs = kube.apply(held, instance="held.main", namespace="default")

    with pytest.raises(OperationError) as caught:
        kube.delete(refs, timeout=0.5)

    assert caught.value.message == "timed out after 0.5 s waiting for configmap default/held to be deleted"
    assert caught.value.hint == ("a finalizer may be holding it; see 'metadata.finalizers' in "
                                 "'kubectl get configmap held -n default -o yaml'")
    assert kube.delete(refs, wait=False) == refs  # still there, being deleted
