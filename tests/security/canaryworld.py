"""The canary tests' world: emulators that take canaries as credentials, and dtm run as a subprocess.

``CanaryWorld`` (the ``canary_world`` fixture of conftest.py builds one)
    The GitHub, Jenkins and Kubernetes emulators and the release mirror on loopback, a registry
    index pointing Argo CD's manifest at the mirror, and canaries for every credential: GitHub
    accepts the token canaries, Jenkins the API token and admin password canaries, the cluster
    its bearer token canary, and it already holds the Jenkins admin Secret with its canary
    password. ``run`` starts the real ``dtm`` executable with no ``DTM_HOME``, so it writes
    where a user's dtm would (the platform directories under a temporary ``HOME``), with
    ``TMPDIR`` inside that home too. Module-scoped: one world serves one full run.

``run_dtm(args, env, cwd)`` -> ``Run``
    The real ``dtm`` executable of this venv in a process of its own: exit code and output.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from canaries import Canaries, Canary

from dtm_core.emulators.github import GitHubEmulator
from dtm_core.emulators.jenkins import JenkinsEmulator
from dtm_core.emulators.kubernetes import KubernetesEmulator

DTM = Path(sys.executable).with_name("dtm")
SEED_PLUGINS = "dtm-plugins-github,dtm-plugins-argocd,dtm-plugins-jenkins"
OWNER = "acme"
USER = "octo"
JENKINS_ADMIN = "admin"


@dataclass
class Run:
    """One dtm subprocess: its arguments, exit code and output."""

    args: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return f"dtm {' '.join(self.args)} (exit {self.exit_code})\n{self.stdout}{self.stderr}"


def run_dtm(args: tuple[str, ...], env: dict[str, str], cwd: Path) -> Run:
    """The real ``dtm`` executable of this venv, in a process of its own."""
    done = subprocess.run([str(DTM), *args], capture_output=True, text=True, env=env, cwd=cwd,
                          stdin=subprocess.DEVNULL, timeout=300, check=False)
    return Run(args, done.returncode, done.stdout, done.stderr)


@dataclass
class CanaryWorld:
    home: Path
    workdir: Path
    secrets_dir: Path
    env: dict[str, str]
    canaries: Canaries
    github: GitHubEmulator
    jenkins: JenkinsEmulator
    cluster: KubernetesEmulator
    runs: list[Run] = field(default_factory=list)
    #: The canaries GitHub takes as tokens.
    github_tokens: list[Canary] = field(default_factory=list)
    #: The toolchain the full run applied.
    document: dict[str, Any] = field(default_factory=dict)
    #: Files holding a canary because the test put it there as a user would (a pasted secret).
    written_by_user: set[Path] = field(default_factory=set)

    def run(self, *args: str) -> Run:
        run = run_dtm(args, self.env, self.workdir)
        self.runs.append(run)
        return run

    def ok(self, *args: str) -> Run:
        run = self.run(*args)
        assert run.exit_code == 0, str(run)
        return run

    @property
    def platform_dirs(self) -> dict[str, Path]:
        """Where dtm keeps config, data (state) and cache under this ``HOME`` (platformdirs on Linux)."""
        return {"config": self.home / ".config" / "dtm", "data": self.home / ".local" / "share" / "dtm",
                "cache": self.home / ".cache" / "dtm"}

    def secret(self, label: str) -> Canary:
        return self.canaries.new(label)

    def github_token(self, label: str) -> Canary:
        """A new canary the GitHub emulator accepts as a token of the user administering ``OWNER``."""
        canary = self.canaries.new(label, awkward=False)
        self.github.add_user(USER, token=canary.value)
        self.github_tokens.append(canary)
        return canary

    def secret_env(self, name: str, canary: Canary) -> str:
        """Export ``canary`` as ``name``; returns its ``env:`` reference."""
        self.env[name] = canary.value
        return f"env:{name}"

    def secret_file(self, name: str, canary: Canary) -> str:
        """Write ``canary`` to a file outside every place searched; returns its ``file:`` reference."""
        path = self.secrets_dir / name
        path.write_text(canary.value + "\n", encoding="utf-8")
        path.chmod(0o600)
        return f"file:{path}"


def seed_jenkins_admin_secret(cluster: KubernetesEmulator, namespace: str, password: str) -> None:
    """Put the admin Secret the jenkins tool reuses (it generates one only when none exists)."""
    from dtm_plugins_jenkins.install import ADMIN_SECRET, PASSWORD_KEY, USER_KEY

    def encoded(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    headers = {"Authorization": f"Bearer {cluster.token}"}
    with httpx.Client(base_url=cluster.url, headers=headers, timeout=10, trust_env=False) as kube:
        kube.post("/api/v1/namespaces", json={
            "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}).raise_for_status()
        kube.post(f"/api/v1/namespaces/{namespace}/secrets", json={
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": ADMIN_SECRET, "namespace": namespace},
            "data": {USER_KEY: encoded(JENKINS_ADMIN), PASSWORD_KEY: encoded(password)}}).raise_for_status()


