"""End to end: a plugin from ``dtm plugins new`` is built, served, installed by ``dtm install``, and tested.

The throwaway venv's own ``dtm`` (the built wheel, so the template must ship in it) writes the
plugin; its wheel is built offline and dropped into the wheelhouse the local package index
serves; a registry entry pins it by version and sha256; ``dtm install`` fetches it hash-checked;
and the plugin's own tests then pass with that venv's pytest, against the installed distribution.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from dtm_core.testing import registry_entry

NAME, TOOL = "e2e-notes", "e2e-note"
DISTRIBUTION, MODULE = f"dtm-plugins-{NAME}", "dtm_plugins_e2e_notes"
BuiltWheel = Any  # tests/e2e/conftest.py: BuiltWheel(distribution, version, path, sha256)


def _run(command: list[str | Path], env: dict[str, str], cwd: Path | None = None
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(part) for part in command], env=env, cwd=cwd, text=True,
                          capture_output=True, timeout=300, stdin=subprocess.DEVNULL, check=False)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PIP_CONFIG_FILE": os.devnull,
            "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1", "PYTHONDONTWRITEBYTECODE": "1",
            "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost", **extra}


def test_a_generated_plugin_installs_through_the_registry_and_passes_its_own_tests(
        throwaway_venv: Path, local_pypi: str, plugin_wheelhouse: dict[str, BuiltWheel],
        tmp_path: Path) -> None:
    dtm = throwaway_venv.parent / "dtm"
    source = tmp_path / "src"
    written = _run([dtm, "plugins", "new", NAME, "--tool", TOOL, "--dir", source], _env(tmp_path))
    assert written.returncode == 0, written.stderr
    assert (source / MODULE / "tool.py").is_file()

    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                  "--no-index", source, "-w", tmp_path / "dist"], _env(tmp_path))
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (tmp_path / "dist").glob(f"{MODULE}-0.1.0-*.whl")
    served = shutil.copy2(wheel, next(iter(plugin_wheelhouse.values())).path.parent)

    registry = tmp_path / "registry.json"
    registry.write_text(json.dumps({"format": 1, "name": "authors", "tools": {
        TOOL: registry_entry(DISTRIBUTION, wheel=served, dtm=">=0.1,<1", description="notes")}}))
    env = _env(tmp_path, DTM_HOME=str(tmp_path / "home"), DTM_REGISTRY=str(registry),
               DTM_PACKAGE_INDEX_URL=local_pypi)
    notes = tmp_path / "notes"

    installed = _run([dtm, "install", TOOL, "--set", f"directory={notes}", "-y"], env)
    assert installed.returncode == 0, installed.stderr
    assert f"install plugin distribution {DISTRIBUTION}==0.1.0 (hash-checked)" in installed.stderr
    assert (notes / "default.txt").read_text() == "hello from dtm\n"
    plugins = json.loads(_run([dtm, "plugins", "-o", "json"], env).stdout)
    assert [(p["distribution"], p["status"], p["tools"]) for p in plugins] == [(DISTRIBUTION, "ok", [TOOL])]
    removed = _run([dtm, "remove", TOOL, "-y"], env)
    assert removed.returncode == 0, removed.stderr
    assert not (notes / "default.txt").exists()

    # The plugin's own tests, from a checkout without its package: they import the installed one.
    checkout = shutil.copytree(source, tmp_path / "checkout", ignore=shutil.ignore_patterns(MODULE))
    tested = _run([throwaway_venv, "-m", "pytest", "-q", "-p", "no:cacheprovider"], _env(tmp_path),
                  cwd=checkout)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "8 passed" in tested.stdout
    where = _run([throwaway_venv, "-c", f"import {MODULE}; print({MODULE}.__file__)"], _env(tmp_path),
                 cwd=checkout)
    assert Path(where.stdout.strip()).is_relative_to(throwaway_venv.parent.parent), where.stderr
