"""Failures of the API or the network: one line each, in dtm's words, with the fix as a hint."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from dtm_core.errors import InvalidInputError, NetworkError, OperationError
from dtm_core.kubernetes import KubeClient, ObjectRef, load_kube_client
from dtm_core.retries import RetryPolicy

WriteKubeconfig = Callable[..., Path]  # the conftest fixture
CONFIG_MAP: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                              "data": {"k": "v"}}
UNREACHABLE_HINT = "is the cluster running? check 'kubectl cluster-info' and your kubeconfig context"


def client_for(tmp_path: Path, write_kubeconfig: WriteKubeconfig, server: str, **options: Any) -> KubeClient:
    path = write_kubeconfig(tmp_path / "kubeconfig", {"test": (server, None)}, current="test",
                            **({"user": options.pop("user")} if "user" in options else {}))
    return load_kube_client({"KUBECONFIG": str(path)}, **options)


def test_closed_port_is_a_network_error(tmp_path: Path, write_kubeconfig: WriteKubeconfig,
                                        closed_port: str) -> None:
    with client_for(tmp_path, write_kubeconfig, closed_port) as kube, pytest.raises(NetworkError) as caught:
        kube.apply(CONFIG_MAP, instance="c.main")
    assert caught.value.message == f"cannot reach the Kubernetes API at {closed_port}: connection refused"
    assert caught.value.hint == UNREACHABLE_HINT
    assert caught.value.exit_code == 1


@pytest.mark.parametrize(("failure", "reason"), [
    pytest.param(httpx.ConnectError("[Errno -2] Name or service not known"), "host name not resolved",
                 id="dns"),
    pytest.param(httpx.ConnectTimeout("timed out"), "timed out", id="timeout"),
])
def test_transport_failures(tmp_path: Path, write_kubeconfig: WriteKubeconfig, failure: httpx.HTTPError,
                            reason: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(failure, httpx.ConnectError):
            raise failure from socket.gaierror(-2, "Name or service not known")
        raise failure

    server = "https://k8s.example.invalid:6443"
    with client_for(tmp_path, write_kubeconfig, server, transport=httpx.MockTransport(handler)) as kube, \
            pytest.raises(NetworkError) as caught:
        kube.get(ObjectRef("v1", "ConfigMap", "c", "default"))
    assert caught.value.message == f"cannot reach the Kubernetes API at {server}: {reason}"


def test_forbidden_names_the_rbac_problem(kube: KubeClient, emulator: Any) -> None:
    emulator.forbid("patch", "deployments", namespace="app")
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                  "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {
                      "metadata": {"labels": {"a": "b"}},
                      "spec": {"containers": [{"name": "c", "image": "i"}]}}}}

    with pytest.raises(OperationError) as caught:
        kube.apply(deployment, instance="app.main", namespace="app", create_namespace=True)

    assert caught.value.message == ('Kubernetes RBAC does not allow user "dtm-sandbox" to patch '
                                    'deployments.apps in namespace "app"')
    assert caught.value.hint == ("ask a cluster admin for a Role or ClusterRole that allows 'patch' on "
                                 "deployments.apps (check with "
                                 "'kubectl auth can-i patch deployments.apps -n app')")


def test_forbidden_at_cluster_scope(kube: KubeClient, emulator: Any) -> None:
    emulator.forbid("list", "configmaps")
    with pytest.raises(OperationError) as caught:
        kube.list_managed("x.main", kinds=[("v1", "ConfigMap")])
    assert caught.value.message == ('Kubernetes RBAC does not allow user "dtm-sandbox" to list configmaps '
                                    "at the cluster scope")


def test_wrong_credentials(tmp_path: Path, write_kubeconfig: WriteKubeconfig) -> None:
    from dtm_core.emulators.kubernetes import KubernetesEmulator

    with KubernetesEmulator(token="right") as emulator:
        url = emulator.url
        with client_for(tmp_path, write_kubeconfig, url, user={"token": "wrong"}) as kube, \
                pytest.raises(OperationError) as caught:
            kube.get(ObjectRef("v1", "ConfigMap", "c", "default"))
    assert caught.value.message == (f"the Kubernetes API at {url} rejected the credentials of context "
                                    "'test' (401 Unauthorized)")


def test_missing_token_file(tmp_path: Path, write_kubeconfig: WriteKubeconfig, emulator: Any) -> None:
    user = {"tokenFile": "/nonexistent/token"}
    with client_for(tmp_path, write_kubeconfig, emulator.url, user=user) as kube, \
            pytest.raises(InvalidInputError) as caught:
        kube.get(ObjectRef("v1", "ConfigMap", "c", "default"))
    assert caught.value.message == (f"cannot authenticate to the Kubernetes API at {emulator.url} "
                                    "(context 'test'): Token file /nonexistent/token not found")


def test_field_manager_conflict_without_force(kube: KubeClient) -> None:
    kube.apply(CONFIG_MAP, instance="c.main", field_manager="someone-else")
    changed = {**CONFIG_MAP, "data": {"k": "mine"}}

    with pytest.raises(OperationError) as caught:
        kube.apply(changed, instance="c.main", force=False)

    assert caught.value.message.startswith("cannot patch configmap default/c: "
                                           "Apply failed with 1 conflict")
    assert caught.value.hint == ("another field manager owns these fields: apply with force=True "
                                 "to take them over, or leave them out of the manifest")
    kube.apply(changed, instance="c.main")  # force=True, the default, takes them over


def test_invalid_object_uses_the_status_message(kube: KubeClient) -> None:
    bad: dict[str, Any] = {**CONFIG_MAP, "metadata": {"name": "Bad_Name"}}
    with pytest.raises(OperationError) as caught:
        kube.apply(bad, instance="s.main")
    assert caught.value.message.startswith('cannot patch configmap default/Bad_Name: ConfigMap "Bad_Name" is '
                                           'invalid: metadata.name: Invalid value: "Bad_Name": ')
    assert caught.value.hint == "fix the manifest; the server's message says where"


def test_a_passing_server_error_is_retried_as_apply_is_idempotent(kube: KubeClient, emulator: Any) -> None:
    emulator.fail_next("PATCH", "/api/v1/namespaces/default/configmaps", 500, times=2)
    kube.apply(CONFIG_MAP, instance="c.main")
    assert emulator.get("ConfigMap", "c", "default") is not None


def test_server_error(kube: KubeClient, emulator: Any) -> None:
    emulator.fail_next("PATCH", "/api/v1/namespaces/default/configmaps", 500, times=RetryPolicy.attempts)
    with pytest.raises(NetworkError) as caught:
        kube.apply(CONFIG_MAP, instance="c.main")
    assert caught.value.message == (f"cannot patch configmap default/c: the Kubernetes API at {kube.server} "
                                    "answered 500: Internal error occurred: injected fault")


def test_error_page_that_is_not_a_status(tmp_path: Path, write_kubeconfig: WriteKubeconfig) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>\n<h1>502 Bad Gateway</h1></html>",
                              headers={"Content-Type": "text/html"})

    with client_for(tmp_path, write_kubeconfig, "https://proxy.example:443",
                    transport=httpx.MockTransport(handler)) as kube, pytest.raises(NetworkError) as caught:
        kube.get(ObjectRef("v1", "ConfigMap", "c", "default"))
    assert caught.value.message == ("cannot get configmap default/c: "
                                    "the Kubernetes API at https://proxy.example:443 answered 502: <html>")
