"""The ``dtm_sandbox_services`` hook: the core's services first, a plugin's fault costs only its own."""

from __future__ import annotations

from pathlib import Path

from dtm_core import RunningService, SandboxService, hookimpl
from dtm_core.plugins import load_plugins
from dtm_core.sandbox.builtin import PLUGIN_NAME, CoreServices


class Named(SandboxService):
    description = "a test service"

    def __init__(self, name: str) -> None:
        self.name = name  # type: ignore[misc] - a per-instance name, for the test

    def start(self, workdir: Path, persist: bool) -> RunningService:
        raise AssertionError("not started here")


class Plugin:
    def __init__(self, *services: object, fail: bool = False) -> None:
        self.services = services
        self.fail = fail

    @hookimpl
    def dtm_sandbox_services(self) -> list[object]:
        if self.fail:
            raise RuntimeError("boom")
        return list(self.services)


def test_services_come_core_first_then_by_plugin_and_faults_are_lines() -> None:
    host = load_plugins({"DTM_PLUGINS": ""}, entry_points=[], extra_plugins=[
        ("zeta", Plugin(Named("zeta-svc"))),
        ("alpha", Plugin(Named("alpha-svc"), Named("kubernetes"), Named("Bad Name"), "not a service")),
        ("raiser", Plugin(fail=True)),
    ])
    host.manager.register(CoreServices(), name=PLUGIN_NAME)

    services, problems = host.sandbox_services(first=PLUGIN_NAME)

    assert [(plugin, service.name) for plugin, service in services] == [
        ("dtm", "kubernetes"), ("dtm", "github"), ("dtm", "jenkins"), ("dtm", "releases"),
        ("alpha", "alpha-svc"), ("zeta", "zeta-svc")]
    assert problems[0] == "plugin alpha: sandbox service 'kubernetes' is already provided by dtm"
    assert problems[1].startswith("plugin alpha: <") and "is not a SandboxService" in problems[1]
    assert problems[2] == ("plugin alpha: 'not a service' is not a SandboxService with a name of "
                           "lowercase letters, digits and '-'")
    assert problems[3] == "plugin raiser: dtm_sandbox_services failed: RuntimeError: boom"
    assert len(problems) == 4


def test_a_plugin_without_the_hook_contributes_nothing() -> None:
    host = load_plugins({"DTM_PLUGINS": ""}, entry_points=[], extra_plugins=[("empty", object())])

    assert host.sandbox_services() == ([], [])
