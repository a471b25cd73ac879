"""The pytest fixtures dtm ships for plugin authors (``dtm_core.testing``), used as documented."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest


def test_documented_example(dtm_cli: Any, make_registry: Any, monkeypatch: pytest.MonkeyPatch,
                            tmp_path: Any) -> None:
    # docs/plugin-authors.md, "Developing and testing", with the core's own test plugin.
    monkeypatch.setenv("DTM_PLUGINS", "testplugin")
    monkeypatch.setenv("DTM_LOAD_PLUGINS", "testplugin")
    monkeypatch.setenv("DTM_TEST_WORLD", str(tmp_path / "world.json"))
    make_registry({"alpha": {"description": "b", "versions": {"1.0": {
        "plugin": {"distribution": "dtm-testplugin"}, "dtm": ">=0.1"}}}})
    result = dtm_cli("install", "alpha", "--set", "label=eu", "-y")
    assert result.exit_code == 0, result.stderr
    listed = dtm_cli("list", "-o", "json")
    assert '"address": "alpha.default"' in listed.stdout


def test_dtm_home_is_isolated(dtm_home: Any) -> None:
    assert os.environ["DTM_HOME"] == str(dtm_home)
    assert not dtm_home.exists()


# -- registry entries --------------------------------------------------------------------------


def test_registry_entry_without_a_wheel(dtm_registry_entry: Any) -> None:
    from dtm_core.testing import registry_entry

    assert dtm_registry_entry is registry_entry
    assert registry_entry("dtm-plugins-bucket") == {
        "description": "provided by dtm-plugins-bucket", "tags": [],
        "versions": {"0.1.0": {"plugin": {"distribution": "dtm-plugins-bucket"}, "dependencies": []}}}
    entry = registry_entry("dtm-plugins-bucket", version="2.0", description="b", plugin_version=">=1,<2",
                           dependencies=["alpha>=1"], dtm=">=0.1,<1", tags=["storage"],
                           artifacts={"image": "example/bucket:2.0"})
    assert entry["versions"]["2.0"] == {
        "plugin": {"distribution": "dtm-plugins-bucket", "version": ">=1,<2"},
        "dependencies": ["alpha>=1"], "dtm": ">=0.1,<1", "artifacts": {"image": "example/bucket:2.0"}}


def test_registry_entry_pins_a_wheel_by_version_and_sha256(tmp_path: Any) -> None:
    import hashlib

    from dtm_core.testing import registry_entry

    wheel = tmp_path / "dtm_plugins_bucket-1.2.0-py3-none-any.whl"
    wheel.write_bytes(b"not really a zip")
    plugin = registry_entry("dtm-plugins-bucket", wheel=wheel)["versions"]["0.1.0"]["plugin"]
    assert plugin == {"distribution": "dtm-plugins-bucket", "version": "==1.2.0",
                      "hashes": [f"sha256:{hashlib.sha256(b'not really a zip').hexdigest()}"]}
    with pytest.raises(ValueError, match="is a wheel of dtm_plugins_bucket, not of dtm-plugins-other"):
        registry_entry("dtm-plugins-other", wheel=wheel)
    with pytest.raises(ValueError, match="is not a wheel file name"):
        registry_entry("dtm-plugins-bucket", wheel=tmp_path / "dtm-plugins-bucket-1.2.0.tar.gz")


def test_registry_entries_make_an_index_dtm_accepts(dtm_cli: Any, make_registry: Any,
                                                     dtm_registry_entry: Any, tmp_path: Any) -> None:
    wheel = tmp_path / "dtm_plugins_bucket-1.2.0-py3-none-any.whl"
    wheel.write_bytes(b"x")
    make_registry({"bucket": dtm_registry_entry("dtm-plugins-bucket", version="1.0", wheel=wheel,
                                                dtm=">=0.1,<1"),
                   "bucket-ui": dtm_registry_entry("dtm-plugins-bucket", dependencies=["bucket>=1"])})
    result = dtm_cli("info", "bucket-ui", "-o", "json")
    assert result.exit_code == 0, result.stderr
    info = json.loads(dtm_cli("info", "bucket", "-o", "json").stdout)
    assert info["versions"][0]["plugin"] == "dtm-plugins-bucket==1.2.0"
    assert info["versions"][0]["verified"] is True
    assert info["needed_by"] == ["bucket-ui"]


# -- emulators ----------------------------------------------------------------------------------


def _get(url: str, headers: dict[str, str]) -> tuple[int, Any]:
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(urllib.request.Request(url, headers=headers), timeout=10) as response:
        return response.status, json.loads(response.read())


def test_kubernetes_emulator_runs_for_the_test_with_kubeconfig_set(kubernetes_emulator: Any) -> None:
    config = json.loads(Path(os.environ["KUBECONFIG"]).read_text())
    assert config["clusters"][0]["cluster"]["server"] == kubernetes_emulator.url
    status, body = _get(f"{kubernetes_emulator.url}/api/v1/namespaces/default",
                        {"Authorization": f"Bearer {kubernetes_emulator.token}"})
    assert (status, body["metadata"]["name"]) == (200, "default")
    assert kubernetes_emulator.ready_delay == 0.1


@pytest.mark.parametrize("kubernetes_emulator", [{"ready_delay": 0.0, "token": "s3cret"}], indirect=True)
def test_an_emulator_takes_its_arguments_from_indirect_parametrization(kubernetes_emulator: Any) -> None:
    assert kubernetes_emulator.ready_delay == 0.0
    assert kubernetes_emulator.token == "s3cret"


def test_the_kubernetes_client_plugins_use_finds_the_emulator(kubernetes_emulator: Any) -> None:
    from dtm_core import ObjectRef, load_kube_client

    with load_kube_client(dict(os.environ)) as client:
        assert client.server == kubernetes_emulator.url
        assert client.exists(ObjectRef("v1", "Namespace", "kube-system"))


def test_github_emulator_runs_for_the_test(github_emulator: Any) -> None:
    token = github_emulator.add_user("octo")
    status, body = _get(f"{github_emulator.url}/user", {"Authorization": f"Bearer {token}"})
    assert (status, body["login"]) == (200, "octo")


def test_jenkins_emulator_runs_for_the_test(jenkins_emulator: Any) -> None:
    import base64

    auth = base64.b64encode(b"admin:admin").decode()
    status, body = _get(f"{jenkins_emulator.url}api/json", {"Authorization": f"Basic {auth}"})
    assert status == 200 and "jobs" in body


def test_sandbox_starts_every_service_for_the_test_with_its_environment(sandbox: Any) -> None:
    assert {"kubernetes", "github", "jenkins"} <= set(sandbox)
    assert os.environ["GITHUB_API_URL"] == sandbox["github"].urls["api"]
    status, body = _get(f"{os.environ['GITHUB_API_URL']}/user",
                        {"Authorization": f"Bearer {os.environ['GITHUB_TOKEN']}"})
    assert status == 200 and body["login"]
    assert json.loads(Path(os.environ["KUBECONFIG"]).read_text())["clusters"][0]["cluster"]["server"] == \
        sandbox["kubernetes"].urls["api"]


def test_the_fixtures_module_imports_nothing_costly(tmp_path: Any) -> None:
    # It is loaded into every pytest run where dtm is installed: beyond pytest, next to nothing.
    import subprocess
    import sys

    def imported(code: str) -> set[str]:
        done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True,
                              text=True, cwd=tmp_path, timeout=60, check=True)
        return {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:") and line.count("|") == 2}

    added = imported("import pytest, dtm_core.testing") - imported("import pytest")
    assert "dtm_core.testing" in added
    assert {m.partition(".")[0] for m in added} <= {"dtm_core", "json"}
    assert not {m for m in added if m.startswith(("dtm_core.emulators", "dtm_core.cli"))}
