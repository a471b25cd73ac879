"""Server-side apply through ``KubeClient.apply``: order, labels, field manager, CRDs, idempotence."""

from __future__ import annotations

from typing import Any

import pytest

from dtm_core.errors import InvalidInputError, OperationError
from dtm_core.kubernetes import INSTANCE_LABEL, MANAGED_BY_LABEL, KubeClient, ObjectRef

Widgets = tuple[dict[str, Any], dict[str, Any]]  # the conftest fixture

STACK = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  greeting: hello
  released: 2024-05-01
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.27", ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
"""



def test_apply_orders_labels_and_owns_fields(kube: KubeClient, emulator: Any) -> None:
    refs = kube.apply(STACK, instance="shop.main", namespace="shop", labels={"team": "web"})

    assert refs == [
        ObjectRef("v1", "Namespace", "shop"),
        ObjectRef("v1", "ConfigMap", "web-config", "shop"),
        ObjectRef("apps/v1", "Deployment", "web", "shop"),
        ObjectRef("v1", "Service", "web", "shop"),
    ]
    for ref in refs:
        stored = emulator.get(ref.kind, ref.name, ref.namespace or "")
        assert stored is not None, ref
        labels = stored["metadata"]["labels"]
        assert labels[MANAGED_BY_LABEL] == "dtm"
        assert (labels[INSTANCE_LABEL], labels["team"]) == ("shop.main", "web")
        managers = {(entry["manager"], entry["operation"]) for entry in stored["metadata"]["managedFields"]}
        assert ("dtm", "Apply") in managers, ref
    deployment = emulator.get("Deployment", "web", "shop")
    assert deployment["metadata"]["labels"]["app"] == "web"  # the manifest's own labels stay
    assert "team" not in deployment["spec"]["template"]["metadata"]["labels"]  # pod templates untouched
    # A YAML timestamp stays the string it was written as.
    assert emulator.get("ConfigMap", "web-config", "shop")["data"]["released"] == "2024-05-01"


def test_reapply_without_change_keeps_the_generation(kube: KubeClient, emulator: Any) -> None:
    kube.apply(STACK, instance="shop.main", namespace="shop")
    before = emulator.get("Deployment", "web", "shop")["metadata"]
    config_map = emulator.get("ConfigMap", "web-config", "shop")["metadata"]

    kube.apply(STACK, instance="shop.main", namespace="shop")

    after = emulator.get("Deployment", "web", "shop")["metadata"]
    assert after["generation"] == before["generation"] == 1
    # Nothing writes status to a ConfigMap, so its version shows whether the no-op apply wrote at all.
    assert emulator.get("ConfigMap", "web-config", "shop")["metadata"]["resourceVersion"] == \
        config_map["resourceVersion"]


def test_crd_then_custom_resource_in_one_apply(kube: KubeClient, emulator: Any,
                                               widgets: Widgets) -> None:
    crd, widget = widgets
    refs = kube.apply([widget, crd], instance="widgets.main", namespace="default")

    assert refs == [ObjectRef(crd["apiVersion"], crd["kind"], "widgets.example.dtm.dev"),
                    ObjectRef("example.dtm.dev/v1", "Widget", "w1", "default")]
    widget = emulator.get("widgets", "w1", "default")
    assert widget["spec"] == {"size": 3}
    assert widget["metadata"]["labels"][INSTANCE_LABEL] == "widgets.main"
    assert kube.get(refs[1]) is not None and kube.exists(refs[1])


def test_custom_resource_whose_crd_is_already_on_the_cluster(kube: KubeClient, emulator: Any,
                                                             widgets: Widgets) -> None:
    names = {"kind": "Gadget", "plural": "gadgets", "singular": "gadget", "listKind": "GadgetList"}
    crd = {**widgets[0], "metadata": {"name": "gadgets.example.dtm.dev"},
           "spec": {**widgets[0]["spec"], "scope": "Cluster", "names": names}}
    kube.apply(crd, instance="gadgets.main")

    refs = kube.apply({"apiVersion": "example.dtm.dev/v1", "kind": "Gadget", "metadata": {"name": "g"}},
                      instance="gadgets.main", namespace="ignored-for-cluster-scope")

    assert refs == [ObjectRef("example.dtm.dev/v1", "Gadget", "g")]
    assert emulator.get("gadgets", "g") is not None


def test_unknown_kind_fails_before_anything_is_written(kube: KubeClient, emulator: Any) -> None:
    manifests = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "first"}},
                 {"apiVersion": "nowhere.dtm.dev/v1", "kind": "Ghost", "metadata": {"name": "g"}}]
    with pytest.raises(OperationError) as caught:
        kube.apply(manifests, instance="ghost.main")
    assert caught.value.message == ("cannot apply Ghost g: the cluster does not serve kind Ghost of "
                                    "nowhere.dtm.dev/v1")
    assert emulator.get("ConfigMap", "first", "default") is None


def test_missing_namespace_and_create_namespace(kube: KubeClient, emulator: Any) -> None:
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    with pytest.raises(OperationError) as caught:
        kube.apply(config_map, instance="c.main", namespace="absent")
    assert caught.value.message == 'cannot patch configmap absent/c: namespace "absent" does not exist'

    refs = kube.apply(config_map, instance="c.main", namespace="absent", create_namespace=True)

    assert refs == [ObjectRef("v1", "Namespace", "absent"), ObjectRef("v1", "ConfigMap", "c", "absent")]
    assert emulator.get("Namespace", "absent")["metadata"]["labels"][MANAGED_BY_LABEL] == "dtm"
    # Its own namespace again; but never one it did not make (so a delete never removes it).
    assert kube.apply(config_map, instance="c.main", namespace="absent", create_namespace=True) == refs
    other = kube.apply(config_map, instance="other.main", namespace="absent", create_namespace=True)
    assert other == refs[1:]
    assert kube.apply(config_map, instance="c.main", create_namespace=True) == [
        ObjectRef("v1", "ConfigMap", "c", "default")]
    assert "labels" not in emulator.get("Namespace", "default")["metadata"]


def test_refs_names_what_apply_would_write(kube: KubeClient) -> None:
    assert kube.refs(STACK, namespace="x")[:2] == [ObjectRef("v1", "Namespace", "shop"),
                                                   ObjectRef("v1", "ConfigMap", "web-config", "x")]


@pytest.mark.parametrize(("manifests", "message"), [
    pytest.param("kind: ConfigMap\nmetadata: {name: a}\n",
                 "manifest document 1 (ConfigMap) has no apiVersion", id="no-api-version"),
    pytest.param("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"
                 "apiVersion: v1\nkind: ConfigMap\n",
                 "manifest document 2 (ConfigMap) has no metadata.name", id="no-name"),
    pytest.param("- just\n- a list\n", "manifest document 1 is not a mapping", id="not-a-mapping"),
    pytest.param({"apiVersion": "v1", "kind": "List", "items": [{"kind": "Secret"}]},
                 "manifest object 1, item 1 (Secret) has no apiVersion, metadata.name", id="list-item"),
])
def test_invalid_manifests(kube: KubeClient, manifests: Any, message: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        kube.apply(manifests, instance="bad.main")
    assert caught.value.message == message


def test_invalid_yaml_is_one_line(kube: KubeClient) -> None:
    with pytest.raises(InvalidInputError) as caught:
        kube.apply("a: [\n", instance="bad.main")
    assert caught.value.message.startswith("manifest is not valid YAML: ")
    assert "\n" not in caught.value.message


def test_instance_must_be_a_label_value(kube: KubeClient) -> None:
    with pytest.raises(InvalidInputError) as caught:
        kube.apply(STACK, instance="argocd main")
    assert caught.value.message == "instance 'argocd main' cannot be a Kubernetes label value"
