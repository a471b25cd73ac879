"""`dtm install` where dtm's environment has no pip (as under `uv tool install dtm`): uv installs."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

UV = shutil.which("uv", path=str(Path(sys.executable).parent))

pytestmark = pytest.mark.skipif(UV is None, reason="uv is not installed in the test venv (pip install uv)")


@pytest.fixture
def nopip_venv(tmp_path: Path, plugin_wheelhouse: dict[str, Any]) -> Path:
    """A venv without pip holding the built dtm wheel; returns the venv directory."""
    venv = tmp_path / "nopip"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    where = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(subprocess.run([str(python), "-c", where], check=True, capture_output=True,
                               text=True).stdout.strip())
    # dtm's dependencies from the dev venv (offline), linked into site-packages itself so that
    # uv sees them as installed (it does not follow .pth files), without dtm, plugins or pip.
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.startswith(("dtm", "__editable__", "_dtm", "pip", "_virtualenv")) \
                and not entry.name.endswith(".pth") and not (site / entry.name).exists():
            if entry.name.endswith(".dist-info"):
                shutil.copytree(entry, site / entry.name)  # uv skips symlinked metadata
            else:
                (site / entry.name).symlink_to(entry)
    assert subprocess.run([str(python), "-c", "import pip"], capture_output=True).returncode != 0
    assert UV is not None
    subprocess.run([UV, "pip", "install", "--python", str(python), "--no-deps", "--offline", "--quiet",
                    str(plugin_wheelhouse["dtm"].path)], check=True)
    return venv


def install_demo_db(venv: Path, tmp_path: Path, package_index: str,
                    demo: Any) -> subprocess.CompletedProcess[str]:
    """`dtm install demo-db -y` with a registry pinning ``demo`` (the built wheel) by its hash."""
    version = {"dependencies": [], "conflicts": [], "dtm": ">=0.1",
               "plugin": {"distribution": "dtm-plugins-demo", "version": f"=={demo.version}",
                          "hashes": [f"sha256:{hashlib.sha256(demo.path.read_bytes()).hexdigest()}"]}}
    registry = tmp_path / "registry.json"
    registry.write_text(json.dumps({"format": 1, "name": "t", "tools": {"demo-db": {
        "description": "demo", "kind": "tool", "tags": [], "homepage": "", "versions": {"16.1": version}}}}))
    assert UV is not None
    env = {"PATH": f"{Path(UV).parent}:/usr/bin:/bin", "HOME": str(tmp_path),
           "DTM_HOME": str(tmp_path / "home"), "DTM_REGISTRY": str(registry),
           "DTM_PACKAGE_INDEX_URL": package_index, "DTM_DEMO_ROOT": str(tmp_path / "res"),
           "UV_NO_CACHE": "1", "UV_CONFIG_FILE": os.devnull}
    return subprocess.run([str(venv / "bin" / "dtm"), "install", "demo-db", "-y"], env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)


def test_install_uses_uv_when_pip_is_absent(tmp_path: Path, local_pypi: str, nopip_venv: Path,
                                            plugin_wheelhouse: dict[str, Any]) -> None:
    done = install_demo_db(nopip_venv, tmp_path, local_pypi, plugin_wheelhouse["dtm-plugins-demo"])
    assert done.returncode == 0, done.stderr
    assert "installing dtm-plugins-demo with uv" in done.stderr
    assert (tmp_path / "res" / "db" / "default.json").exists()


def test_uv_refuses_a_tampered_wheel_in_one_line(tmp_path: Path, tampered_pypi: str, nopip_venv: Path,
                                                 plugin_wheelhouse: dict[str, Any]) -> None:
    done = install_demo_db(nopip_venv, tmp_path, tampered_pypi, plugin_wheelhouse["dtm-plugins-demo"])
    assert done.returncode == 1
    assert done.stderr.splitlines()[-2:] == [
        "error: hash mismatch for dtm-plugins-demo: the file on the package index differs from "
        "the registry's sha256",
        "hint: nothing was installed; the package index may serve a tampered or rebuilt file; "
        "run again with --debug to see the full installer log",
    ]
    assert "Traceback" not in done.stderr
    python = nopip_venv / "bin" / "python"
    probe = "import importlib.util as u; print(u.find_spec('dtm_plugins_demo') is None)"
    assert subprocess.run([str(python), "-c", probe], capture_output=True, text=True).stdout == "True\n"
    assert not (tmp_path / "res").exists()
