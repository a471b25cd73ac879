"""Fixtures of the canary tests: ``canary_world``, one world of emulators for one full run."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dtm_core.emulators.github import GitHubEmulator
from dtm_core.emulators.jenkins import JenkinsEmulator
from dtm_core.emulators.kubernetes import KubernetesEmulator
from dtm_core.sandbox.index import bundled_index, first_claim, sandbox_index
from dtm_core.sandbox.mirror import RunningMirror

HERE = Path(__file__).parent
# The helpers import by name (tests run with --import-mode=importlib).
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from canaries import Canaries  # noqa: E402 - needs the path above
from canaryworld import (  # noqa: E402
    JENKINS_ADMIN,
    OWNER,
    SEED_PLUGINS,
    USER,
    CanaryWorld,
    seed_jenkins_admin_secret,
)


@pytest.fixture(scope="module")
def canary_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CanaryWorld]:
    tmp_path = tmp_path_factory.mktemp("canaries")
    canaries = Canaries()
    # Credentials go in HTTP headers, where quotes and slashes are fine but kept simple all the same.
    jenkins_token = canaries.new("JENKINS_API_TOKEN (Jenkins API token)", awkward=False)
    jenkins_password = canaries.new("Jenkins admin password (k8s-secret:)", awkward=False)
    kube_token = canaries.new("Kubernetes bearer token (kubeconfig)", awkward=False)
    home, workdir, secrets_dir = tmp_path / "home", tmp_path / "work", tmp_path / "secrets"
    for directory in (home / "tmp", workdir, secrets_dir):
        directory.mkdir(parents=True)
    mirror = RunningMirror(None)
    with GitHubEmulator() as github, JenkinsEmulator(admin_user=JENKINS_ADMIN,
                                                     admin_password=jenkins_password.value) as jenkins, \
            KubernetesEmulator(ready_delay=0.1, token=kube_token.value) as cluster:
        try:
            jenkins.add_user(JENKINS_ADMIN, api_token=jenkins_token.value)
            seed_jenkins_admin_secret(cluster, "jenkins", jenkins_password.value)
            index, _ = sandbox_index(bundled_index(), first_claim([mirror.mirror]))
            registry = tmp_path / "registry.json"
            registry.write_text(json.dumps(index), encoding="utf-8")
            env = {
                "PATH": "/usr/bin:/bin", "HOME": str(home), "TMPDIR": str(home / "tmp"), "LC_ALL": "C.UTF-8",
                "NO_PROXY": "127.0.0.1,localhost", "DTM_PLUGINS": "", "DTM_LOAD_PLUGINS": SEED_PLUGINS,
                "DTM_REGISTRY": str(registry),
                "KUBECONFIG": str(cluster.write_kubeconfig(tmp_path / "kube" / "config")),
                "GITHUB_API_URL": github.url.rstrip("/"),
                "JENKINS_URL": jenkins.url, "JENKINS_USER_ID": JENKINS_ADMIN,
                "JENKINS_API_TOKEN": jenkins_token.value,
            }
            world = CanaryWorld(home, workdir, secrets_dir, env, canaries, github, jenkins, cluster)
            # Whatever no token option covers, such as committing the starter Jenkinsfile.
            world.secret_env("GITHUB_TOKEN", world.github_token("GITHUB_TOKEN (the environment's)"))
            github.add_org(OWNER, admins=[USER])
            yield world
        finally:
            mirror.stop()
