"""`dtm install` end to end: a throwaway venv installs the plugin a tool needs from a local index.

The registry is the repository's own ``registry.json`` with the plugin distributions pinned to
the wheels built from this tree and their sha256 listed, so pip runs with ``--require-hashes``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dtm_core.emulators.kubernetes import KubernetesEmulator

REPO = Path(__file__).resolve().parents[2]
ARGOCD_MANIFEST = Path(os.environ.get("DTM_SPECS_DIR") or REPO.parent / "shared" / "specs") / \
    "argocd-install-v3.5.1.yaml"
BuiltWheel = Any  # tests/e2e/conftest.py: BuiltWheel(distribution, version, path, sha256)


def _pin(tools: dict[str, Any], wheels: dict[str, BuiltWheel], *, corrupt: bool = False) -> None:
    for entry in tools.values():
        for version in entry["versions"].values():
            plugin = version.get("plugin")
            if not plugin:
                continue
            wheel = wheels[plugin["distribution"]]
            digest = ("0" * 64) if corrupt else wheel.sha256
            plugin.update(version=f"=={wheel.version}", hashes=[f"sha256:{digest}"])


@pytest.fixture
def registry_file(tmp_path: Path, plugin_wheelhouse: dict[str, BuiltWheel]) -> Path:
    data = json.loads((REPO / "registry.json").read_text())
    demo = {"dependencies": [], "conflicts": [], "dtm": ">=0.1,<1",
            "plugin": {"distribution": "dtm-plugins-demo"}}
    data["tools"]["demo-db"] = {"description": "demo database", "kind": "tool",
                                "tags": [], "homepage": "", "versions": {"16.1": demo}}
    data["tools"]["demo-app"] = {"description": "demo app", "kind": "tool", "tags": [],
                                 "homepage": "", "versions": {
                                     "1.0": dict(demo, dependencies=["demo-db>=16"])}}
    _pin(data["tools"], plugin_wheelhouse)
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(data))
    return path


def _dtm(venv_python: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(venv_python.parent / "dtm"), *args], env=env, text=True,
                          capture_output=True, timeout=300, stdin=subprocess.DEVNULL)


@pytest.fixture
def env(tmp_path: Path, local_pypi: str, registry_file: Path) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DTM_HOME": str(tmp_path / "home"),
            "DTM_REGISTRY": str(registry_file), "DTM_PACKAGE_INDEX_URL": local_pypi,
            "DTM_DEMO_ROOT": str(tmp_path / "resources"), "PIP_NO_INDEX": "",
            "PIP_FIND_LINKS": "", "PIP_CONFIG_FILE": os.devnull}


def test_install_fetches_the_missing_plugin_hash_checked_and_runs_it(
        throwaway_venv: Path, env: dict[str, str], tmp_path: Path) -> None:
    before = _dtm(throwaway_venv, env, "plugins", "-o", "json")
    assert json.loads(before.stdout) == []
    result = _dtm(throwaway_venv, env, "install", "demo-app", "--set", "replicas=3", "-y")
    assert result.returncode == 0, result.stderr
    assert "install plugin distribution dtm-plugins-demo==0.1.0 (hash-checked)" in result.stderr
    rows = json.loads(_dtm(throwaway_venv, env, "list", "-o", "json").stdout)
    assert [(r["address"], r["reason"]) for r in rows] == [("demo-app.default", "manual"),
                                                            ("demo-db.default", "auto")]
    app = json.loads((tmp_path / "resources" / "app" / "default.json").read_text())
    assert app == {"version": "1.0", "replicas": 3}
    plugins = json.loads(_dtm(throwaway_venv, env, "plugins", "-o", "json").stdout)
    assert [(p["distribution"], p["status"]) for p in plugins] == [("dtm-plugins-demo", "ok")]


def test_a_tampered_wheel_on_the_package_index_is_refused_in_one_line(
        throwaway_venv: Path, env: dict[str, str], tampered_pypi: str) -> None:
    # A compromised mirror: same names and versions, other bytes, its own hashes advertised.
    mirror = dict(env, DTM_PACKAGE_INDEX_URL=tampered_pypi)
    result = _dtm(throwaway_venv, mirror, "install", "demo-app", "-y")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-2:] == [
        "error: hash mismatch for dtm-plugins-demo: the file on the package index differs from "
        "the registry's sha256",
        "hint: nothing was installed; the package index may serve a tampered or rebuilt file; "
        "run again with --debug to see the full installer log",
    ]
    assert "Traceback" not in result.stderr
    assert json.loads(_dtm(throwaway_venv, env, "plugins", "-o", "json").stdout) == []
    assert json.loads(_dtm(throwaway_venv, env, "list", "-o", "json").stdout) == []
    assert json.loads(_dtm(throwaway_venv, env, "history", "-o", "json").stdout) == []


def test_argocd_plugin_is_installed_hash_checked_and_installs_into_the_cluster(
        throwaway_venv: Path, env: dict[str, str], tmp_path: Path) -> None:
    if not ARGOCD_MANIFEST.exists():
        pytest.skip(f"the Argo CD manifest {ARGOCD_MANIFEST} is not available")
    data = json.loads(Path(env["DTM_REGISTRY"]).read_text())
    # Air-gapped style: the release manifest is a local file, still checked against its sha256.
    data["tools"]["argocd"]["versions"] = {"3.5.1": dict(
        data["tools"]["argocd"]["versions"]["3.5.1"],
        artifacts={"manifest": {"url": ARGOCD_MANIFEST.as_uri(),
                                "sha256": hashlib.sha256(ARGOCD_MANIFEST.read_bytes()).hexdigest()}})}
    Path(env["DTM_REGISTRY"]).write_text(json.dumps(data))
    with KubernetesEmulator(ready_delay=0.2) as cluster:
        kube_env = dict(env, KUBECONFIG=str(cluster.write_kubeconfig(tmp_path / "kubeconfig")))
        result = _dtm(throwaway_venv, kube_env, "install", "argocd-app", "--set", "name=guestbook",
                      "--set", "repo_url=https://github.com/example/guestbook", "-y")
        assert result.returncode == 0, result.stderr
        assert "install plugin distribution dtm-plugins-argocd==0.1.0 (hash-checked)" in result.stderr
        server = cluster.get("Deployment", "argocd-server", "argocd")
        assert server is not None and server["status"]["readyReplicas"] == 1
        app = cluster.get("Application", "guestbook", "argocd")
        assert app is not None and app["status"]["sync"]["status"] == "Synced"
    plugins = json.loads(_dtm(throwaway_venv, env, "plugins", "-o", "json").stdout)
    assert [(p["distribution"], p["status"], p["tools"]) for p in plugins] == [
        ("dtm-plugins-argocd", "ok", ["argocd", "argocd-app"])]


def test_hash_mismatch_installs_nothing(throwaway_venv: Path, env: dict[str, str], tmp_path: Path,
                                        plugin_wheelhouse: dict[str, BuiltWheel]) -> None:
    data = json.loads(Path(env["DTM_REGISTRY"]).read_text())
    _pin(data["tools"], plugin_wheelhouse, corrupt=True)
    bad = tmp_path / "bad-registry.json"
    bad.write_text(json.dumps(data))
    result = _dtm(throwaway_venv, dict(env, DTM_REGISTRY=str(bad)), "install", "demo-db", "-y")
    assert result.returncode == 1
    assert "hash mismatch for dtm-plugins-demo" in result.stderr
    assert "Traceback" not in result.stderr
    plugins = json.loads(_dtm(throwaway_venv, env, "plugins", "-o", "json").stdout)
    assert plugins == []
    assert json.loads(_dtm(throwaway_venv, env, "list", "-o", "json").stdout) == []
