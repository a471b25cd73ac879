"""pytest fixtures for dtm and its plugins (registered as the ``pytest11`` plugin ``dtm``).

Plugin authors get the same isolation dtm's own tests use:

* ``dtm_home`` — an empty dtm home (``DTM_HOME``) for the test;
* ``make_registry`` — writes an index from tool entries and points ``DTM_REGISTRY`` at it;
* ``dtm_registry_entry`` — builds one tool entry for a distribution (:func:`registry_entry`),
  pinned with the sha256 of a wheel when given one;
* ``dtm_cli`` — runs the ``dtm`` command line in-process and returns click's ``Result``;
* ``kubernetes_emulator``, ``github_emulator``, ``jenkins_emulator`` — dtm's emulators of those
  services, started on loopback for the test and stopped after it (``KUBECONFIG`` points at
  the Kubernetes one). Parametrize one indirectly to pass its constructor's keyword arguments;
* ``sandbox`` — every service ``dtm sandbox up`` would start (the core's and the loaded
  plugins'), in this process for the test, with their environment exported;
* ``fast_retries`` — the waits of :class:`~dtm_core.RetryPolicy` cut to milliseconds, for
  tests that make calls fail (``emulator.faults``, ``fail_next``).

Loaded into every pytest run where dtm is installed, so it imports nothing costly at import
time: emulators, click and the CLI are imported inside the fixtures that use them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .emulators.github import GitHubEmulator
    from .emulators.jenkins import JenkinsEmulator
    from .emulators.kubernetes import KubernetesEmulator
    from .sandbox.service import RunningService


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry waits of milliseconds: the production backoff would make failure tests slow, not surer."""
    from .retries import RetryPolicy

    monkeypatch.setattr(RetryPolicy, "backoff", 0.01)
    monkeypatch.setattr(RetryPolicy, "max_backoff", 0.05)


@pytest.fixture
def dtm_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty dtm home for this test; config, state and cache all live under it."""
    home = tmp_path / "dtm-home"
    monkeypatch.setenv("DTM_HOME", str(home))
    return home


@pytest.fixture
def make_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                  ) -> Callable[[Mapping[str, Any]], Path]:
    """Return a function that writes ``{"tools": entries}`` as the index dtm resolves against."""

    def write(tools: Mapping[str, Any], name: str = "test") -> Path:
        path = tmp_path / f"{name}-registry.json"
        path.write_text(json.dumps({"format": 1, "name": name, "tools": dict(tools)}, indent=1))
        monkeypatch.setenv("DTM_REGISTRY", str(path))
        return path

    return write


def _wheel_pin(distribution: str, wheel: Path) -> tuple[str, str]:
    """``(==version, sha256:<hex>)`` of a wheel of ``distribution``, from its file name and bytes."""
    import hashlib
    import re

    parts = wheel.name.split("-")
    if not wheel.name.endswith(".whl") or len(parts) < 5:
        raise ValueError(f"{wheel.name} is not a wheel file name")

    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    if norm(parts[0]) != norm(distribution):
        raise ValueError(f"{wheel.name} is a wheel of {parts[0]}, not of {distribution}")
    return f"=={parts[1]}", f"sha256:{hashlib.sha256(wheel.read_bytes()).hexdigest()}"


def registry_entry(distribution: str, *, version: str = "0.1.0", description: str | None = None,
                   plugin_version: str | None = None, hashes: Sequence[str] = (),
                   wheel: str | Path | None = None, dependencies: Sequence[str] = (),
                   dtm: str | None = None, artifacts: Mapping[str, Any] | None = None,
                   tags: Sequence[str] = ()) -> dict[str, Any]:
    """A registry tool entry with one ``version`` provided by plugin ``distribution``.

    ``wheel``: a built wheel of the distribution; pins ``plugin_version`` to its exact version
    and lists its sha256 in ``hashes``, as a published index should (pip ``--require-hashes``).
    The other arguments are the fields of ``docs/registry.md``; ``None`` leaves a field out.
    """
    plugin: dict[str, Any] = {"distribution": distribution}
    hash_list = list(hashes)
    if wheel is not None:
        pin, digest = _wheel_pin(distribution, Path(wheel))
        plugin_version = plugin_version or pin
        hash_list.append(digest)
    if plugin_version is not None:
        plugin["version"] = plugin_version
    if hash_list:
        plugin["hashes"] = hash_list
    entry: dict[str, Any] = {"plugin": plugin, "dependencies": list(dependencies)}
    if dtm is not None:
        entry["dtm"] = dtm
    if artifacts is not None:
        entry["artifacts"] = dict(artifacts)
    return {"description": description or f"provided by {distribution}", "tags": list(tags),
            "versions": {version: entry}}


@pytest.fixture
def dtm_registry_entry() -> Callable[..., dict[str, Any]]:
    """:func:`registry_entry`, for tests that would rather not import it."""
    return registry_entry


@pytest.fixture
def dtm_cli(dtm_home: Path) -> Callable[..., Any]:
    """Run ``dtm ARGS...`` in-process with the test's environment; returns click's Result."""
    import os

    from .cli.testing import run_cli

    def run(*args: str, input: str | None = None) -> Any:
        return run_cli(list(args), os.environ, input=input)

    return run


def _emulator_arguments(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Keyword arguments given by indirect parametrization (``indirect=True``), if any."""
    return dict(getattr(request, "param", None) or {})


@pytest.fixture
def kubernetes_emulator(request: pytest.FixtureRequest, tmp_path: Path,
                        monkeypatch: pytest.MonkeyPatch) -> Iterator[KubernetesEmulator]:
    """A Kubernetes API server on loopback, with ``KUBECONFIG`` pointing at it for this test.

    Workloads report ready after ``ready_delay`` seconds (0.1 here unless parametrized).
    """
    from .emulators.kubernetes import KubernetesEmulator

    arguments = {"ready_delay": 0.1, **_emulator_arguments(request)}
    with KubernetesEmulator(**arguments) as cluster:
        kubeconfig = cluster.write_kubeconfig(tmp_path / "kubeconfig")
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
        yield cluster


@pytest.fixture
def github_emulator(request: pytest.FixtureRequest) -> Iterator[GitHubEmulator]:
    """GitHub's REST API on loopback: ``url`` is the API root; add accounts with ``add_user``."""
    from .emulators.github import GitHubEmulator

    with GitHubEmulator(**_emulator_arguments(request)) as github:
        yield github


@pytest.fixture
def jenkins_emulator(request: pytest.FixtureRequest) -> Iterator[JenkinsEmulator]:
    """A Jenkins controller's remote API on loopback (user ``admin``, password ``admin``)."""
    from .emulators.jenkins import JenkinsEmulator

    with JenkinsEmulator(**_emulator_arguments(request)) as jenkins:
        yield jenkins


class Sandbox(dict[str, "RunningService"]):
    """The running sandbox services by name (``sandbox["github"].urls``, ``.env``).

    ``problems`` lists, one line each, what was left out and why (a service that did not start,
    a broken plugin), as ``dtm sandbox up`` would show them.
    """

    def __init__(self, services: Mapping[str, RunningService], problems: Sequence[str]) -> None:
        super().__init__(services)
        self.problems = list(problems)


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """The sandbox's services, started in this process for the test and stopped after it.

    Each service's environment (``KUBECONFIG``, ``GITHUB_API_URL``, ``GITHUB_TOKEN``,
    ``JENKINS_URL`` …) is exported with secrets revealed, and ``DTM_REGISTRY`` names the
    sandbox's registry index, so dtm, its plugins and other clients in the test talk to the
    sandbox. Its emulators (``sandbox["github"].emulator`` …) inject faults once told to.
    Plugins load as dtm loads them (``DTM_PLUGINS`` …), so a plugin's own
    ``dtm_sandbox_services`` start too.
    """
    from .sandbox.daemon import start_services, write_index
    from .sandbox.layout import SandboxLayout
    from .secrets import Secret

    layout = SandboxLayout(tmp_path / "sandbox-data")
    started, problems = start_services(layout, False, None)
    try:
        for item in started:
            for key, value in item.running.env.items():
                monkeypatch.setenv(key, value.reveal() if isinstance(value, Secret) else str(value))
        for key, value in write_index(layout, started).items():  # the registry index using the mirrors
            monkeypatch.setenv(key, value)
        yield Sandbox({item.name: item.running for item in started}, problems)
    finally:
        for item in reversed(started):
            item.running.stop()
