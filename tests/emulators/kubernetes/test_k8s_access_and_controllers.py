"""Tokens (401), denials (403), injected faults, the kubeconfig, and the emulated controllers."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dtm_core.emulators.kubernetes import KubernetesEmulator

STATUS = "io.k8s.apimachinery.pkg.apis.meta.v1.Status"
DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"


@pytest.fixture
def guarded() -> Iterator[KubernetesEmulator]:
    with KubernetesEmulator(ready_delay=0.2, token="s3cret-token") as running:
        yield running


def _wait_for(check: Callable[[], Any], timeout: float = 5) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_a_required_token_turns_others_away(guarded: KubernetesEmulator, spec: Any) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        answer = httpx.get(f"{guarded.url}/api/v1/namespaces", headers=headers)
        assert answer.status_code == 401
        spec.check(answer.json(), STATUS)
        assert answer.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                 "message": "Unauthorized", "reason": "Unauthorized", "code": 401}
    good = httpx.get(f"{guarded.url}/api/v1/namespaces", headers={"Authorization": "Bearer s3cret-token"})
    assert good.status_code == 200
    assert httpx.get(f"{guarded.url}/healthz").status_code == 200


def test_any_token_passes_by_default(emulator: KubernetesEmulator) -> None:
    answer = httpx.get(f"{emulator.url}/api/v1/namespaces", headers={"Authorization": "Bearer x"})
    assert answer.status_code == 200


def test_denied_verbs_answer_403_in_the_servers_words(emulator: KubernetesEmulator, client: httpx.Client,
                                                      spec: Any) -> None:
    emulator.forbid("create", "deployments", namespace="default")
    emulator.forbid("get", "clusterroles")
    emulator.forbid("list", "secrets")
    created = client.post(DEPLOYMENTS, json={"metadata": {"name": "x"}})
    assert created.status_code == 403
    spec.check(created.json(), STATUS)
    assert created.json()["reason"] == "Forbidden"
    assert created.json()["message"] == ('deployments.apps is forbidden: User "dtm-sandbox" cannot create '
                                         'resource "deployments" in API group "apps" in the namespace '
                                         '"default"')
    read = client.get("/apis/rbac.authorization.k8s.io/v1/clusterroles/admin").json()
    assert read["message"] == ('clusterroles.rbac.authorization.k8s.io "admin" is forbidden: User '
                               '"dtm-sandbox" cannot get resource "clusterroles" in API group '
                               '"rbac.authorization.k8s.io" at the cluster scope')
    listed = client.get("/api/v1/namespaces/default/secrets").json()
    assert listed["message"] == ('secrets is forbidden: User "dtm-sandbox" cannot list resource "secrets" in '
                                 'API group "" in the namespace "default"')
    assert client.get("/api/v1/namespaces/default/configmaps").status_code == 200
    emulator.clear_hooks()
    assert client.get("/api/v1/namespaces/default/secrets").status_code == 200


def test_fail_next_injects_one_fault(emulator: KubernetesEmulator, client: httpx.Client, spec: Any) -> None:
    emulator.fail_next("GET", "/api/v1/namespaces", 503)
    failed = client.get("/api/v1/namespaces/default")
    assert failed.status_code == 503
    spec.check(failed.json(), STATUS)
    assert failed.json()["reason"] == "ServiceUnavailable"
    assert client.get("/api/v1/namespaces/default").status_code == 200
    emulator.fail_next("*", "/apis/apps", 429, times=2)
    assert [client.get(DEPLOYMENTS).status_code for _ in range(3)] == [429, 429, 200]
    assert ("GET", "/apis/apps/v1/namespaces/default/deployments") in emulator.requests


def test_the_kubeconfig_points_at_the_emulator(emulator: KubernetesEmulator, tmp_path: Path) -> None:
    path = emulator.write_kubeconfig(tmp_path / "kube" / "config", context="ctx", namespace="team")
    config = json.loads(path.read_text())
    assert config["current-context"] == "ctx"
    assert config["clusters"][0]["cluster"]["server"] == emulator.url
    assert config["contexts"][0]["context"]["namespace"] == "team"
    assert config["users"][0]["user"]["token"] == emulator.token
    assert path.stat().st_mode & 0o777 == 0o600


def test_deployments_and_statefulsets_become_ready_after_the_delay(
        emulator: KubernetesEmulator, client: httpx.Client,
        make_deployment: Callable[..., dict[str, Any]]) -> None:
    began = time.monotonic()
    client.post(DEPLOYMENTS, json=make_deployment("web", replicas=2))
    never = {"emulator.dtm.dev/never-ready": "true"}
    client.post(DEPLOYMENTS, json=make_deployment("stuck", annotations=never))
    client.post("/apis/apps/v1/namespaces/default/statefulsets", json={
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
        "spec": {"serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                 "template": {"metadata": {"labels": {"app": "db"}},
                              "spec": {"containers": [{"name": "db", "image": "redis:8"}]}}}})

    def ready(name: str) -> dict[str, Any] | None:
        found = emulator.get("Deployment", name, "default")
        status = (found or {}).get("status", {})
        return status if status.get("availableReplicas") == 2 else None

    status = _wait_for(lambda: ready("web"))
    assert time.monotonic() - began >= emulator.ready_delay
    assert status["observedGeneration"] == 1 and status["readyReplicas"] == 2
    conditions = {c["type"]: c["status"] for c in status["conditions"]}
    assert conditions == {"Available": "True", "Progressing": "True"}
    sts = _wait_for(lambda: (emulator.get("sts", "db", "default") or {})["status"].get("readyReplicas"))
    assert sts == 1
    stuck = emulator.get("deployments", "stuck", "default")
    assert stuck is not None
    assert {c["type"]: c["status"] for c in stuck["status"]["conditions"]}["Available"] == "False"
    scaled = client.patch(f"{DEPLOYMENTS}/web", json={"spec": {"replicas": 3}},
                          headers={"Content-Type": "application/merge-patch+json"}).json()
    assert scaled["status"]["observedGeneration"] == 1  # not ready for the new generation yet
    _wait_for(lambda: (emulator.get("deploy", "web", "default") or {})["status"].get("readyReplicas") == 3)


def test_argocd_applications_get_synced_and_healthy_once_their_crd_exists(
        emulator: KubernetesEmulator, client: httpx.Client, argocd_documents: list[dict[str, Any]]) -> None:
    applications = "/apis/argoproj.io/v1alpha1/namespaces/default/applications"
    app = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "guestbook"},
           "spec": {"project": "default",
                    "source": {"repoURL": "https://github.com/argoproj/argocd-example-apps.git",
                               "path": "guestbook", "targetRevision": "HEAD"},
                    "destination": {"server": "https://kubernetes.default.svc", "namespace": "default"}}}
    assert client.post(applications, json=app).status_code == 404  # no CRD yet
    crd = next(d for d in argocd_documents if d["metadata"]["name"] == "applications.argoproj.io")
    assert client.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=crd).status_code == 201
    assert client.post(applications, json=app).status_code == 201

    def synced() -> dict[str, Any] | None:
        status = (emulator.get("Application", "guestbook", "default") or {}).get("status", {})
        return status if status.get("sync", {}).get("status") == "Synced" else None

    status = _wait_for(synced)
    assert status["health"]["status"] == "Healthy"
    assert len(status["sync"]["revision"]) == 40
    table = client.get(applications, headers={
        "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}).json()
    assert [c["name"] for c in table["columnDefinitions"]][:3] == ["Name", "Sync Status", "Health Status"]
    assert table["rows"][0]["cells"][:3] == ["guestbook", "Synced", "Healthy"]
