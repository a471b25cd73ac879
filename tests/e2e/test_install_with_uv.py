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


@pytest.mark.skipif(UV is None, reason="uv is not installed in the test venv (pip install uv)")
def test_install_uses_uv_when_pip_is_absent(tmp_path: Path, local_pypi: str,
                                            plugin_wheelhouse: dict[str, Any]) -> None:
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
    demo = plugin_wheelhouse["dtm-plugins-demo"]
    version = {"dependencies": [], "conflicts": [], "dtm": ">=0.1",
               "plugin": {"distribution": "dtm-plugins-demo", "version": f"=={demo.version}",
                          "hashes": [f"sha256:{hashlib.sha256(demo.path.read_bytes()).hexdigest()}"]}}
    registry = tmp_path / "registry.json"
    registry.write_text(json.dumps({"format": 1, "name": "t", "tools": {"demo-db": {
        "description": "demo", "kind": "tool", "tags": [], "homepage": "", "versions": {"16.1": version}}}}))
    env = {"PATH": f"{Path(UV).parent}:/usr/bin:/bin", "HOME": str(tmp_path),
           "DTM_HOME": str(tmp_path / "home"), "DTM_REGISTRY": str(registry),
           "DTM_PACKAGE_INDEX_URL": local_pypi, "DTM_DEMO_ROOT": str(tmp_path / "res"),
           "UV_NO_CACHE": "1", "UV_CONFIG_FILE": os.devnull}
    done = subprocess.run([str(venv / "bin" / "dtm"), "install", "demo-db", "-y"], env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "installing dtm-plugins-demo with uv" in done.stderr
    assert (tmp_path / "res" / "db" / "default.json").exists()
