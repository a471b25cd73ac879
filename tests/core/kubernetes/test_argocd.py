"""The real Argo CD v3.5.1 install manifest: apply into ``argocd``, wait for it, re-apply, delete."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from dtm_core.kubernetes import INSTANCE_LABEL, KubeClient, ObjectRef

MANIFEST = Path(os.environ.get("DTM_SPECS_DIR", "/work/shared/specs")) / "argocd-install-v3.5.1.yaml"


@pytest.fixture(scope="module")
def argocd_manifest() -> str:
    if not MANIFEST.is_file():
        pytest.skip(f"the Argo CD install manifest {MANIFEST} is not available (set DTM_SPECS_DIR)")
    return MANIFEST.read_text(encoding="utf-8")


def test_install_argocd_and_wait_until_ready(kube: KubeClient, emulator: Any, argocd_manifest: str) -> None:
    refs = kube.apply(argocd_manifest, instance="argocd.main", namespace="argocd", create_namespace=True)
    lines: list[str] = []

    kube.wait_ready(refs, timeout=30, progress=lines.append)

    assert refs[0] == ObjectRef("v1", "Namespace", "argocd")
    assert [ref.name for ref in refs[1:4]] == ["applications.argoproj.io", "applicationsets.argoproj.io",
                                               "appprojects.argoproj.io"]
    workloads = [ref for ref in refs if ref.kind in ("Deployment", "StatefulSet")]
    assert len(workloads) == 7 and all(ref.namespace == "argocd" for ref in workloads)
    assert "waiting for deployment argocd/argocd-server (0/1 ready)" in lines
    assert "waiting for statefulset argocd/argocd-application-controller (0/1 ready)" in lines
    for ref in workloads:
        stored = emulator.get(ref.kind, ref.name, "argocd")
        assert stored["status"].get("readyReplicas") == stored["spec"].get("replicas", 1), ref
        assert stored["metadata"]["labels"][INSTANCE_LABEL] == "argocd.main"
    # Cluster-scoped objects got no namespace; the manifest's namespaced ones all went to argocd.
    assert emulator.get("ClusterRole", "argocd-server")["metadata"].get("namespace") is None
    assert len(emulator.objects("ConfigMap", "argocd")) == 7

    def generations() -> list[int]:
        return [emulator.get(ref.kind, ref.name, "argocd")["metadata"]["generation"] for ref in workloads]

    before = generations()
    again = kube.apply(argocd_manifest, instance="argocd.main", namespace="argocd", create_namespace=True)
    assert again == refs and generations() == before
    assert set(kube.list_managed("argocd.main")) == set(refs)

    assert kube.delete(refs, timeout=30) == [*reversed(refs[4:]), *reversed(refs[1:4]), refs[0]]
    assert emulator.get("Namespace", "argocd") is None
    assert emulator.get("CustomResourceDefinition", "applications.argoproj.io") is None
