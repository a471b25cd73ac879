"""Server-side apply: field managers, conflicts and force, shared ownership, released fields."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"
CONFIGMAPS = "/api/v1/namespaces/default/configmaps"
STATUS = "io.k8s.apimachinery.pkg.apis.meta.v1.Status"
APPLY = {"Content-Type": "application/apply-patch+yaml"}
ApplyFn = Callable[..., httpx.Response]
# List keys and map semantics come from the schemas: the vendor description's, or the emulator's own.
pytestmark = pytest.mark.parametrize("emulator", ["vendor", "own"], indirect=True)


@pytest.fixture
def apply(client: httpx.Client) -> ApplyFn:
    def run(url: str, body: dict[str, Any] | str, manager: str | None, force: bool = False) -> httpx.Response:
        params = {"force": "true"} if force else {}
        if manager is not None:
            params["fieldManager"] = manager
        content = body if isinstance(body, str) else json.dumps(body)
        return client.patch(url, content=content, headers=APPLY, params=params)

    return run


def _managers(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["manager"]: entry for entry in obj["metadata"].get("managedFields", [])}


def test_apply_creates_and_records_the_manager(apply: ApplyFn, spec: Any,
                                               make_deployment: Callable[..., dict[str, Any]]) -> None:
    created = apply(f"{DEPLOYMENTS}/web", make_deployment("web", replicas=2), "deployer")
    assert created.status_code == 201
    spec.check(created.json(), "io.k8s.api.apps.v1.Deployment")
    entry = _managers(created.json())["deployer"]
    assert entry["operation"] == "Apply" and entry["fieldsType"] == "FieldsV1"
    fields = entry["fieldsV1"]
    assert fields["f:spec"]["f:replicas"] == {}
    assert fields["f:metadata"]["f:labels"] == {".": {}, "f:app": {}}
    containers = fields["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert containers['k:{"name":"web"}']["f:image"] == {}
    # A ConfigMap has no controller writing its status, so nothing else moves its version.
    settings = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "1"}}
    first = apply(f"{CONFIGMAPS}/settings", settings, "deployer")
    again = apply(f"{CONFIGMAPS}/settings", settings, "deployer")
    assert again.status_code == 200
    assert again.json()["metadata"]["resourceVersion"] == first.json()["metadata"]["resourceVersion"]


def test_apply_takes_yaml_and_requires_a_field_manager(apply: ApplyFn, spec: Any) -> None:
    document = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: yaml\ndata:\n  when: '2024-01-01'\n"
    assert apply(f"{CONFIGMAPS}/yaml", document, "yamler").json()["data"] == {"when": "2024-01-01"}
    missing = apply(f"{CONFIGMAPS}/yaml", document, None)
    assert missing.status_code == 422
    spec.check(missing.json(), STATUS)
    assert missing.json()["message"] == ('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required '
                                         "value: is required for apply patch")


def test_a_field_owned_by_another_manager_conflicts_until_forced(
        apply: ApplyFn, spec: Any, make_deployment: Callable[..., dict[str, Any]]) -> None:
    apply(f"{DEPLOYMENTS}/web", make_deployment("web", replicas=2), "first")
    conflict = apply(f"{DEPLOYMENTS}/web", make_deployment("web", replicas=3), "second")
    assert conflict.status_code == 409
    spec.check(conflict.json(), STATUS)
    body = conflict.json()
    assert body["reason"] == "Conflict"
    assert body["message"] == 'Apply failed with 1 conflict: conflict with "first": .spec.replicas'
    assert body["details"]["causes"] == [{"reason": "FieldManagerConflict",
                                          "message": 'conflict with "first"', "field": ".spec.replicas"}]
    forced = apply(f"{DEPLOYMENTS}/web", make_deployment("web", replicas=3), "second", force=True)
    assert forced.status_code == 200 and forced.json()["spec"]["replicas"] == 3
    managers = _managers(forced.json())
    assert "f:replicas" not in managers["first"]["fieldsV1"]["f:spec"]
    assert "f:replicas" in managers["second"]["fieldsV1"]["f:spec"]


def test_the_same_value_is_shared_and_several_conflicts_are_listed(
        apply: ApplyFn, client: httpx.Client, make_deployment: Callable[..., dict[str, Any]]) -> None:
    apply(f"{DEPLOYMENTS}/web", make_deployment("web", replicas=2), "first")
    shared = apply(f"{DEPLOYMENTS}/web", make_deployment("web", replicas=2), "second")
    assert shared.status_code == 200
    assert {"first", "second"} <= set(_managers(shared.json()))
    client.patch(f"{DEPLOYMENTS}/web", json={"spec": {"replicas": 5, "minReadySeconds": 3}},
                 params={"fieldManager": "tuner"}, headers={"Content-Type": "application/merge-patch+json"})
    desired = make_deployment("web", replicas=2)
    desired["spec"]["minReadySeconds"] = 1
    conflict = apply(f"{DEPLOYMENTS}/web", desired, "first").json()
    assert conflict["message"] == ('Apply failed with 2 conflicts: conflicts with "tuner" using apps/v1:\n'
                                   "- .spec.minReadySeconds\n- .spec.replicas")


def test_fields_dropped_from_the_applied_configuration_are_removed_unless_someone_else_owns_them(
        apply: ApplyFn) -> None:
    base = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}}
    apply(f"{CONFIGMAPS}/cfg", {**base, "data": {"a": "1", "b": "2", "c": "3"}}, "owner")
    apply(f"{CONFIGMAPS}/cfg", {**base, "data": {"c": "3"}}, "co-owner")
    after = apply(f"{CONFIGMAPS}/cfg", {**base, "data": {"a": "1"}}, "owner").json()
    assert after["data"] == {"a": "1", "c": "3"}


def test_apply_merges_lists_by_key(apply: ApplyFn, make_deployment: Callable[..., dict[str, Any]]) -> None:
    first = make_deployment("web")
    apply(f"{DEPLOYMENTS}/web", first, "app")
    sidecar = make_deployment("web")
    sidecar["spec"]["template"]["spec"]["containers"] = [{"name": "proxy", "image": "envoy:1.30"}]
    del sidecar["spec"]["replicas"]
    merged = apply(f"{DEPLOYMENTS}/web", sidecar, "mesh").json()
    assert [c["name"] for c in merged["spec"]["template"]["spec"]["containers"]] == ["web", "proxy"]


def test_apply_to_the_status_subresource(apply: ApplyFn, client: httpx.Client,
                                         make_deployment: Callable[..., dict[str, Any]]) -> None:
    apply(f"{DEPLOYMENTS}/web", make_deployment("web"), "app")
    status = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
              "status": {"observedGeneration": 1, "replicas": 1}}
    answer = apply(f"{DEPLOYMENTS}/web/status", status, "reporter", force=True)
    assert answer.status_code == 200
    entry = _managers(answer.json())["reporter"]
    assert entry["subresource"] == "status" and "f:status" in entry["fieldsV1"]


def test_a_map_emptied_by_released_fields_goes_too(apply: ApplyFn,
                                                   make_deployment: Callable[..., dict[str, Any]]) -> None:
    # structured-merge-diff #171: a released map must not linger as {} (Argo CD reads an empty
    # syncPolicy.automated as "auto-sync on").
    hardened = make_deployment("web")
    hardened["spec"]["template"]["spec"]["dnsConfig"] = {"nameservers": ["192.0.2.53"]}
    assert apply(f"{DEPLOYMENTS}/web", hardened, "deployer").status_code == 201
    again = apply(f"{DEPLOYMENTS}/web", make_deployment("web"), "deployer").json()
    assert "dnsConfig" not in again["spec"]["template"]["spec"]
    assert again["spec"]["template"]["spec"]["containers"][0]["name"] == "web"
