"""A canary password in a remote registry index URL: kept in registries.json (0600) alone.

Before, ``dtm registry add`` and ``registry list`` (text and JSON) printed the URL whole, a
failed fetch quoted it, and the index cache recorded it beside the index. The index is served
on loopback; the real ``dtm`` executable adds, lists, updates, searches, and fails to add
an unreachable one, with and without ``--debug``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from canaries import Canaries, mode
from canaryworld import Run, run_dtm
from releases import ReleaseServer

from dtm_core.masking import mask_credentials

pytestmark = pytest.mark.slow  # an HTTP server on loopback

TEST_REGISTRY = Path(__file__).resolve().parents[1] / "data" / "test-registry.json"


@pytest.fixture
def index_server() -> Iterator[ReleaseServer]:
    server = ReleaseServer(b"")
    server.files["/index.json"] = TEST_REGISTRY.read_bytes()
    yield server
    server.close()


def test_a_registry_url_password_is_shown_masked_and_kept_in_the_config_alone(
        dtm_env: dict[str, str], index_server: ReleaseServer, tmp_path: Path) -> None:
    canaries = Canaries()
    password = quote(canaries.new("registry URL password").value, safe="")
    url = index_server.url.replace("http://", f"http://ci:{password}@") + "/index.json"
    away = quote(canaries.new("unreachable registry password").value, safe="")
    unreachable = f"http://ci:{away}@127.0.0.1:9/x.json"
    env = dict(dtm_env, NO_PROXY="127.0.0.1,localhost")
    runs: list[Run] = []

    def dtm(*args: str, code: int = 0) -> Run:
        run = run_dtm(args, env, tmp_path)
        runs.append(run)
        assert run.exit_code == code, run
        return run

    added = dtm("registry", "add", "team", url)
    assert f"added index team ({mask_credentials(url)})" in added.stderr
    assert json.loads(dtm("registry", "list", "-o", "json").stdout)[0]["url"] == mask_credentials(url)
    dtm("registry", "list")
    dtm("update")
    dtm("update", "-o", "json")
    dtm("search", "alpha")
    dtm("info", "alpha", "-o", "json")
    for debug in ((), ("--debug",)):
        failed = dtm(*debug, "registry", "add", "away", unreachable, code=1)
        assert "could not fetch index 'away' from http://ci:***@127.0.0.1:9/x.json" in failed.stderr
        dtm(*debug, "registry", "add", "again", url, code=2)  # already configured, under another name
    assert index_server.downloads  # the index was fetched through the URL with the password

    config = Path(env["DTM_HOME"]) / "config" / "registries.json"
    assert mode(config) == 0o600
    leaks = canaries.leaks_in_files([Path(env["DTM_HOME"])], skip={config})
    for run in runs:
        leaks += canaries.leaks_in(f"stdout of dtm {' '.join(run.args)}", run.stdout)
        leaks += canaries.leaks_in(f"stderr of dtm {' '.join(run.args)}", run.stderr)
    assert [str(leak) for leak in leaks] == []
