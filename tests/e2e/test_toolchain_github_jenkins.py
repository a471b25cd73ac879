"""One toolchain file, three plugins' worlds: a GitHub repository, Jenkins in a cluster, a pipeline job.

The GitHub, Kubernetes and Jenkins emulators run on loopback. Jenkins' pod would read its admin
password from the Secret dtm generated; here the test hands that password to the Jenkins
emulator, which stands in for the pod.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dtm_harness import DtmHarness

from dtm_core.emulators.github import GitHubEmulator
from dtm_core.emulators.jenkins import JenkinsEmulator
from dtm_core.emulators.kubernetes import KubernetesEmulator
from dtm_core.secrets import builtin_resolvers

TOKEN = "ghp_canary_toolchain_7d41"
Worlds = tuple[DtmHarness, GitHubEmulator, JenkinsEmulator, KubernetesEmulator]
TOOLCHAIN = """\
version: 1
tools:
  - tool: github-repo
    name: shop
    options:
      owner: acme
      name: shop
      language: python
  - tool: jenkins
    options:
      timeout: 60
  - tool: jenkins-pipeline
    options:
      jenkins_url: ${{ env.JENKINS_URL }}
      job_name: acme/shop
      repo_url: ${{ github-repo.shop.outputs.clone_url }}
      token: ${{ jenkins.default.outputs.admin_password }}
      starter_jenkinsfile: true
      language: python
"""


@pytest.fixture
def worlds(dtm_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Worlds]:
    with GitHubEmulator() as gh, JenkinsEmulator() as jenkins, KubernetesEmulator(ready_delay=0.2) as cluster:
        gh.add_user("octo", token=TOKEN)
        gh.add_org("acme", members=["octo"])
        settings = {"DTM_PLUGINS": "", "DTM_LOAD_PLUGINS": "dtm-plugins-github,dtm-plugins-jenkins",
                    "DTM_REGISTRY": str(Path(__file__).resolve().parents[2] / "registry.json"),
                    "KUBECONFIG": str(cluster.write_kubeconfig(tmp_path / "kubeconfig")),
                    "HOME": str(tmp_path), "GITHUB_API_URL": gh.url.rstrip("/"), "GITHUB_TOKEN": TOKEN,
                    "JENKINS_URL": jenkins.url}
        for key, value in settings.items():
            dtm_env[key] = value
            monkeypatch.setenv(key, value)
        yield DtmHarness(home=Path(dtm_env["DTM_HOME"]), env=dtm_env), gh, jenkins, cluster


def changes(dtm: DtmHarness, toolchain: Path) -> dict[str, Any]:
    result = dtm.run("plan", "-f", str(toolchain), "-o", "json")
    assert result.exit_code == 0, result.stderr
    return {c["address"]: c["action"] for c in json.loads(result.stdout)["changes"]}


def test_repository_jenkins_and_pipeline_from_one_file(
        worlds: Worlds, tmp_path: Path) -> None:
    dtm, gh, jenkins, cluster = worlds
    toolchain = tmp_path / "toolchain.yaml"
    toolchain.write_text(TOOLCHAIN)
    # Jenkins first, so the stand-in for its pod can take the password dtm generated.
    installed = dtm.run("install", "jenkins", "--set", "timeout=60", "-y")
    assert installed.exit_code == 0, installed.stderr
    ref = dtm.state()["instances"]["jenkins.default"]["outputs"]["admin_password"]
    scheme, target = ref.split(":", 1)
    password = builtin_resolvers(dtm.env)[scheme](target)
    jenkins.add_user("admin", password=password)

    result = dtm.run("apply", "-f", str(toolchain), "-y")
    assert result.exit_code == 0, result.stderr
    statefulset = cluster.get("StatefulSet", "jenkins", "jenkins")
    assert statefulset is not None and statefulset["status"]["readyReplicas"] == 1
    assert gh.repo("acme", "shop") is not None
    assert "Jenkinsfile" in gh.files("acme", "shop")  # the starter, through GitHub's source control
    config = jenkins.job_config("acme/shop")
    assert config is not None and f"{gh.url.rstrip('/')}/acme/shop.git" in config
    for secret in (password, TOKEN):
        assert secret not in result.stdout + result.stderr
        assert secret not in (dtm.home / "data" / "state" / "state.json").read_text()
    assert set(changes(dtm, toolchain).values()) == {"no-op"}

    jenkins.delete_job("acme/shop")  # by hand, behind dtm's back
    assert changes(dtm, toolchain)["jenkins-pipeline.default"] == "create"
    again = dtm.run("apply", "-f", str(toolchain), "-y")
    assert again.exit_code == 0, again.stderr
    assert jenkins.job_config("acme/shop") is not None
    assert len([c for c in gh.commits("acme", "shop") if "Jenkinsfile" in c["message"]]) == 1

    destroyed = dtm.run("destroy", "-f", str(toolchain), "-y")
    assert destroyed.exit_code == 0, destroyed.stderr
    assert jenkins.job_config("acme/shop") is None
    assert dtm.state()["instances"] == {}


def test_installing_a_pipeline_pulls_in_jenkins(worlds: Worlds, monkeypatch: pytest.MonkeyPatch) -> None:
    dtm, _, jenkins, cluster = worlds
    dtm.env["JENKINS_TOKEN"] = jenkins.api_token("admin")
    monkeypatch.setenv("JENKINS_TOKEN", dtm.env["JENKINS_TOKEN"])
    result = dtm.run("install", "jenkins-pipeline", "--set", f"jenkins_url={jenkins.url}",
                     "--set", "job_name=app", "--set", "repo_url=https://github.com/acme/app.git",
                     "--set", "token=env:JENKINS_TOKEN", "-y")
    assert result.exit_code == 0, result.stderr
    assert "install jenkins.default" in result.stderr and "(auto, as a dependency)" in result.stderr
    rows = json.loads(dtm.run("list", "-o", "json").stdout)
    assert [(r["address"], r["reason"]) for r in rows] == [("jenkins-pipeline.default", "manual"),
                                                            ("jenkins.default", "auto")]
    assert cluster.get("StatefulSet", "jenkins", "jenkins") is not None
    assert jenkins.job_config("app") is not None
