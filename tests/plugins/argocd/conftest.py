"""Fixtures for the Argo CD plugin: release manifests served on loopback, and dtm set up for them.

``cluster``, ``kubeconfig`` and ``kubectl`` come from ``tests/plugins/conftest.py``.

``releases`` -> ``ReleaseServer``
    Serves Argo CD install manifests over HTTP on loopback: the real v3.5.1 manifest from
    ../shared/specs, and variants made from it at run time (``add``). Counts downloads.
``argocd_dtm`` -> ``DtmHarness``
    dtm with only the dtm-plugins-argocd plugin, a kubeconfig for ``cluster``, and a registry
    whose Argo CD versions download from ``releases`` with their sha256 listed.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dtm_harness import DtmHarness
from releases import UPSTREAM_VERSION, ReleaseServer

REPO = Path(__file__).resolve().parents[3]
SPECS = Path(os.environ.get("DTM_SPECS_DIR") or REPO.parent / "shared" / "specs")
ARGOCD_MANIFEST = SPECS / "argocd-install-v3.5.1.yaml"
ARGOCD_SWAGGER = SPECS / "argocd-swagger.json"


def argocd_registry(artifacts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The repository's registry, with Argo CD's versions replaced by ``artifacts`` (by version)."""
    data = json.loads((REPO / "registry.json").read_text(encoding="utf-8"))
    template = next(iter(data["tools"]["argocd"]["versions"].values()))
    data["tools"]["argocd"]["versions"] = {
        version: {**template, "artifacts": files} for version, files in artifacts.items()}
    return data


@pytest.fixture(scope="session")
def upstream_manifest() -> bytes:
    if not ARGOCD_MANIFEST.exists():
        pytest.skip(f"the Argo CD manifest {ARGOCD_MANIFEST} is not available (set DTM_SPECS_DIR)")
    return ARGOCD_MANIFEST.read_bytes()


@pytest.fixture
def releases(upstream_manifest: bytes) -> Iterator[ReleaseServer]:
    server = ReleaseServer(upstream_manifest)
    server.files[f"/v{UPSTREAM_VERSION}/install.yaml"] = upstream_manifest
    yield server
    server.close()




@pytest.fixture
def write_registry(tmp_path: Path, dtm_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
                   ) -> Callable[[dict[str, dict[str, Any]]], Path]:
    """Point dtm at a registry listing these Argo CD versions and artifacts."""

    def write(artifacts: dict[str, dict[str, Any]]) -> Path:
        path = tmp_path / "registry.json"
        path.write_text(json.dumps(argocd_registry(artifacts)), encoding="utf-8")
        dtm_env["DTM_REGISTRY"] = str(path)
        monkeypatch.setenv("DTM_REGISTRY", str(path))
        return path

    return write


@pytest.fixture
def argocd_dtm(dtm_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, kubeconfig: Path,
               releases: ReleaseServer, write_registry: Callable[[dict[str, dict[str, Any]]], Path],
               tmp_path: Path) -> DtmHarness:
    """dtm with the real Argo CD plugin, the emulated cluster, and verified v3.5.1 on loopback."""
    upstream = {"url": f"{releases.url}/v{UPSTREAM_VERSION}/install.yaml",
                "sha256": hashlib.sha256(releases.upstream).hexdigest()}
    write_registry({UPSTREAM_VERSION: {"manifest": upstream}})
    settings = {"DTM_LOAD_PLUGINS": "dtm-plugins-argocd", "DTM_PLUGINS": "",
                "KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path)}
    for key, value in settings.items():
        dtm_env[key] = value
        monkeypatch.setenv(key, value)
    return DtmHarness(home=Path(dtm_env["DTM_HOME"]), env=dtm_env)




@pytest.fixture(scope="session")
def argocd_swagger() -> dict[str, Any]:
    if not ARGOCD_SWAGGER.exists():
        pytest.skip(f"Argo CD's API description {ARGOCD_SWAGGER} is not available (set DTM_SPECS_DIR)")
    loaded: dict[str, Any] = json.loads(ARGOCD_SWAGGER.read_text(encoding="utf-8"))
    return loaded
