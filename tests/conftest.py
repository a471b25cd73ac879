"""Shared fixtures: an isolated dtm home, the test plugin and registry, and a CLI harness."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

TESTS = Path(__file__).parent
REPO = TESTS.parent
TEST_REGISTRY = TESTS / "data" / "test-registry.json"

# The test plugin is importable by module name, in-process and in subprocesses (PYTHONPATH).
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))


@dataclass
class DtmHarness:
    """Runs the dtm CLI in-process against an isolated home, registry and test world."""

    home: Path
    env: dict[str, str]

    def run(self, *args: str, input: str | None = None) -> Result:
        from dtm_core.cli import cli
        from dtm_core.cli.context import CliContext

        runner = CliRunner()
        return runner.invoke(cli, list(args), input=input, obj=CliContext(environ=dict(self.env)),
                             catch_exceptions=False)

    @property
    def world_file(self) -> Path:
        return Path(self.env["DTM_TEST_WORLD"])

    def world(self) -> dict[str, Any]:
        if not self.world_file.exists():
            return {"resources": {}, "calls": [], "faults": {}}
        return json.loads(self.world_file.read_text())

    def set_fault(self, key: str, value: Any) -> None:
        data = self.world()
        data.setdefault("faults", {})[key] = value
        self.world_file.write_text(json.dumps(data))

    def calls(self, verb: str | None = None) -> list[tuple[str, str]]:
        return [(c["verb"], c["address"]) for c in self.world()["calls"]
                if verb is None or c["verb"] == verb]

    def state(self) -> dict[str, Any]:
        path = self.home / "data" / "state" / "state.json"
        return json.loads(path.read_text()) if path.exists() else {}


@pytest.fixture
def dtm_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for an isolated dtm: its own home, the test registry and test plugin."""
    env = {
        "DTM_HOME": str(tmp_path / "home"),
        "DTM_REGISTRY": str(TEST_REGISTRY),
        "DTM_PLUGINS": "testplugin",
        "DTM_LOAD_PLUGINS": "testplugin",
        "DTM_TEST_WORLD": str(tmp_path / "world.json"),
        "ALPHA_TOKEN": "canary-alpha-5f1e",
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(TESTS),
    }
    for key, value in env.items():
        if key != "PATH":
            monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def dtm(dtm_env: dict[str, str]) -> Iterator[DtmHarness]:
    yield DtmHarness(home=Path(dtm_env["DTM_HOME"]), env=dtm_env)
