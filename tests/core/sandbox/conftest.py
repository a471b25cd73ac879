"""Fixtures of the sandbox tests: an isolated dtm home whose sandbox is always torn down."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from dtm_harness import DtmHarness

from dtm_core.sandbox.layout import is_sandbox_process

HERE = Path(__file__).parent
# The harness and the test plugin import by name, here and in the sandbox's process (PYTHONPATH).
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from sandbox_harness import Sandbox  # noqa: E402 - needs the path above


@pytest.fixture
def sandbox(dtm_env: dict[str, str], tmp_path: Path) -> Iterator[Sandbox]:
    """A dtm home with a quote and a space in its path (the env test's shell must cope)."""
    home = tmp_path / "dtm home's"
    env = dict(dtm_env, DTM_HOME=str(home), PYTHONPATH=os.pathsep.join([dtm_env["PYTHONPATH"], str(HERE)]))
    box = Sandbox(DtmHarness(home=home, env=env))
    yield box
    down = box.run("down", "--purge")
    # Whatever down could not stop (a test that broke the record) must not outlive the test.
    for pid in _pids(box.root):
        if pid != os.getpid() and is_sandbox_process(pid):
            os.kill(pid, signal.SIGKILL)
    assert down.exit_code == 0, down.stderr


def _pids(root: Path) -> list[int]:
    try:
        return [int(json.loads((root / "state.json").read_text())["pid"])]
    except (OSError, ValueError, KeyError):
        return []
