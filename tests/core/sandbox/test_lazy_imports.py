"""Only ``dtm sandbox`` pays for the sandbox: a cold ``dtm --version`` or ``search`` imports none of it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def imported(args: list[str], home: Path) -> set[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DTM_")}
    env.update(DTM_HOME=str(home), DTM_LOAD_PLUGINS="")
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "dtm_core", *args], env=env, cwd=home,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
            if line.startswith("import time:") and line.count("|") == 2}


@pytest.mark.parametrize("args", [["--version"], ["search", "argocd"], ["--help"]])
def test_cold_commands_import_no_sandbox_module(args: list[str], tmp_path: Path) -> None:
    modules = imported(args, tmp_path)

    assert "dtm_core.cli" in modules  # the check sees dtm's own imports
    assert sorted(m for m in modules if m.startswith(("dtm_core.sandbox", "dtm_core.emulators"))) == []
