"""The OpenAPI description the emulator serves: where it comes from, and its own when it has none."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

import dtm_core.emulators.kubernetes as package
from dtm_core.emulators.kubernetes import KubernetesEmulator
from dtm_core.emulators.kubernetes.emulator import OPENAPI_ENV
from dtm_core.emulators.kubernetes.resources import BUILTINS

SMP = "application/strategic-merge-patch+json"
TINY_SPEC = {"swagger": "2.0", "info": {"title": "tiny", "version": "v0"}, "paths": {}, "definitions": {}}


def _definitions(emulator: KubernetesEmulator) -> dict[str, Any]:
    with httpx.Client(base_url=emulator.url, timeout=10) as http:
        definitions: dict[str, Any] = http.get("/openapi/v2").json()["definitions"]
        return definitions


def test_the_package_holds_no_upstream_copy() -> None:
    folder = Path(package.__file__).parent
    assert sorted(p.name for p in folder.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")) == []


def test_the_spec_comes_from_the_argument_then_the_environment_then_nowhere(
        spec_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tiny = tmp_path / "tiny.json"
    tiny.write_text(json.dumps(TINY_SPEC), encoding="utf-8")
    monkeypatch.setenv(OPENAPI_ENV, str(spec_file))
    with KubernetesEmulator(openapi_spec=tiny) as given:
        assert given.openapi_spec == tiny.resolve() and _definitions(given) == {}
    with KubernetesEmulator() as from_environment:
        assert from_environment.openapi_spec == spec_file.resolve()
        assert "io.k8s.api.apps.v1.DeploymentSpec" in _definitions(from_environment)
    monkeypatch.setenv(OPENAPI_ENV, "")
    with KubernetesEmulator() as own:
        assert own.openapi_spec is None
        assert "io.k8s.api.apps.v1.DeploymentSpec" not in _definitions(own)


def test_a_spec_that_cannot_be_read_is_refused_with_its_path(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(ValueError, match="cannot read the Kubernetes OpenAPI description .*missing.json"):
        KubernetesEmulator(openapi_spec=missing)
    (tmp_path / "list.json").write_text("[]", encoding="utf-8")
    with pytest.raises(ValueError, match="list.json is not a Swagger 2.0 description"):
        KubernetesEmulator(openapi_spec=tmp_path / "list.json")


def test_without_a_spec_every_kind_has_a_schema_and_a_patch_kubectl_can_use(client: httpx.Client) -> None:
    root = client.get("/openapi/v3").json()["paths"]
    assert set(root) == {"api", "apis", "version", *(t.prefix.lstrip("/") for t in BUILTINS)}
    documents = {key: client.get(entry["serverRelativeURL"]).json() for key, entry in root.items()}
    for rtype in BUILTINS:
        document = documents[rtype.prefix.lstrip("/")]
        gvk = {"group": rtype.group, "version": rtype.version, "kind": rtype.kind}
        schemas = [s for s in document["components"]["schemas"].values()
                   if gvk in s.get("x-kubernetes-group-version-kind", [])]
        assert len(schemas) == 1, rtype.kind
        assert schemas[0]["type"] == "object" and schemas[0]["x-kubernetes-preserve-unknown-fields"] is True
        assert {"apiVersion", "kind", "metadata"} <= set(schemas[0]["properties"])
        patches = [item["patch"] for item in document["paths"].values()
                   if item.get("patch", {}).get("x-kubernetes-group-version-kind") == gvk]
        assert patches, rtype.kind
        for patch in patches:
            assert any(p.get("name") == "fieldValidation" for p in patch["parameters"])
            # kubectl then builds client-side apply patches from its compiled-in types.
            assert set(patch["requestBody"]["content"]) == {
                "application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"}
            assert SMP not in patch["requestBody"]["content"]


def test_without_a_spec_the_lists_merged_by_key_are_declared(client: httpx.Client) -> None:
    v2 = client.get("/openapi/v2").json()
    deployment = v2["definitions"]["io.k8s.api.apps.v1.Deployment"]
    pod_spec = deployment["properties"]["spec"]["properties"]["template"]["properties"]["spec"]
    containers = pod_spec["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["items"]["properties"]["env"]["x-kubernetes-list-map-keys"] == ["name"]
    assert v2["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["patch"][
        "x-kubernetes-group-version-kind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}
