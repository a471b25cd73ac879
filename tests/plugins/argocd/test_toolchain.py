"""Argo CD through `dtm apply -f`: converge a toolchain, find drift made with kubectl, re-apply, destroy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dtm_harness import DtmHarness
from kubectl import Kubectl

from dtm_core.emulators.kubernetes import KubernetesEmulator

TOOLCHAIN = """\
version: 1
tools:
  - tool: argocd
    options:
      timeout: 60
  - tool: argocd-app
    name: guestbook
    options:
      name: guestbook
      namespace: ${{ argocd.default.outputs.namespace }}
      repo_url: https://github.com/argoproj/argocd-example-apps
      path: guestbook
      self_heal: true
"""


@pytest.fixture
def toolchain(tmp_path: Path) -> str:
    path = tmp_path / "toolchain.yaml"
    path.write_text(TOOLCHAIN, encoding="utf-8")
    return str(path)


@pytest.fixture
def applied(argocd_dtm: DtmHarness, toolchain: str) -> DtmHarness:
    result = argocd_dtm.run("apply", "-f", toolchain, "-y")
    assert result.exit_code == 0, result.stderr
    return argocd_dtm


def plan(dtm: DtmHarness, toolchain: str) -> dict[str, dict[str, Any]]:
    result = dtm.run("plan", "-f", toolchain, "-o", "json")
    assert result.exit_code == 0, result.stderr
    return {c["address"]: c for c in json.loads(result.stdout)["changes"]}


def test_apply_installs_argo_cd_then_the_application_that_refers_to_it(
        applied: DtmHarness, toolchain: str, cluster: KubernetesEmulator) -> None:
    app = cluster.get("Application", "guestbook", "argocd")
    assert app is not None and app["status"]["sync"]["status"] == "Synced"
    assert app["spec"]["syncPolicy"]["automated"] == {"prune": False, "selfHeal": True}
    assert set(applied.state()["instances"]) == {"argocd.default", "argocd-app.guestbook"}
    unchanged = applied.run("plan", "-f", toolchain, "--detailed-exitcode")
    assert unchanged.exit_code == 0, unchanged.stdout + unchanged.stderr


def test_a_component_deleted_with_kubectl_is_drift_and_apply_puts_it_back(
        applied: DtmHarness, toolchain: str, cluster: KubernetesEmulator, kubectl: Kubectl) -> None:
    kubectl.ok("-n", "argocd", "delete", "deployment", "argocd-repo-server", "--wait=true")
    changes = plan(applied, toolchain)
    assert changes["argocd.default"]["action"] == "update"
    assert changes["argocd.default"]["reasons"] == [
        "drifted: deployment argocd/argocd-repo-server is missing"]
    assert changes["argocd-app.guestbook"]["action"] == "no-op"
    assert applied.run("plan", "-f", toolchain, "--detailed-exitcode").exit_code == 2
    status = json.loads(applied.run("status", "-o", "json").stdout)
    assert {r["address"]: r["live"] for r in status} == {"argocd.default": "drifted",
                                                         "argocd-app.guestbook": "ok"}
    result = applied.run("apply", "-f", toolchain, "-y")
    assert result.exit_code == 0, result.stderr
    kubectl.ok("-n", "argocd", "wait", "--for=condition=Available", "deployment/argocd-repo-server",
               "--timeout=10s")
    assert applied.run("plan", "-f", toolchain, "--detailed-exitcode").exit_code == 0


def test_an_application_changed_with_kubectl_is_drift_by_option(
        applied: DtmHarness, toolchain: str, kubectl: Kubectl, cluster: KubernetesEmulator) -> None:
    kubectl.ok("-n", "argocd", "patch", "application", "guestbook", "--type", "merge",
               "-p", '{"spec":{"source":{"targetRevision":"v2"}}}')
    change = plan(applied, toolchain)["argocd-app.guestbook"]
    assert change["action"] == "update"
    assert change["reasons"] == ["drifted: target_revision (live 'v2', want 'HEAD')"]
    assert applied.run("apply", "-f", toolchain, "-y").exit_code == 0
    app = cluster.get("Application", "guestbook", "argocd")
    assert app is not None and app["spec"]["source"]["targetRevision"] == "HEAD"


def test_destroy_removes_the_application_first_then_argo_cd(
        applied: DtmHarness, toolchain: str, cluster: KubernetesEmulator) -> None:
    result = applied.run("destroy", "-f", toolchain, "-y")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.index("argocd-app.guestbook") < result.stderr.rindex("argocd.default")
    assert cluster.get("Application", "guestbook", "argocd") is None
    assert cluster.get("Namespace", "argocd") is None
    assert applied.state()["instances"] == {}
