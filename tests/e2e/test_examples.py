"""The shipped examples against a real `dtm sandbox`: applied, planned as no change, destroyed."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from dtm_harness import DtmHarness

REPO = Path(__file__).resolve().parents[2]
PLUGINS = "dtm-plugins-github,dtm-plugins-argocd,dtm-plugins-jenkins"


@pytest.fixture
def sandboxed(dtm_env: dict[str, str], tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[DtmHarness]:
    """dtm with the seed plugins, pointed at a sandbox it started (as `eval "$(dtm sandbox env)"`)."""
    home = tmp_path / "home"
    env = dict(dtm_env, DTM_HOME=str(home), DTM_PLUGINS="", DTM_LOAD_PLUGINS=PLUGINS, HOME=str(tmp_path))
    for key in ("DTM_HOME", "DTM_PLUGINS", "DTM_LOAD_PLUGINS", "HOME"):
        monkeypatch.setenv(key, env[key])
    dtm = DtmHarness(home=home, env=env)
    up = dtm.run("sandbox", "up")
    assert up.exit_code == 0, up.stderr
    try:
        exported = json.loads(dtm.run("sandbox", "env", "-o", "json").stdout)
        for key, value in exported.items():
            env[key] = value
            monkeypatch.setenv(key, value)
        yield dtm
    finally:
        down = dtm.run("sandbox", "down", "--purge")
        assert down.exit_code == 0, down.stderr


@pytest.mark.parametrize("example", ["quickstart.yaml", "jenkins.yaml"])
def test_an_example_applies_plans_as_no_change_and_destroys(sandboxed: DtmHarness, example: str) -> None:
    path = str(REPO / "examples" / example)
    applied = sandboxed.run("apply", "-f", path, "-y")
    assert applied.exit_code == 0, applied.stderr
    assert "transaction 1: ok" in applied.stderr
    unchanged = sandboxed.run("plan", "-f", path, "--detailed-exitcode")
    assert unchanged.exit_code == 0, unchanged.stdout + unchanged.stderr
    status = json.loads(sandboxed.run("status", "-f", path, "-o", "json").stdout)
    assert {row["live"] for row in status} == {"ok"}
    held = json.loads(sandboxed.run("sandbox", "status", "-o", "json").stdout)
    assert held  # what the sandbox holds now: repositories, namespaces, jobs
    destroyed = sandboxed.run("destroy", "-f", path, "-y")
    assert destroyed.exit_code == 0, destroyed.stderr
    assert sandboxed.state()["instances"] == {}


def test_the_quickstart_leaves_argo_cd_where_kubectl_sees_it(sandboxed: DtmHarness) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    assert sandboxed.run("apply", "-f", str(REPO / "examples" / "quickstart.yaml"), "-y").exit_code == 0
    seen = subprocess.run([kubectl, "get", "deployments", "-A", "-o", "name"], capture_output=True,
                          text=True, check=True, env=sandboxed.env, timeout=30).stdout.split()
    assert "deployment.apps/argocd-server" in seen
    apps = subprocess.run([kubectl, "-n", "argocd", "get", "applications", "-o", "name"], capture_output=True,
                          text=True, check=True, env=sandboxed.env, timeout=30).stdout.split()
    assert apps == ["application.argoproj.io/hello-gitops"]
