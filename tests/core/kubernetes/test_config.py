"""Choosing the cluster as kubectl does: KUBECONFIG lists, merge rules, context and kubeconfig options."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from dtm_core.errors import InvalidInputError
from dtm_core.kubernetes import load_kube_client
from dtm_core.kubernetes.config import choose_cluster

WriteKubeconfig = Callable[..., Path]  # the conftest fixture


def test_kubeconfig_list_merges_first_definition_wins(tmp_path: Path,
                                                      write_kubeconfig: WriteKubeconfig) -> None:
    first = write_kubeconfig(tmp_path / "a" / "config", {"shared": ("https://first:6443", "ns-a")})
    second = write_kubeconfig(tmp_path / "b" / "config", {"shared": ("https://second:6443", "ns-b"),
                                                          "only-b": ("https://b-only:6443", None)},
                              current="shared")
    environ = {"KUBECONFIG": os.pathsep.join([str(first), str(tmp_path / "missing"), str(second)])}

    choice = choose_cluster(environ)

    # current-context comes from the first file that sets one (the second); the context named
    # "shared" and its cluster come from the first file that defines them.
    assert (choice.context, choice.server, choice.namespace) == ("shared", "https://first:6443", "ns-a")
    assert choice.files == (first, second)
    other = choose_cluster(environ, context="only-b")
    assert (other.server, other.namespace) == ("https://b-only:6443", "default")


def test_relative_paths_are_relative_to_the_file_that_names_them(tmp_path: Path,
                                                                   write_kubeconfig: WriteKubeconfig) -> None:
    token = tmp_path / "b" / "token"
    token.parent.mkdir()
    token.write_text("from-file\n", encoding="utf-8")
    first = write_kubeconfig(tmp_path / "a" / "config", {"one": ("https://one:6443", None)}, current="two")
    second = write_kubeconfig(tmp_path / "b" / "config", {"two": ("https://two:6443", None)},
                              user={"tokenFile": "token"})

    choice = choose_cluster({"KUBECONFIG": f"{first}{os.pathsep}{second}"})

    assert choice.config.user is not None and choice.config.user.token_file == str(token)


def test_context_and_kubeconfig_options_override(tmp_path: Path, write_kubeconfig: WriteKubeconfig) -> None:
    listed = write_kubeconfig(tmp_path / "listed", {"x": ("https://x:6443", None)}, current="x")
    other = write_kubeconfig(tmp_path / "other",
                             {"p": ("https://p:6443", None), "q": ("https://q:6443", "qq")}, current="p")

    choice = choose_cluster({"KUBECONFIG": str(listed)}, kubeconfig=other, context="q", namespace="argocd")

    assert (choice.context, choice.server, choice.namespace) == ("q", "https://q:6443", "argocd")
    assert choice.files == (other,)


def test_home_comes_from_the_given_environment(tmp_path: Path, write_kubeconfig: WriteKubeconfig) -> None:
    write_kubeconfig(tmp_path / "home" / ".kube" / "config", {"home": ("https://home:6443", None)},
                     current="home")

    with load_kube_client({"HOME": str(tmp_path / "home")}) as client:
        assert (client.context, client.server, client.namespace) == ("home", "https://home:6443", "default")


@pytest.mark.parametrize(("environ", "message"), [
    pytest.param({}, "no Kubernetes cluster configured: "
                     "KUBECONFIG is unset and ~/.kube/config does not exist", id="nothing"),
    pytest.param({"KUBECONFIG": "{tmp}/a:{tmp}/b"},
                 "no Kubernetes cluster configured: none of the files in KUBECONFIG exist ({tmp}/a, {tmp}/b)",
                 id="all-listed-missing"),
])
def test_no_cluster_configured(tmp_path: Path, environ: dict[str, str], message: str) -> None:
    environ = {key: value.format(tmp=tmp_path) for key, value in environ.items()}
    with pytest.raises(InvalidInputError) as caught:
        load_kube_client({"HOME": str(tmp_path), **environ})
    assert caught.value.message == message.format(tmp=tmp_path)
    assert caught.value.exit_code == 2
    assert caught.value.hint and "KUBECONFIG" in caught.value.hint


def test_missing_kubeconfig_option(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as caught:
        choose_cluster({"HOME": str(tmp_path)}, kubeconfig="~/nowhere")
    assert caught.value.message == f"kubeconfig file {tmp_path}/nowhere does not exist"


def test_unknown_context_names_the_available_ones(tmp_path: Path, write_kubeconfig: WriteKubeconfig) -> None:
    contexts = {"kind-dev": ("https://a", None), "prod": ("https://b", None)}
    path = write_kubeconfig(tmp_path / "config", contexts, current="kind-dev")
    with pytest.raises(InvalidInputError) as caught:
        choose_cluster({"KUBECONFIG": str(path)}, context="staging")
    assert caught.value.message == (f"context 'staging' is not in the kubeconfig ({path}); "
                                    "available: kind-dev, prod")
    assert caught.value.hint == "pass one of the available contexts as the 'context' option"


def test_no_current_context(tmp_path: Path, write_kubeconfig: WriteKubeconfig) -> None:
    path = write_kubeconfig(tmp_path / "config", {"a": ("https://a", None)}, current=None)
    with pytest.raises(InvalidInputError) as caught:
        choose_cluster({"KUBECONFIG": str(path)})
    assert caught.value.message == f"the kubeconfig ({path}) sets no current-context (available: a)"


def test_context_naming_a_missing_cluster(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("contexts: [{name: c, context: {cluster: gone}}]\ncurrent-context: c\n", encoding="utf-8")
    with pytest.raises(InvalidInputError) as caught:
        choose_cluster({"KUBECONFIG": str(path)})
    assert caught.value.message == f"context 'c' refers to cluster 'gone', which the kubeconfig ({path}) " \
                                   "does not define"


def test_unreadable_kubeconfig(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("clusters: [\n", encoding="utf-8")
    with pytest.raises(InvalidInputError) as caught:
        choose_cluster({"KUBECONFIG": str(path)})
    assert caught.value.message.startswith(f"cannot read kubeconfig {path}: ")
    assert "\n" not in caught.value.message
