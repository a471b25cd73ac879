"""Shared fixtures: an isolated dtm home, the test plugin and registry, and a CLI harness."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
REPO = TESTS.parent
TEST_REGISTRY = TESTS / "data" / "test-registry.json"

# The test plugin is importable by module name, in-process and in subprocesses (PYTHONPATH).
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from dtm_harness import DtmHarness  # noqa: E402 - needs the path above


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


@pytest.fixture
def newer_registry(tmp_path: Path) -> Path:
    """The test index after alpha 3.0 and beta 3.0 (needing alpha>=3) were published."""
    data = json.loads(TEST_REGISTRY.read_text())
    template = data["tools"]["alpha"]["versions"]["2.0"]
    data["tools"]["alpha"]["versions"]["3.0"] = template
    data["tools"]["beta"]["versions"]["3.0"] = dict(template, dependencies=["alpha>=3"])
    path = tmp_path / "newer.json"
    path.write_text(json.dumps(data))
    return path


@pytest.fixture(autouse=True)
def _short_retry_waits(fast_retries: None) -> None:
    """Every test retries with millisecond waits: a refused port or an injected fault costs no seconds."""
