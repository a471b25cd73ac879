"""Discovery: built-in kinds as the spec lists them, and custom resources from the moment a CRD exists."""

from __future__ import annotations

from typing import Any

import httpx

from dtm_core.emulators.kubernetes import KubernetesEmulator

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
       "metadata": {"name": "gadgets.example.com"},
       "spec": {"group": "example.com", "scope": "Cluster",
                "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "shortNames": ["gd"]},
                "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                              "schema": {"openAPIV3Schema": {
                                  "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}}


def _resources(client: httpx.Client, group_version: str) -> dict[str, dict[str, Any]]:
    answer = client.get(f"/{group_version}")
    assert answer.status_code == 200, answer.text
    return {resource["name"]: resource for resource in answer.json()["resources"]}


def test_every_kind_of_the_spec_is_discoverable(client: httpx.Client, spec: Any) -> None:
    gvks = [op["x-kubernetes-group-version-kind"] for item in spec.document["paths"].values()
            for op in item.values() if isinstance(op, dict) and "x-kubernetes-group-version-kind" in op]
    kinds = {(gvk["group"], gvk["version"], gvk["kind"]) for gvk in gvks}
    assert len(kinds) == 16
    for group, version, kind in kinds:
        group_version = f"apis/{group}/{version}" if group else "api/v1"
        listed = {resource["kind"] for resource in _resources(client, group_version).values()}
        assert kind in listed, (group, kind)
    core = _resources(client, "api/v1")
    assert core["namespaces"]["namespaced"] is False and core["namespaces"]["shortNames"] == ["ns"]
    assert core["configmaps"]["singularName"] == "configmap"
    assert core["services/status"]["verbs"] == ["get", "patch", "update"]
    apps = _resources(client, "apis/apps/v1")
    assert "watch" in apps["deployments"]["verbs"] and apps["deployments"]["categories"] == ["all"]
    assert "deployments/status" in apps and "statefulsets/status" in apps


def test_a_crd_adds_its_group_and_resources_and_takes_them_away(client: httpx.Client,
                                                                emulator: KubernetesEmulator) -> None:
    def groups() -> set[str]:
        return {group["name"] for group in client.get("/apis").json()["groups"]}

    assert "example.com" not in groups()
    assert client.get("/apis/example.com/v1").status_code == 404
    created = client.post(CRDS, json=CRD).json()
    conditions = {c["type"]: c["status"] for c in created["status"]["conditions"]}
    assert conditions == {"NamesAccepted": "True", "Established": "True"}
    assert "example.com" in groups()
    assert client.get("/apis/example.com").json()["preferredVersion"]["groupVersion"] == "example.com/v1"
    listed = _resources(client, "apis/example.com/v1")
    assert listed["gadgets"] | {"storageVersionHash": ""} == {
        "name": "gadgets", "singularName": "gadget", "namespaced": False, "kind": "Gadget",
        "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        "shortNames": ["gd"], "storageVersionHash": ""}
    assert listed["gadgets/status"]["kind"] == "Gadget"
    gadget = {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g1"}, "color": "red"}
    assert client.post("/apis/example.com/v1/gadgets", json=gadget).status_code == 201
    assert client.delete(f"{CRDS}/gadgets.example.com").status_code == 200
    assert "example.com" not in groups()
    assert client.get("/apis/example.com/v1/gadgets").status_code == 404
    assert emulator.objects("Gadget") == []


def test_version_and_health(client: httpx.Client) -> None:
    version = client.get("/version").json()
    assert version["gitVersion"] == "v1.36.0" and version["major"] == "1" and version["minor"] == "36"
    assert client.get("/healthz").text == "ok"
    assert client.get("/apis/nothing.example/v1/things").status_code == 404
