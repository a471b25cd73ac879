"""Every kept operation of kubernetes-core-apps.json answers as the spec describes, and so do errors.

Request bodies the tests send are validated against the operation's body parameter, responses
against the schema of the status code received. Errors, which the spec does not document,
validate against ``meta.v1.Status`` (specs/README.md, "Known quirks"). The emulator runs with the
shared file as its vendor description, so it judges objects by the same schemas.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from dtm_core.emulators.kubernetes import KubernetesEmulator

pytestmark = pytest.mark.parametrize("emulator", ["vendor"], indirect=True)
NS = "conformance"
STATUS = "io.k8s.apimachinery.pkg.apis.meta.v1.Status"
CRD_NAME = "widgets.example.com"
LABELS = {"app": "sample"}
POD_TEMPLATE = {"metadata": {"labels": LABELS},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                                         "ports": [{"containerPort": 80}],
                                         "resources": {"limits": {"cpu": 1, "memory": "64Mi"}}}]}}
SAMPLES: dict[str, dict[str, Any]] = {
    "namespaces": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
    "configmaps": {"apiVersion": "v1", "kind": "ConfigMap", "data": {"key": "value"}},
    "secrets": {"apiVersion": "v1", "kind": "Secret", "stringData": {"password": "s3cret"}},
    "serviceaccounts": {"apiVersion": "v1", "kind": "ServiceAccount"},
    "services": {"apiVersion": "v1", "kind": "Service",
                 "spec": {"selector": LABELS, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}},
    "persistentvolumeclaims": {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                               "spec": {"accessModes": ["ReadWriteOnce"],
                                        "resources": {"requests": {"storage": "1Gi"}}}},
    "deployments": {"apiVersion": "apps/v1", "kind": "Deployment",
                    "spec": {"replicas": 2, "selector": {"matchLabels": LABELS}, "template": POD_TEMPLATE}},
    "statefulsets": {"apiVersion": "apps/v1", "kind": "StatefulSet",
                     "spec": {"serviceName": "sample", "selector": {"matchLabels": LABELS},
                              "template": POD_TEMPLATE}},
    "roles": {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
              "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]},
    "rolebindings": {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "sample"},
                     "subjects": [{"kind": "ServiceAccount", "name": "sample", "namespace": NS}]},
    "clusterroles": {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                     "rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]}]},
    "clusterrolebindings": {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                        "name": "sample"},
                            "subjects": [{"kind": "ServiceAccount", "name": "sample", "namespace": NS}]},
    "networkpolicies": {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                        "spec": {"podSelector": {"matchLabels": LABELS}, "policyTypes": ["Ingress"],
                                 "ingress": [{"ports": [{"port": 80, "protocol": "TCP"}]}]}},
    "leases": {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
               "spec": {"holderIdentity": "sample", "leaseDurationSeconds": 15}},
    "customresourcedefinitions": {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": CRD_NAME},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
                 "versions": [{"name": "v1", "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                                   "spec": {"type": "object",
                                            "x-kubernetes-preserve-unknown-fields": True}}}}}]}},
}


def _kind(template: str) -> str:
    parts = [part for part in template.split("/") if part and not part.startswith("{")]
    if parts[-1] == "status":
        parts.pop()
    return parts[-1]


def _sample(kind: str) -> dict[str, Any]:
    body = json.loads(json.dumps(SAMPLES[kind]))
    body.setdefault("metadata", {}).setdefault("name", "sample")
    return body


class Conformance:
    """Sends requests for spec operations and checks both directions against the spec."""

    def __init__(self, client: httpx.Client, spec: Any) -> None:
        self.client, self.spec = client, spec
        self.exercised: set[str] = set()

    def call(self, method: str, template: str, body: Any = None, content_type: str = "application/json",
             expect: int = 200, params: dict[str, str] | None = None) -> Any:
        kind = _kind(template)
        name = NS if kind == "namespaces" else CRD_NAME if kind == "customresourcedefinitions" else "sample"
        url = template.rstrip("/").format(namespace=NS, name=name) or "/"
        if body is not None:
            definition = self.spec.body_definition(method, template)
            assert definition, f"{method} {template} takes no body"
            if content_type != "application/json-patch+json":  # Patch is declared an object (quirk)
                self.spec.check(body, definition)
        response = self.client.request(method, url, content=None if body is None else json.dumps(body),
                                       headers={"Content-Type": content_type}, params=params)
        assert response.status_code == expect, f"{method} {url}: {response.status_code} {response.text[:300]}"
        answer = response.json()
        definition = self.spec.response_definition(method, template, response.status_code)
        assert definition, f"{method} {template} documents no {response.status_code} reply"
        if method == "DELETE" and answer.get("kind") != "Status":
            # Known quirk: DELETE is documented as a Status, yet the real server answers with the
            # object for namespaces (and objects deleted later, through finalizers).
            definition = self.spec.definition_for(answer["apiVersion"], answer["kind"])
        self.spec.check(answer, definition)
        self.exercised.add(f"{method} {template}")
        return answer


def _kept(spec: Any) -> list[tuple[str, str]]:
    return [tuple(op.split(" ", 1)) for op in spec.document["x-dtm-source"]["kept_operations"]]  # type: ignore[misc]


def test_every_kept_operation_answers_as_the_spec_describes(client: httpx.Client, spec: Any,
                                                            emulator: KubernetesEmulator) -> None:
    run = Conformance(client, spec)
    kept = _kept(spec)
    run.call("POST", "/api/v1/namespaces", _sample("namespaces"), expect=201)
    creates = [t for m, t in kept if m == "POST" and t != "/api/v1/namespaces"]
    for template in sorted(creates, key=lambda t: _kind(t) != "customresourcedefinitions"):
        run.call("POST", template, _sample(_kind(template)), expect=201)
    for method, template in kept:
        if method == "GET":
            run.call("GET", template)
    for method, template in kept:
        if method == "PATCH":
            patches = [("application/merge-patch+json", {"metadata": {"labels": {"patched": "merge"}}}),
                       ("application/json-patch+json",
                        [{"op": "add", "path": "/metadata/annotations", "value": {"patched": "json"}}])]
            if _kind(template) != "namespaces":
                patches.append(("application/strategic-merge-patch+json",
                                {"metadata": {"labels": {"s": "1"}}}))
            for content_type, patch in patches:
                run.call("PATCH", template, patch, content_type)
            applied = _sample(_kind(template))
            run.call("PATCH", template, applied, "application/apply-patch+yaml",
                     params={"fieldManager": "conformance", "force": "true"})
    for method, template in kept:
        if method == "DELETE" and _kind(template) != "namespaces":
            run.call("DELETE", template)
    run.call("DELETE", "/api/v1/namespaces/{name}")
    assert run.exercised == {f"{method} {template}" for method, template in kept}
    assert emulator.objects("configmaps", NS) == []


@pytest.mark.parametrize("template", [
    "/api/v1/namespaces/{namespace}/configmaps/{name}",
    "/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
    "/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}",
])
def test_errors_are_status_bodies_in_the_servers_words(client: httpx.Client, spec: Any,
                                                       template: str) -> None:
    plural = _kind(template)
    group = template.split("/")[2] if template.startswith("/apis/") else ""
    resource = f"{plural}.{group}" if group else plural
    missing = client.get(template.format(namespace="default", name="missing"))
    assert missing.status_code == 404
    spec.check(missing.json(), STATUS)
    assert missing.json()["message"] == f'{resource} "missing" not found'
    expected = {"name": "missing", **({"group": group} if group else {}), "kind": plural}
    assert missing.json()["details"] == expected
    collection = template.rsplit("/", 1)[0].format(namespace="default")
    body = _sample(plural)
    assert client.post(collection, json=body).status_code == 201
    duplicate = client.post(collection, json=body)
    assert duplicate.status_code == 409
    spec.check(duplicate.json(), STATUS)
    assert duplicate.json()["reason"] == "AlreadyExists"
    assert duplicate.json()["message"] == f'{resource} "sample" already exists'


def test_namespaced_objects_need_their_namespace(client: httpx.Client, spec: Any) -> None:
    answer = client.post("/api/v1/namespaces/nowhere/configmaps", json=_sample("configmaps"))
    assert answer.status_code == 404
    spec.check(answer.json(), STATUS)
    assert answer.json()["message"] == 'namespaces "nowhere" not found'


def test_the_argocd_manifest_is_stored_as_valid_objects(client: httpx.Client, spec: Any,
                                                        argocd_documents: list[dict[str, Any]],
                                                        emulator: KubernetesEmulator) -> None:
    assert client.post("/api/v1/namespaces", json={"metadata": {"name": "argocd"}}).status_code == 201
    for document in argocd_documents:
        group_version, kind = document["apiVersion"], document["kind"]
        definition = spec.definition_for(group_version, kind)
        assert definition, f"no definition for {group_version} {kind}"
        spec.check(document, definition)
        rtype = emulator.registry.find(kind)
        assert rtype is not None, kind
        namespace = "/namespaces/argocd" if rtype.namespaced else ""
        url = f"{rtype.prefix}{namespace}/{rtype.plural}/{document['metadata']['name']}"
        answer = client.patch(url, params={"fieldManager": "conformance"}, content=json.dumps(document),
                              headers={"Content-Type": "application/apply-patch+yaml"})
        assert answer.status_code == 201, answer.text[:300]
        stored = client.get(url).json()
        spec.check(stored, definition)
    assert len(emulator.objects(namespace="argocd")) == sum(
        1 for d in argocd_documents if emulator.registry.find(d["kind"]).namespaced)  # type: ignore[union-attr]


def test_discovery_lists_validate(client: httpx.Client, spec: Any) -> None:
    spec.check(client.get("/version").json(), "io.k8s.apimachinery.pkg.version.Info")
    spec.check(client.get("/api").json(), "io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions")
    spec.check(client.get("/apis").json(), "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList")
    spec.check(client.get("/apis/apps").json(), "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup")
    for group_version in ("api/v1", "apis/apps/v1", "apis/rbac.authorization.k8s.io/v1"):
        answer = client.get(f"/{group_version}").json()
        spec.check(answer, "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList")


def test_openapi_v3_says_what_kubectl_looks_for(client: httpx.Client, spec: Any) -> None:
    """kubectl's field-validation check wants a PATCH per kind with ``fieldValidation``, and its
    client-side apply wants the kind's schema and a strategic-merge request body."""
    root = client.get("/openapi/v3").json()
    url = root["paths"]["apis/apps/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/apis/apps/v1?hash=")
    document = client.get(url).json()
    patch = document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    gvk = patch["x-kubernetes-group-version-kind"]
    assert gvk == {"group": "apps", "kind": "Deployment", "version": "v1"}
    assert any(p.get("name") == "fieldValidation" for p in patch["parameters"])
    assert "application/strategic-merge-patch+json" in patch["requestBody"]["content"]
    schema = document["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"]
    assert schema["properties"]["spec"]["$ref"] == "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec"
    v2 = client.get("/openapi/v2").json()
    assert v2["definitions"] == spec.document["definitions"] and v2["paths"] == spec.document["paths"]
