"""The ``k8s-secret:`` scheme: references built by ``kube_secret_ref``, resolved against a real API.

Secrets live in the Kubernetes emulator; references are resolved through ``builtin_resolvers``,
as dtm resolves them, so the scheme's registration is tested too.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dtm_core.errors import DtmError, InvalidInputError, NetworkError, OperationError
from dtm_core.kubernetes import KubeClient
from dtm_core.kubernetes.secrets import kube_secret_ref
from dtm_core.secrets import SecretRef, builtin_resolvers, resolve_secret

WriteKubeconfig = Callable[..., Path]  # the conftest fixture
Resolve = Callable[..., str]
ODD_CONTEXT = "kubernetes-admin@kubernetes/dev"


PutSecret = Callable[[str, dict[str, bytes]], None]


@pytest.fixture
def put_secret(kube: KubeClient) -> PutSecret:
    """Apply Secret ``argocd/NAME`` holding ``data`` (base64-encoded, as the API stores it)."""

    def put(name: str, data: dict[str, bytes]) -> None:
        manifest = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
                    "data": {key: base64.b64encode(value).decode() for key, value in data.items()}}
        kube.apply(manifest, instance="test.default", namespace="argocd", create_namespace=True)

    return put


@pytest.fixture
def admin_secret(put_secret: PutSecret) -> None:
    """Secret ``argocd/argocd-initial-admin-secret`` with keys ``password`` and ``username``."""
    put_secret("argocd-initial-admin-secret", {"password": "s3cret-ÄÖ".encode(), "username": b"admin"})


@pytest.fixture
def environ(emulator: Any, tmp_path: Path) -> dict[str, str]:
    """An environment whose KUBECONFIG's current context is the emulator."""
    path = emulator.write_kubeconfig(tmp_path / "kubeconfig")
    return {"KUBECONFIG": str(path), "HOME": str(tmp_path)}


@pytest.fixture
def resolve(environ: dict[str, str]) -> Resolve:
    """Resolve a reference with the ``k8s-secret`` resolver of ``builtin_resolvers(environ)``."""

    def run(ref: SecretRef | str, env: dict[str, str] | None = None) -> str:
        target = ref.target if isinstance(ref, SecretRef) else ref
        return builtin_resolvers(env or environ)["k8s-secret"](target)

    return run


@pytest.fixture
def two_contexts(emulator: Any, tmp_path: Path, write_kubeconfig: WriteKubeconfig,
                 closed_port: str) -> dict[str, str]:
    """An environment whose current context ``broken`` has no cluster; ``ODD_CONTEXT`` is the emulator."""
    path = write_kubeconfig(tmp_path / "two" / "kubeconfig",
                            {"broken": (closed_port, None), ODD_CONTEXT: (emulator.url, None)},
                            current="broken", user={"token": emulator.token})
    return {"KUBECONFIG": str(path), "HOME": str(tmp_path)}


# -- references ------------------------------------------------------------------------------------------


def test_a_reference_reads_namespace_name_key_then_the_query() -> None:
    ref = kube_secret_ref("argocd", "argocd-initial-admin-secret", "password", context="kind-dev")
    assert str(ref) == "k8s-secret:argocd/argocd-initial-admin-secret/password?context=kind-dev"
    assert str(kube_secret_ref("argocd", "s", "password")) == "k8s-secret:argocd/s/password"


def test_a_reference_with_an_odd_context_survives_parsing_as_text() -> None:
    ref = kube_secret_ref("argocd", "s", "password", context=ODD_CONTEXT, kubeconfig="/etc/kube/config")
    assert "@" not in ref.target and ref.target.count("/") == 2
    assert SecretRef.parse(str(ref)) == ref


# -- resolving ------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("admin_secret")
def test_the_value_is_read_and_decoded(resolve: Resolve) -> None:
    assert resolve(kube_secret_ref("argocd", "argocd-initial-admin-secret", "password")) == "s3cret-ÄÖ"
    assert resolve(kube_secret_ref("argocd", "argocd-initial-admin-secret", "username")) == "admin"


@pytest.mark.usefixtures("admin_secret")
def test_dtm_resolves_the_scheme_into_a_masked_secret(environ: dict[str, str]) -> None:
    ref = kube_secret_ref("argocd", "argocd-initial-admin-secret", "password")
    value = resolve_secret(ref, builtin_resolvers(environ))
    assert value.reveal() == "s3cret-ÄÖ"
    assert value.ref == ref and "s3cret" not in f"{value} {value!r}"


@pytest.mark.usefixtures("admin_secret")
def test_the_context_in_the_reference_beats_the_current_context(
        resolve: Resolve, two_contexts: dict[str, str]) -> None:
    ref = kube_secret_ref("argocd", "argocd-initial-admin-secret", "password", context=ODD_CONTEXT)
    assert resolve(ref, two_contexts) == "s3cret-ÄÖ"
    with pytest.raises(NetworkError):  # without it, the current context's dead cluster is asked
        resolve(kube_secret_ref("argocd", "argocd-initial-admin-secret", "password"), two_contexts)


@pytest.mark.usefixtures("admin_secret")
def test_the_kubeconfig_in_the_reference_beats_kubeconfig_in_the_environment(
        resolve: Resolve, two_contexts: dict[str, str], environ: dict[str, str]) -> None:
    ref = kube_secret_ref("argocd", "argocd-initial-admin-secret", "password",
                          kubeconfig=environ["KUBECONFIG"])
    assert resolve(ref, two_contexts) == "s3cret-ÄÖ"


def test_a_missing_secret_says_so_with_a_hint(put_secret: PutSecret, resolve: Resolve) -> None:
    put_secret("other", {"k": b"v"})
    with pytest.raises(OperationError) as caught:
        resolve(kube_secret_ref("argocd", "argocd-initial-admin-secret", "password"))
    assert caught.value.message == ("secret argocd/argocd-initial-admin-secret does not exist "
                                    "(for k8s-secret:argocd/argocd-initial-admin-secret/password)")
    assert caught.value.hint is not None and "initial admin secret" in caught.value.hint


def test_a_secret_in_a_missing_namespace_is_missing_too(emulator: Any, resolve: Resolve) -> None:
    with pytest.raises(OperationError, match="secret nowhere/s does not exist"):
        resolve(kube_secret_ref("nowhere", "s", "password"))


@pytest.mark.usefixtures("admin_secret")
def test_a_missing_key_lists_the_keys_there_are(resolve: Resolve) -> None:
    with pytest.raises(OperationError) as caught:
        resolve(kube_secret_ref("argocd", "argocd-initial-admin-secret", "token"))
    assert caught.value.message == ("secret argocd/argocd-initial-admin-secret has no key 'token' "
                                    "(keys: password, username)")
    assert caught.value.hint == "fix the key in k8s-secret:argocd/argocd-initial-admin-secret/token"


def test_a_secret_without_data_lists_no_keys(put_secret: PutSecret, resolve: Resolve) -> None:
    put_secret("empty", {})
    with pytest.raises(OperationError, match=r"has no key 'password' \(keys: none\)"):
        resolve(kube_secret_ref("argocd", "empty", "password"))


def test_a_value_that_is_not_text_is_an_operation_error(put_secret: PutSecret, resolve: Resolve) -> None:
    put_secret("binary", {"keystore": b"\xff\xfe\x00"})
    with pytest.raises(OperationError) as caught:
        resolve(kube_secret_ref("argocd", "binary", "keystore"))
    assert caught.value.message == "secret argocd/binary key 'keystore' is not base64 text"


# -- bad references and unreachable clusters ------------------------------------------------------------


@pytest.mark.parametrize("target", ["onlyone", "argocd/s", "argocd/s/password/extra", "argocd//password",
                                    "/s/password?context=x"])
def test_a_malformed_reference_is_invalid_input(resolve: Resolve, target: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        resolve(target)
    assert caught.value.message == f"k8s-secret:{target} is not a Kubernetes secret reference"
    assert caught.value.hint == "write k8s-secret:NAMESPACE/SECRET/KEY, optionally followed by ?context=NAME"
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(("query", "name"), [("namespace=argocd", "namespace"),
                                             ("context=kind-dev&contxt=x", "contxt"),
                                             ("kind-dev", "kind-dev")],
                         ids=["unknown", "beside-a-known-one", "bare-word"])
def test_an_unknown_parameter_is_invalid_input(resolve: Resolve, query: str, name: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        resolve(f"argocd/s/password?{query}")
    assert caught.value.message == f"k8s-secret:argocd/s/password?{query}: unknown parameter {name!r}"
    assert caught.value.hint == "only context and kubeconfig may follow '?'"


@pytest.mark.parametrize("name", ["context", "kubeconfig"])
def test_a_parameter_without_a_value_is_invalid_input(resolve: Resolve, name: str) -> None:
    with pytest.raises(InvalidInputError, match=f"parameter '{name}' has no value"):
        resolve(f"argocd/s/password?{name}=")


def test_an_unknown_context_names_the_ones_there_are(resolve: Resolve) -> None:
    with pytest.raises(InvalidInputError, match=r"context 'kind-dev' is not in the kubeconfig .*"
                                                 r"available: dtm-sandbox"):
        resolve(kube_secret_ref("argocd", "s", "password", context="kind-dev"))


def test_an_unreachable_cluster_is_a_network_error(tmp_path: Path, write_kubeconfig: WriteKubeconfig,
                                                   closed_port: str, resolve: Resolve) -> None:
    path = write_kubeconfig(tmp_path / "dead" / "kubeconfig", {"dead": (closed_port, None)}, current="dead")
    with pytest.raises(DtmError) as caught:
        resolve(kube_secret_ref("argocd", "s", "password"), {"KUBECONFIG": str(path), "HOME": str(tmp_path)})
    assert isinstance(caught.value, NetworkError)
    assert caught.value.message == f"cannot reach the Kubernetes API at {closed_port}: connection refused"
    assert caught.value.hint is not None
