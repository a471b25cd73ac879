"""Fixtures for ``dtm_core.kubernetes``: a running emulator, a client for it, kubeconfig writers.

``emulator`` -> ``KubernetesEmulator`` on loopback, ready delay 0.3 s, stopped after the test.
``kube`` -> ``KubeClient`` for ``emulator`` through a written kubeconfig (fast polling).
``write_kubeconfig(path, contexts, current=...)`` -> Path; contexts map name -> (server, namespace).
``closed_port`` -> a loopback URL nothing listens on.
``widgets`` -> (CustomResourceDefinition of kind Widget, a Widget), as dicts.
"""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dtm_core.kubernetes import KubeClient, load_kube_client

WriteKubeconfig = Callable[..., Path]


def kubeconfig_data(contexts: dict[str, tuple[str, str | None]], current: str | None = None,
                    user: dict[str, Any] | None = None) -> dict[str, Any]:
    """A kubeconfig with one cluster, user and context per entry of ``contexts``."""
    return {
        "apiVersion": "v1", "kind": "Config", "current-context": current,
        "clusters": [{"name": f"{name}-cluster", "cluster": {"server": server}}
                     for name, (server, _) in contexts.items()],
        "users": [{"name": f"{name}-user", "user": user or {"token": f"{name}-token"}} for name in contexts],
        "contexts": [{"name": name, "context": {"cluster": f"{name}-cluster", "user": f"{name}-user",
                                                **({"namespace": namespace} if namespace else {})}}
                     for name, (_, namespace) in contexts.items()],
    }


_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.dtm.dev"},
    "spec": {"group": "example.dtm.dev", "scope": "Namespaced",
             "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
             "versions": [{"name": "v1", "served": True, "storage": True,
                           "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                               "spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}}}}]},
}
_WIDGET: dict[str, Any] = {"apiVersion": "example.dtm.dev/v1", "kind": "Widget", "metadata": {"name": "w1"},
                           "spec": {"size": 3}}


@pytest.fixture
def widgets() -> tuple[dict[str, Any], dict[str, Any]]:
    """A namespaced CustomResourceDefinition (kind Widget) and one Widget."""
    return copy.deepcopy(_CRD), copy.deepcopy(_WIDGET)


@pytest.fixture
def write_kubeconfig() -> WriteKubeconfig:
    def write(path: Path, contexts: dict[str, tuple[str, str | None]], current: str | None = None,
              **extra: Any) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(kubeconfig_data(contexts, current, **extra)), encoding="utf-8")
        return path

    return write


@pytest.fixture
def emulator() -> Iterator[Any]:
    module = pytest.importorskip("dtm_core.emulators.kubernetes", reason="the Kubernetes emulator is missing")
    with module.KubernetesEmulator(ready_delay=0.3) as running:
        yield running


@pytest.fixture
def kube(emulator: Any, tmp_path: Path) -> Iterator[KubeClient]:
    path = emulator.write_kubeconfig(tmp_path / "kubeconfig")
    with load_kube_client({"KUBECONFIG": str(path), "HOME": str(tmp_path)}) as client:
        client.poll_interval = 0.05
        yield client


@pytest.fixture
def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
