"""Fixtures the Kubernetes-based plugins' tests share: an emulated cluster, its kubeconfig, kubectl.

``cluster`` -> ``KubernetesEmulator`` on loopback, workloads ready 0.2 s after each change.
``kubeconfig`` -> a kubeconfig file for ``cluster``.
``kubectl`` -> the real kubectl talking to ``cluster`` (skips when it is not installed).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubectl import KUBECTL, Kubectl

from dtm_core.emulators.kubernetes import KubernetesEmulator


@pytest.fixture
def cluster() -> Iterator[KubernetesEmulator]:
    with KubernetesEmulator(ready_delay=0.2) as running:
        yield running


@pytest.fixture
def kubeconfig(cluster: KubernetesEmulator, tmp_path: Path) -> Path:
    return cluster.write_kubeconfig(tmp_path / "kube" / "config")


@pytest.fixture
def kubectl(cluster: KubernetesEmulator, tmp_path: Path) -> Kubectl:
    if not KUBECTL.exists() or shutil.which(str(KUBECTL)) is None:
        pytest.skip(f"kubectl is not installed at {KUBECTL}")
    home = tmp_path / "kubectl-home"
    home.mkdir()
    return Kubectl(home, cluster.write_kubeconfig(home / "config"))
