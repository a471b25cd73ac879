"""``--persist``: what the emulators hold survives down and up; ``down --purge`` forgets it."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.request import Request, urlopen

from sandbox_harness import Sandbox

FOLDER = b"<com.cloudbees.hudson.plugins.folder.Folder/>"
JOB = b"<flow-definition><description>kept</description></flow-definition>"


def post(url: str, body: bytes, **headers: str) -> None:
    with urlopen(Request(url, data=body, method="POST", headers=headers), timeout=10):
        pass


def holds(sandbox: Sandbox) -> dict[str, dict[str, object]]:
    data = json.loads(sandbox.run("status", "-o", "json").stdout)
    return {s["name"]: s["holds"] for s in data["services"]}


def test_persisted_objects_repositories_and_jobs_come_back_after_down_and_up(sandbox: Sandbox) -> None:
    sandbox.up("--persist")
    env = sandbox.env()
    kube = json.loads(Path(env["KUBECONFIG"]).read_text())["clusters"][0]["cluster"]["server"]
    post(f"{kube}/api/v1/namespaces", b'{"metadata": {"name": "kept"}}',
         **{"Content-Type": "application/json"})
    post(f"{env['GITHUB_API_URL']}/user/repos", b'{"name": "app", "auto_init": true}',
         Authorization=f"Bearer {env['GITHUB_TOKEN']}")
    basic = "Basic " + base64.b64encode(f"admin:{env['JENKINS_API_TOKEN']}".encode()).decode()
    post(f"{env['JENKINS_URL']}createItem?name=team", FOLDER, Authorization=basic,
         **{"Content-Type": "application/xml"})
    post(f"{env['JENKINS_URL']}job/team/createItem?name=app", JOB, Authorization=basic,
         **{"Content-Type": "application/xml"})
    before = holds(sandbox)

    down = sandbox.run("down")
    assert f"kept persisted data in {sandbox.root / 'persist'} (--purge removes it)" in down.stderr
    assert sorted(p.name for p in sandbox.root.iterdir()) == ["persist"]
    sandbox.up("--persist")

    after = holds(sandbox)
    assert "kept" in after["kubernetes"]["namespaces"]  # type: ignore[operator]
    assert after["github"]["repositories"] == ["dtm-sandbox/app"]
    assert after["jenkins"] == {"user": "admin", "folders": ["team"], "jobs": ["team/app"]}
    assert {k: v for k, v in after.items() if k != "releases"} == {
        k: v for k, v in before.items() if k != "releases"}
    assert sandbox.env()["GITHUB_TOKEN"] != env["GITHUB_TOKEN"]  # credentials are new each time

    sandbox.run("down", "--purge")
    assert not sandbox.root.exists()


def test_without_persist_a_new_sandbox_starts_empty(sandbox: Sandbox) -> None:
    sandbox.up()
    env = sandbox.env()
    post(f"{env['GITHUB_API_URL']}/user/repos", b'{"name": "app"}',
         Authorization=f"Bearer {env['GITHUB_TOKEN']}")
    sandbox.run("down")

    sandbox.up()

    assert holds(sandbox)["github"]["repositories"] == []
    assert not (sandbox.root / "persist").exists()

