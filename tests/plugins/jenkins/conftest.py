"""Fixtures for the Jenkins plugin: an emulated cluster, dtm with only this plugin, and kubectl.

``cluster`` -> ``KubernetesEmulator``
    Running on loopback, workloads ready 0.2 s after each change.
``jenkins_dtm`` -> ``DtmHarness``
    dtm with only the dtm-plugins-jenkins plugin, a kubeconfig for ``cluster``, and the
    repository's registry (Jenkins versions name an image; nothing is downloaded).
``list_versions`` -> callable
    Rewrites that registry so it lists only the given Jenkins versions (to stage an upgrade).
``kubectl`` -> ``Kubectl``
    The real kubectl talking to ``cluster`` (skips when it is not installed).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from dtm_harness import DtmHarness

REPO = Path(__file__).resolve().parents[3]




@pytest.fixture
def jenkins_dtm(dtm_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, kubeconfig: Path,
                tmp_path: Path) -> DtmHarness:
    """dtm with the real Jenkins plugin, the emulated cluster and the repository's registry."""
    registry = tmp_path / "registry.json"
    shutil.copyfile(REPO / "registry.json", registry)
    settings = {"DTM_LOAD_PLUGINS": "dtm-plugins-jenkins", "DTM_PLUGINS": "", "DTM_REGISTRY": str(registry),
                "KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path)}
    for key, value in settings.items():
        dtm_env[key] = value
        monkeypatch.setenv(key, value)
    return DtmHarness(home=Path(dtm_env["DTM_HOME"]), env=dtm_env)


@pytest.fixture
def list_versions(jenkins_dtm: DtmHarness) -> Callable[..., None]:
    """Make the registry list only these Jenkins versions (all of the repository's when none given)."""

    def write(*versions: str) -> None:
        data = json.loads((REPO / "registry.json").read_text(encoding="utf-8"))
        listed = data["tools"]["jenkins"]["versions"]
        data["tools"]["jenkins"]["versions"] = {version: entry for version, entry in listed.items()
                                                if not versions or version in versions}
        Path(jenkins_dtm.env["DTM_REGISTRY"]).write_text(json.dumps(data), encoding="utf-8")

    return write


