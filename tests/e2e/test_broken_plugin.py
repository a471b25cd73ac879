"""End to end: a plugin that raises at import is listed broken, harms no command, and uninstalls.

The plugin is a real distribution (``tests/e2e/data/broken_plugin``) built into a wheel and
installed with pip into a throwaway venv, where the venv's own ``dtm`` script runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCE = Path(__file__).parent / "data" / "broken_plugin"
ERROR = "RuntimeError: boom"


def _run(*command: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in command], env=env, text=True, capture_output=True,
                          timeout=120, stdin=subprocess.DEVNULL, check=False)


@pytest.fixture
def broken_wheel(tmp_path: Path) -> Path:
    """The wheel of ``dtm-plugins-broken``, built offline from a copy of its sources."""
    source = shutil.copytree(SOURCE, tmp_path / "broken-src",
                             ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    out = tmp_path / "broken-wheel"
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                 "--no-index", source, "-w", out)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = out.glob("dtm_plugins_broken-0.1.0-*.whl")
    return wheel


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DTM_HOME": str(tmp_path / "home"),
            "DTM_REGISTRY": str(REPO / "registry.json"), "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_INPUT": "1", "PIP_CONFIG_FILE": os.devnull}


def test_broken_plugin_is_listed_harms_nothing_and_uninstalls(
        throwaway_venv: Path, broken_wheel: Path, env: dict[str, str]) -> None:
    python = throwaway_venv

    def dtm(*args: str) -> subprocess.CompletedProcess[str]:
        return _run(python.parent / "dtm", *args, env=env)

    installed = _run(python, "-m", "pip", "install", "--no-index", "--no-deps", "--quiet",
                     broken_wheel, env=env)
    assert installed.returncode == 0, installed.stderr

    listed = dtm("plugins", "-o", "json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == [{
        "name": "broken", "distribution": "dtm-plugins-broken", "version": "0.1.0",
        "status": "broken", "error": ERROR, "tools": []}]

    table = dtm("plugins")
    assert table.returncode == 0, table.stderr
    assert f"broken: {ERROR}" in table.stdout

    search = dtm("search")
    assert search.returncode == 0, search.stderr
    assert "argocd" in search.stdout
    info = dtm("info", "argocd")
    assert info.returncode == 0, info.stderr
    assert "argocd" in info.stdout
    # Commands that load plugins say once that this one was skipped; search never loads them.
    for result in (listed, table, info):
        assert "Traceback" not in result.stderr
        assert [line for line in result.stderr.splitlines() if "boom" in line] == [
            f"warning: plugin broken skipped: {ERROR}"]
    assert "boom" not in search.stderr

    removed = dtm("plugins", "uninstall", "dtm-plugins-broken", "-y")
    assert removed.returncode == 0, removed.stderr
    assert "uninstalled" in removed.stderr
    after = dtm("plugins", "-o", "json")
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout) == []
    shown = _run(python, "-m", "pip", "show", "dtm-plugins-broken", env=env)
    assert shown.returncode == 1
    assert "Package(s) not found: dtm-plugins-broken" in shown.stderr
