"""Fixtures for the Kubernetes emulator tests: a running emulator, an HTTP client, the spec, kubectl.

``emulator`` (per test) -> ``KubernetesEmulator``
    Started with a 0.3 s ready delay and stopped after the test. By default without a vendor
    OpenAPI description (``$DTM_K8S_OPENAPI`` is ignored); parametrize it indirectly with
    ``"vendor"`` (the shared ``kubernetes-core-apps.json``, skipping when it is missing) or
    ``"own"`` (the emulator's own description).
``client`` (per test) -> ``httpx.Client``
    Talks to ``emulator`` with its bearer token; non-2xx answers do not raise.
``spec_file`` (session) -> ``Path``
    The shared ``kubernetes-core-apps.json`` (skips when the specs folder is missing).
``spec`` (session) -> ``SpecValidator``
    Validates JSON against a definition of ``kubernetes-core-apps.json`` (Swagger 2.0), with the
    README's quirks: IntOrString and Quantity accept numbers and strings. Objects whose spec
    declares ``properties`` reject undeclared fields, so the emulator cannot invent fields.
``kubectl`` (per test) -> ``Kubectl``
    Runs the real ``/usr/bin/kubectl`` against ``emulator`` with a private HOME, kubeconfig and
    discovery cache; skips the test when kubectl is not installed.
``argocd_manifest`` (session) -> ``Path``
    The real Argo CD v3.5.1 install manifest (skips when the specs folder is missing).
``argocd_documents`` (session) -> ``list[dict]``
    The documents of the real Argo CD v3.5.1 install manifest.
``make_deployment`` -> ``deployment(name, *, replicas=1, image=..., annotations=None)``
    A minimal valid apps/v1 Deployment, as a dict.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft4Validator
from kubectl import KUBECTL, Kubectl
from ruamel.yaml import YAML

from dtm_core.emulators.kubernetes import KubernetesEmulator
from dtm_core.emulators.kubernetes.emulator import OPENAPI_ENV

# Upstream files are never copied into the repository: tests read them from ../shared/specs.
REPO = Path(__file__).resolve().parents[3]
SPECS = Path(os.environ.get("DTM_SPECS_DIR") or REPO.parent / "shared" / "specs")
SPEC_FILE = SPECS / "kubernetes-core-apps.json"
ARGOCD_MANIFEST = SPECS / "argocd-install-v3.5.1.yaml"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
STATUS = "io.k8s.apimachinery.pkg.apis.meta.v1.Status"


def _closed(schema: Any) -> None:
    """Make a schema reject fields it does not declare, down through its properties and items."""
    if not isinstance(schema, dict) or "$ref" in schema:
        return
    for child in (schema.get("properties") or {}).values():
        _closed(child)
    _closed(schema.get("items"))
    if isinstance(schema.get("additionalProperties"), dict):
        _closed(schema["additionalProperties"])
    if "properties" in schema:
        schema.setdefault("additionalProperties", False)


class SpecValidator:
    """JSON Schema validation against the spec's Swagger 2.0 definitions (``$ref`` resolved in-file)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        definitions = copy.deepcopy(document["definitions"])
        # Known quirks (specs/README.md): both are declared as strings, manifests carry numbers too.
        definitions[INT_OR_STRING] = {"type": ["integer", "string"]}
        definitions[QUANTITY] = {"type": ["string", "number"]}
        for definition in definitions.values():
            _closed(definition)
        self.definitions = definitions

    @functools.cache  # noqa: B019 - one validator per definition for the session-scoped instance
    def _validator(self, name: str) -> Draft4Validator:
        return Draft4Validator({"$ref": f"#/definitions/{name}", "definitions": self.definitions})

    def errors(self, instance: Any, name: str) -> list[str]:
        return [f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
                for error in self._validator(name).iter_errors(instance)]

    def check(self, instance: Any, name: str) -> None:
        problems = self.errors(instance, name)
        assert not problems, f"{name}:\n" + "\n".join(problems[:20])

    def definition_for(self, api_version: str, kind: str) -> str | None:
        group, _, version = api_version.rpartition("/")
        for name, definition in self.document["definitions"].items():
            for gvk in definition.get("x-kubernetes-group-version-kind", ()):
                if (gvk["group"], gvk["version"], gvk["kind"]) == (group, version, kind):
                    return name
        return None

    def operation(self, method: str, path: str) -> dict[str, Any]:
        operation: dict[str, Any] = self.document["paths"][path][method.lower()]
        return operation

    def response_definition(self, method: str, path: str, code: int) -> str | None:
        response = self.operation(method, path)["responses"].get(str(code))
        if response is None or "schema" not in response:
            return None
        ref: str = response["schema"]["$ref"]
        return ref.rsplit("/", 1)[-1]

    def body_definition(self, method: str, path: str) -> str | None:
        for parameter in self.operation(method, path).get("parameters", []):
            if "$ref" in parameter:
                parameter = self.document["parameters"][parameter["$ref"].rsplit("/", 1)[-1]]
            if parameter.get("in") == "body":
                ref: str = parameter["schema"]["$ref"]
                return ref.rsplit("/", 1)[-1]
        return None


@pytest.fixture(scope="session")
def spec_file() -> Path:
    if not SPEC_FILE.exists():
        pytest.skip(f"the shared spec file {SPEC_FILE} is not available: upstream files are kept outside "
                    "the repository, in ../shared/specs (or set DTM_SPECS_DIR)")
    return SPEC_FILE


@pytest.fixture(scope="session")
def spec(spec_file: Path) -> SpecValidator:
    return SpecValidator(json.loads(spec_file.read_text(encoding="utf-8")))


@pytest.fixture(scope="session")
def argocd_manifest() -> Path:
    if not ARGOCD_MANIFEST.exists():
        pytest.skip(f"the Argo CD manifest {ARGOCD_MANIFEST} is not available (set DTM_SPECS_DIR)")
    return ARGOCD_MANIFEST


@pytest.fixture(scope="session")
def argocd_documents(argocd_manifest: Path) -> list[dict[str, Any]]:
    documents = YAML(typ="safe", pure=True).load_all(argocd_manifest.read_text(encoding="utf-8"))
    return [document for document in documents if document]


@pytest.fixture
def emulator(request: pytest.FixtureRequest,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[KubernetesEmulator]:
    monkeypatch.delenv(OPENAPI_ENV, raising=False)
    mode = getattr(request, "param", "own")
    openapi_spec = request.getfixturevalue("spec_file") if mode == "vendor" else None
    with KubernetesEmulator(ready_delay=0.3, openapi_spec=openapi_spec) as running:
        yield running


@pytest.fixture
def client(emulator: KubernetesEmulator) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {emulator.token}"}
    with httpx.Client(base_url=emulator.url, headers=headers, timeout=10) as http:
        yield http


@pytest.fixture
def kubectl(emulator: KubernetesEmulator, tmp_path: Path) -> Kubectl:
    if not KUBECTL.exists() or shutil.which(str(KUBECTL)) is None:
        pytest.skip(f"kubectl is not installed at {KUBECTL}")
    home = tmp_path / "kubectl-home"
    home.mkdir()
    return Kubectl(home, emulator.write_kubeconfig(home / "config"))


def deployment(name: str, *, replicas: int = 1, image: str = "nginx:1.27",
               annotations: dict[str, str] | None = None) -> dict[str, Any]:
    """A minimal valid apps/v1 Deployment."""
    meta: dict[str, Any] = {"name": name, "labels": {"app": name}}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "web", "image": image,
                                                           "ports": [{"containerPort": 80}]}]}}}}


@pytest.fixture
def make_deployment() -> Callable[..., dict[str, Any]]:
    return deployment
