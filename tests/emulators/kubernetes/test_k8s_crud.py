"""CRUD semantics: resourceVersion and generation, status separation, selectors, patches, deletion."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from dtm_core.emulators.kubernetes import KubernetesEmulator

DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"
CONFIGMAPS = "/api/v1/namespaces/default/configmaps"
STATUS = "io.k8s.apimachinery.pkg.apis.meta.v1.Status"
STRATEGIC = {"Content-Type": "application/strategic-merge-patch+json"}
CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
       "metadata": {"name": "widgets.example.com"},
       "spec": {"group": "example.com", "scope": "Namespaced",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                "versions": [{"name": "v1", "served": True, "storage": True,
                              "subresources": {"status": {}},
                              "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                                  "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                                  "status": {"type": "object",
                                             "x-kubernetes-preserve-unknown-fields": True}}}}}]}}


def _configmap(name: str, labels: dict[str, str] | None = None, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels or {}},
            "data": data}


def _containers(*containers: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"template": {"spec": {"containers": list(containers)}}}}


def test_resource_versions_grow_and_a_stale_put_conflicts(client: httpx.Client, spec: Any) -> None:
    created = client.post(CONFIGMAPS, json=_configmap("settings", a="1")).json()
    first = created["metadata"]["resourceVersion"]
    created["data"]["a"] = "2"
    updated = client.put(f"{CONFIGMAPS}/settings", json=created)
    assert updated.status_code == 200
    assert int(updated.json()["metadata"]["resourceVersion"]) > int(first)
    created["data"]["a"] = "3"  # still carries the first resourceVersion
    stale = client.put(f"{CONFIGMAPS}/settings", json=created)
    assert stale.status_code == 409
    spec.check(stale.json(), STATUS)
    assert stale.json()["reason"] == "Conflict"
    assert stale.json()["message"] == ('Operation cannot be fulfilled on configmaps "settings": the object '
                                       "has been modified; please apply your changes to the latest version "
                                       "and try again")
    assert client.get(f"{CONFIGMAPS}/settings").json()["data"] == {"a": "2"}


def test_uid_timestamp_and_generation_are_the_servers(client: httpx.Client,
                                                      make_deployment: Callable[..., dict[str, Any]]) -> None:
    body = make_deployment("web")
    body["metadata"].update(uid="mine", generation=7, creationTimestamp="2000-01-01T00:00:00Z")
    created = client.post(DEPLOYMENTS, json=body).json()
    meta = created["metadata"]
    assert meta["uid"] != "mine" and meta["generation"] == 1
    assert meta["creationTimestamp"] != "2000-01-01T00:00:00Z"
    relabelled = client.patch(f"{DEPLOYMENTS}/web", json={"metadata": {"labels": {"tier": "front"}}},
                              headers={"Content-Type": "application/merge-patch+json"}).json()
    assert relabelled["metadata"]["generation"] == 1  # metadata is not spec
    scaled = client.patch(f"{DEPLOYMENTS}/web", json={"spec": {"replicas": 3}},
                          headers={"Content-Type": "application/merge-patch+json"}).json()
    assert scaled["metadata"]["generation"] == 2
    assert scaled["metadata"]["uid"] == meta["uid"]


def test_a_write_that_changes_nothing_keeps_the_resource_version(client: httpx.Client) -> None:
    created = client.post(CONFIGMAPS, json=_configmap("same", a="1")).json()
    again = client.patch(f"{CONFIGMAPS}/same", json={"data": {"a": "1"}},
                         headers={"Content-Type": "application/merge-patch+json"}).json()
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_status_is_a_separate_subresource(client: httpx.Client, emulator: KubernetesEmulator,
                                          make_deployment: Callable[..., dict[str, Any]]) -> None:
    body = make_deployment("web")
    body["status"] = {"replicas": 9}
    created = client.post(DEPLOYMENTS, json=body).json()
    assert created["status"] == {}
    created["status"] = {"replicas": 5}
    created["spec"]["replicas"] = 2
    del created["metadata"]["resourceVersion"]
    through_main = client.put(f"{DEPLOYMENTS}/web", json=created).json()
    assert through_main["spec"]["replicas"] == 2 and through_main["status"].get("replicas") != 5
    current = client.get(f"{DEPLOYMENTS}/web/status").json()
    del current["metadata"]["resourceVersion"]  # the controller may write status meanwhile
    current["spec"]["replicas"] = 7
    current["status"] = {"replicas": 4, "observedGeneration": 99}
    through_status = client.put(f"{DEPLOYMENTS}/web/status", json=current)
    assert through_status.status_code == 200
    assert through_status.json()["status"]["replicas"] == 4
    assert through_status.json()["spec"]["replicas"] == 2
    patched = client.patch(f"{DEPLOYMENTS}/web/status", json={"status": {"replicas": 6}},
                           headers={"Content-Type": "application/merge-patch+json"}).json()
    assert patched["status"]["replicas"] == 6
    entries = {(e["manager"], e.get("subresource", "")) for e in patched["metadata"]["managedFields"]}
    assert ("python-httpx", "status") in entries
    assert client.get("/api/v1/namespaces/default/configmaps/x/status").status_code == 404


def test_custom_resources_get_their_status_subresource_and_need_a_version_to_update(
        client: httpx.Client) -> None:
    assert client.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=CRD).status_code == 201
    widgets = "/apis/example.com/v1/namespaces/default/widgets"
    created = client.post(widgets, json={"apiVersion": "example.com/v1", "kind": "Widget",
                                         "metadata": {"name": "w"}, "spec": {"size": 1},
                                         "status": {"ready": True}}).json()
    assert created["status"] == {} and created["metadata"]["generation"] == 1
    del created["metadata"]["resourceVersion"]
    unconditional = client.put(f"{widgets}/w", json=created)
    assert unconditional.status_code == 422
    assert unconditional.json()["message"] == ('Widget.example.com "w" is invalid: metadata.resourceVersion: '
                                               "Invalid value: 0x0: must be specified for an update")
    strategic = client.patch(f"{widgets}/w", json={"spec": {"size": 2}},
                             headers={"Content-Type": "application/strategic-merge-patch+json"})
    assert strategic.status_code == 415
    assert strategic.json()["reason"] == "UnsupportedMediaType"
    status = client.patch(f"{widgets}/w/status", json={"status": {"ready": True}},
                          headers={"Content-Type": "application/merge-patch+json"}).json()
    assert status["status"] == {"ready": True} and status["metadata"]["generation"] == 1


def test_list_selects_by_label_and_field(client: httpx.Client) -> None:
    client.post(CONFIGMAPS, json=_configmap("a", {"app": "x", "tier": "web"}))
    client.post(CONFIGMAPS, json=_configmap("b", {"app": "x", "tier": "db"}))
    client.post(CONFIGMAPS, json=_configmap("c", {"app": "y"}))

    def names(**params: str) -> list[str]:
        answer = client.get(CONFIGMAPS, params=params).json()
        assert answer["kind"] == "ConfigMapList"
        return [item["metadata"]["name"] for item in answer["items"]]

    assert names(labelSelector="app=x") == ["a", "b"]
    assert names(labelSelector="app=x,tier!=web") == ["b"]
    assert names(labelSelector="tier in (web, db)") == ["a", "b"]
    assert names(labelSelector="!tier") == ["c"]
    assert names(fieldSelector="metadata.name=c") == ["c"]
    assert names(fieldSelector="metadata.name!=c", labelSelector="app") == ["a", "b"]
    unsupported = client.get(CONFIGMAPS, params={"fieldSelector": "data.a=1"})
    assert unsupported.status_code == 400
    assert unsupported.json()["message"] == "field label not supported: data.a"
    page = client.get(CONFIGMAPS, params={"limit": "2"}).json()
    assert len(page["items"]) == 2 and page["metadata"]["remainingItemCount"] == 1
    rest = client.get(CONFIGMAPS, params={"limit": "2", "continue": page["metadata"]["continue"]}).json()
    assert [item["metadata"]["name"] for item in rest["items"]] == ["c"]
    everywhere = client.get("/api/v1/configmaps").json()
    assert {item["metadata"]["namespace"] for item in everywhere["items"]} == {"default"}


@pytest.mark.parametrize("emulator", ["vendor", "own"], indirect=True)
def test_patch_types_merge_as_the_server_does(client: httpx.Client,
                                              make_deployment: Callable[..., dict[str, Any]]) -> None:
    body = make_deployment("web")
    body["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "busybox:1.36"})
    client.post(DEPLOYMENTS, json=body)
    strategic = client.patch(f"{DEPLOYMENTS}/web", headers=STRATEGIC, json=_containers(
        {"name": "web", "image": "nginx:1.28"})).json()
    containers = strategic["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [("web", "nginx:1.28"),
                                                             ("sidecar", "busybox:1.36")]
    assert containers[0]["ports"] == [{"containerPort": 80, "protocol": "TCP"}]  # merged, not replaced
    deleted = client.patch(f"{DEPLOYMENTS}/web", headers=STRATEGIC, json=_containers(
        {"name": "sidecar", "$patch": "delete"})).json()
    assert [c["name"] for c in deleted["spec"]["template"]["spec"]["containers"]] == ["web"]
    merged = client.patch(f"{DEPLOYMENTS}/web", headers={"Content-Type": "application/merge-patch+json"},
                          json=_containers({"name": "only", "image": "busybox:1.36"})).json()
    assert [c["name"] for c in merged["spec"]["template"]["spec"]["containers"]] == ["only"]  # lists replace
    json_patched = client.patch(f"{DEPLOYMENTS}/web", headers={"Content-Type": "application/json-patch+json"},
                                json=[{"op": "replace", "path": "/spec/replicas", "value": 4},
                                      {"op": "add", "path": "/metadata/labels/extra", "value": "yes"}]).json()
    assert json_patched["spec"]["replicas"] == 4 and json_patched["metadata"]["labels"]["extra"] == "yes"
    failed = client.patch(f"{DEPLOYMENTS}/web", headers={"Content-Type": "application/json-patch+json"},
                          json=[{"op": "test", "path": "/spec/replicas", "value": 1}])
    assert failed.status_code == 422
    unknown = client.patch(f"{DEPLOYMENTS}/web", headers={"Content-Type": "text/plain"}, content=b"x")
    assert unknown.status_code == 415


@pytest.mark.parametrize("emulator", ["vendor"], indirect=True)
def test_unknown_fields_are_refused_when_strict_and_dropped_with_a_warning_otherwise(
        client: httpx.Client) -> None:
    body = _configmap("typo", a="1")
    body["dta"] = {"b": "2"}
    strict = client.post(CONFIGMAPS, json=body, params={"fieldValidation": "Strict"})
    assert strict.status_code == 400
    assert strict.json()["message"] == 'strict decoding error: unknown field "dta"'
    warned = client.post(CONFIGMAPS, json=body)
    assert warned.status_code == 201
    assert warned.headers["Warning"] == '299 - "unknown field \\"dta\\""'
    assert "dta" not in warned.json()


def test_without_a_vendor_spec_objects_keep_unknown_fields_but_metadata_is_checked(
        client: httpx.Client) -> None:
    body = _configmap("typo", a="1")
    body["dta"] = {"b": "2"}
    kept = client.post(CONFIGMAPS, json=body, params={"fieldValidation": "Strict"})
    assert kept.status_code == 201 and kept.json()["dta"] == {"b": "2"}
    assert "Warning" not in kept.headers
    body = _configmap("typo2", a="1")
    body["metadata"]["lables"] = {"app": "x"}
    strict = client.post(CONFIGMAPS, json=body, params={"fieldValidation": "Strict"})
    assert strict.status_code == 400
    assert strict.json()["message"] == 'strict decoding error: unknown field "metadata.lables"'


def test_secrets_store_string_data_as_base64(client: httpx.Client) -> None:
    created = client.post("/api/v1/namespaces/default/secrets", json={
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token"}, "stringData": {"token": "abc"}})
    assert created.json()["data"] == {"token": "YWJj"} and created.json()["type"] == "Opaque"
    assert "stringData" not in created.json()


def test_dry_run_changes_nothing(client: httpx.Client, emulator: KubernetesEmulator) -> None:
    answer = client.post(CONFIGMAPS, json=_configmap("dry"), params={"dryRun": "All"})
    assert answer.status_code == 201 and answer.json()["metadata"]["uid"]
    assert emulator.get("configmaps", "dry", "default") is None


def test_delete_answers_a_status_or_the_object_and_namespaces_take_their_contents(
        client: httpx.Client, spec: Any, emulator: KubernetesEmulator,
        make_deployment: Callable[..., dict[str, Any]]) -> None:
    client.post("/api/v1/namespaces", json={"metadata": {"name": "team"}})
    client.post("/apis/apps/v1/namespaces/team/deployments", json=make_deployment("web"))
    client.post("/api/v1/namespaces/team/configmaps", json=_configmap("cfg"))
    deleted = client.delete("/api/v1/namespaces/team/configmaps/cfg",
                            params={"propagationPolicy": "Background"})
    spec.check(deleted.json(), STATUS)
    assert deleted.json()["status"] == "Success"
    assert deleted.json()["details"]["name"] == "cfg" and deleted.json()["details"]["kind"] == "configmaps"
    terminating = client.delete("/api/v1/namespaces/team").json()
    assert terminating["kind"] == "Namespace" and terminating["status"]["phase"] == "Terminating"
    refused = client.post("/api/v1/namespaces/team/configmaps", json=_configmap("late"))
    assert refused.status_code in (403, 404)  # 404 once the namespace is already gone
    deadline = time.monotonic() + 5
    while emulator.get("namespaces", "team") is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert emulator.get("namespaces", "team") is None
    assert emulator.objects(namespace="team") == []


def test_finalizers_hold_an_object_until_they_are_removed(client: httpx.Client,
                                                          emulator: KubernetesEmulator) -> None:
    body = _configmap("held")
    body["metadata"]["finalizers"] = ["example.com/keep"]
    client.post(CONFIGMAPS, json=body)
    pending = client.delete(f"{CONFIGMAPS}/held")
    assert pending.status_code == 200
    assert pending.json()["kind"] == "ConfigMap" and pending.json()["metadata"]["deletionTimestamp"]
    assert emulator.get("configmaps", "held", "default") is not None
    client.patch(f"{CONFIGMAPS}/held", json={"metadata": {"finalizers": None}},
                 headers={"Content-Type": "application/merge-patch+json"})
    assert emulator.get("configmaps", "held", "default") is None


def test_dependents_go_with_their_owner(client: httpx.Client, emulator: KubernetesEmulator) -> None:
    owner = client.post(CONFIGMAPS, json=_configmap("owner")).json()
    reference = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]["uid"]}
    for name in ("dependent-1", "dependent-2"):
        body = _configmap(name)
        body["metadata"]["ownerReferences"] = [reference]
        client.post(CONFIGMAPS, json=body)
    client.delete(f"{CONFIGMAPS}/owner", params={"propagationPolicy": "Foreground"})
    deadline = time.monotonic() + 5
    while emulator.objects("configmaps", "default") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert emulator.objects("configmaps", "default") == []


def test_workloads_scale_through_their_scale_subresource(
        client: httpx.Client, make_deployment: Callable[..., dict[str, Any]]) -> None:
    client.post(DEPLOYMENTS, json=make_deployment("web", replicas=2))
    scale = client.get(f"{DEPLOYMENTS}/web/scale").json()
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"] == {"replicas": 2} and scale["status"]["selector"] == "app=web"
    patched = client.patch(f"{DEPLOYMENTS}/web/scale", json={"spec": {"replicas": 5}},
                           headers={"Content-Type": "application/merge-patch+json"})
    assert patched.status_code == 200 and patched.json()["spec"] == {"replicas": 5}
    assert client.get(f"{DEPLOYMENTS}/web").json()["spec"]["replicas"] == 5
    negative = client.put(f"{DEPLOYMENTS}/web/scale", json={**scale, "spec": {"replicas": -1}})
    assert negative.status_code == 422
    assert client.get(f"{CONFIGMAPS}/x/scale").status_code == 404
