"""The house rules CI enforces: ruff on the whole tree, mypy --strict on the core."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip(f"{name} is not installed in this venv (it comes with the 'test' extra)")
    return found


def test_ruff_finds_nothing() -> None:
    done = subprocess.run([_tool("ruff"), "check", "."], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_finds_nothing_in_the_core() -> None:
    done = subprocess.run([_tool("mypy"), "--no-incremental"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_core_modules_stay_small_and_say_what_they_own() -> None:
    too_big, undocumented = [], []
    for path in sorted((REPO / "dtm_core").rglob("*.py")):
        text = path.read_text()
        if len(text.splitlines()) > 500:
            too_big.append(str(path.relative_to(REPO)))
        if not text.lstrip().startswith('"""'):
            undocumented.append(str(path.relative_to(REPO)))
    assert too_big == [] and undocumented == []


def test_the_core_never_imports_click_outside_its_cli_nor_a_plugin() -> None:
    offenders = []
    for path in sorted((REPO / "dtm_core").rglob("*.py")):
        relative = path.relative_to(REPO / "dtm_core")
        text = path.read_text()
        if relative.parts[0] != "cli" and ("import click" in text or "from click" in text):
            offenders.append(f"{relative}: click")
        if "dtm_plugins_" in text.replace("dtm_plugins_*", ""):
            offenders.append(f"{relative}: imports a plugin")
    assert offenders == []
