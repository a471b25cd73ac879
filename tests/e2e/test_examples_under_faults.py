"""The shipped examples applied while a fifth of calls to the emulators fail: they converge, none twice.

The emulators run in this process (the ``sandbox`` fixture) so the test can turn their faults
on, count them and look inside afterwards. Faults are mixed — 429s with ``Retry-After``, 500/
502/503s, resets and stalls that drop the connection, half of the failures striking *after*
the emulator did the work — and drawn from a fixed seed, so a failure replays.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from dtm_harness import DtmHarness
from ruamel.yaml import YAML

from dtm_core.emulators.faults import FaultRates
from dtm_core.emulators.github import GitHubEmulator
from dtm_core.emulators.jenkins import JenkinsEmulator
from dtm_core.emulators.kubernetes import KubernetesEmulator
from dtm_core.emulators.serving import Emulator
from dtm_core.sandbox.github import repositories
from dtm_core.testing import Sandbox

REPO = Path(__file__).resolve().parents[2]
PLUGINS = "dtm-plugins-github,dtm-plugins-argocd,dtm-plugins-jenkins"
#: 20% of calls fail; a stall holds the request 0.3 s, then drops the connection unanswered.
FAULTS = FaultRates.mixed(0.2, stall=0.3, delay=0.01)
SEED = 9  # any seed should do; 1 to 16 were tried


class Faulty:
    """dtm pointed at the in-process sandbox, whose emulators fail calls as ``FAULTS`` says."""

    def __init__(self, dtm: DtmHarness, sandbox: Sandbox) -> None:
        self.dtm = dtm
        self.github: GitHubEmulator = sandbox["github"].emulator  # type: ignore[attr-defined]
        self.cluster: KubernetesEmulator = sandbox["kubernetes"].emulator  # type: ignore[attr-defined]
        self.jenkins: JenkinsEmulator = sandbox["jenkins"].emulator  # type: ignore[attr-defined]

    @property
    def emulators(self) -> list[Emulator]:
        return [self.github, self.cluster, self.jenkins]

    def start_faults(self) -> None:
        for number, emulator in enumerate(self.emulators):
            emulator.faults.set(FAULTS, seed=SEED + number)

    def stop_faults(self) -> dict[str, int]:
        """Stop injecting; what was injected in all, by kind and by when."""
        total: dict[str, int] = {}
        for emulator in self.emulators:
            emulator.faults.pause()
            for key, count in emulator.faults.counts().items():
                total[key] = total.get(key, 0) + count
        return total

    def apply_and_plan(self, toolchain: Path) -> None:
        applied = self.dtm.run("apply", "-f", str(toolchain), "-y")
        assert applied.exit_code == 0, applied.stderr
        unchanged = self.dtm.run("plan", "-f", str(toolchain), "--detailed-exitcode")
        assert unchanged.exit_code == 0, unchanged.stdout + unchanged.stderr


@pytest.fixture
def faulty(dtm_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           request: pytest.FixtureRequest) -> Iterator[Faulty]:
    settings = {"DTM_PLUGINS": "", "DTM_LOAD_PLUGINS": PLUGINS, "HOME": str(tmp_path)}
    for key, value in settings.items():
        dtm_env[key] = value
        monkeypatch.setenv(key, value)
    sandbox: Sandbox = request.getfixturevalue("sandbox")  # started with the plugins above loaded
    for service in sandbox.values():
        for key in [*service.env, "DTM_REGISTRY"]:
            dtm_env[key] = os.environ[key]
    yield Faulty(DtmHarness(home=Path(dtm_env["DTM_HOME"]), env=dtm_env), sandbox)


def first_lines(github: GitHubEmulator, repo: str) -> list[str]:
    return [commit["message"].splitlines()[0] for commit in github.commits("acme", repo)]


def assert_many_faults(injected: dict[str, int]) -> None:
    failed = sum(injected.get(kind, 0) for kind in ("throttle", "server_error", "reset", "timeout"))
    assert failed >= 10, injected
    assert injected["after"] >= 3, injected  # the ambiguous kind: done, but the client never heard
    assert all(injected.get(kind) for kind in ("throttle", "server_error", "reset", "timeout")), injected


def test_the_quickstart_converges_with_a_fifth_of_calls_failing_and_makes_nothing_twice(
        faulty: Faulty) -> None:
    faulty.start_faults()
    faulty.apply_and_plan(REPO / "examples" / "quickstart.yaml")
    assert_many_faults(faulty.stop_faults())

    github = faulty.github
    assert [repo["full_name"] for repo in repositories(github)] == ["acme/hello-gitops"]
    assert sorted(first_lines(github, "hello-gitops")) == ["Add CI workflows", "Add python starter files",
                                                            "Initial commit"]
    # Each workflow once, in the one commit that added them (a repeated commit would show above).
    workflows = sorted(path for path in github.files("acme", "hello-gitops") if path.startswith(".github/"))
    assert workflows == [".github/workflows/ci.yml", ".github/workflows/lint.yml"]
    applications = faulty.cluster.objects("Application")
    assert [(app["metadata"]["namespace"], app["metadata"]["name"]) for app in applications] == [
        ("argocd", "hello-gitops")]
    assert faulty.dtm.run("plan", "-f", str(REPO / "examples" / "quickstart.yaml"),
                          "--detailed-exitcode").exit_code == 0


def test_the_jenkins_example_converges_with_a_fifth_of_calls_failing_one_job_one_build(
        faulty: Faulty, tmp_path: Path) -> None:
    # The example with its pipeline's first build on, so a lost build trigger is exercised too.
    example = YAML().load((REPO / "examples" / "jenkins.yaml").read_text(encoding="utf-8"))
    (pipeline,) = [item for item in example["tools"] if item["tool"] == "jenkins-pipeline"]
    pipeline["options"]["build"] = True
    toolchain = tmp_path / "jenkins.yaml"
    with toolchain.open("w", encoding="utf-8") as out:
        YAML().dump(example, out)
    faulty.start_faults()
    faulty.apply_and_plan(toolchain)
    assert_many_faults(faulty.stop_faults())

    assert list(faulty.jenkins.jobs()) == ["acme/hello-jenkins"]
    assert len(faulty.jenkins.builds("acme/hello-jenkins")) == 1
    github = faulty.github
    assert [repo["full_name"] for repo in repositories(github)] == ["acme/hello-jenkins"]
    lines = first_lines(github, "hello-jenkins")
    assert len(lines) == len(set(lines)) and "Add go starter files" in lines
    assert sum(line.startswith("Add a starter Jenkinsfile") for line in lines) == 1
    assert faulty.dtm.run("plan", "-f", str(toolchain), "--detailed-exitcode").exit_code == 0
