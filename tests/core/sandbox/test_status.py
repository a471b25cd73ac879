"""``dtm sandbox status``: what runs where and what it holds, as text and JSON, credentials masked."""

from __future__ import annotations

import json
from urllib.request import Request, urlopen

from sandbox_harness import Sandbox

SERVICES = ["kubernetes", "github", "jenkins", "releases"]


def test_status_lists_services_and_holdings_without_secrets(sandbox: Sandbox) -> None:
    sandbox.up()
    env = sandbox.env()
    request = Request(env["GITHUB_API_URL"] + "/user/repos", data=b'{"name": "app"}', method="POST",
                      headers={"Authorization": f"Bearer {env['GITHUB_TOKEN']}"})
    with urlopen(request, timeout=10):
        pass

    text = sandbox.run("status")
    data = json.loads(sandbox.run("status", "-o", "json").stdout)

    assert text.exit_code == 0
    assert text.stdout.startswith(f"sandbox running: pid {data['pid']}, since ")
    services = {s["name"]: s for s in data["services"]}
    assert list(services) == SERVICES and data["running"] is True
    for service in data["services"]:
        assert f"{service['name']} (dtm): {service['description']}" in text.stdout
        for url in service["urls"].values():
            assert url in text.stdout
    assert services["github"]["holds"] == {"user": "dtm-sandbox", "organisation": "acme",
                                           "repositories": ["dtm-sandbox/app"]}
    assert "  repositories  dtm-sandbox/app\n" in text.stdout
    assert services["kubernetes"]["holds"]["namespaces"] == ["default", "kube-node-lease", "kube-public",
                                                             "kube-system"]
    assert services["jenkins"]["holds"] == {"user": "admin", "folders": [], "jobs": []}
    assert services["github"]["env"] == {"GITHUB_API_URL": env["GITHUB_API_URL"], "GITHUB_TOKEN": "***"}
    for secret in ("GITHUB_TOKEN", "JENKINS_API_TOKEN", "JENKINS_PASSWORD"):
        assert env[secret] not in text.stdout + text.stderr
        assert env[secret] not in json.dumps(data)


def test_status_without_a_sandbox(sandbox: Sandbox) -> None:
    text = sandbox.run("status")
    data = json.loads(sandbox.run("status", "-o", "json").stdout)

    assert text.exit_code == 0
    assert text.stdout == "no sandbox is running (start one with 'dtm sandbox up')\n"
    assert data["running"] is False and data["services"] == []


def test_a_plugins_service_starts_beside_the_cores_and_a_failing_one_is_left_out(sandbox: Sandbox) -> None:
    sandbox.dtm.env.update(DTM_PLUGINS="testplugin,echo_plugin", DTM_LOAD_PLUGINS="testplugin,echo_plugin")

    result = sandbox.up()

    problem = ("service broken (plugin echo_plugin) did not start: "
               "DtmError: no licence for the broken service")
    assert f"warning: {problem}\n" in result.stderr
    env = sandbox.env()
    assert env["ECHO_TOKEN"] == "echo-token-7c1d"
    with urlopen(env["ECHO_URL"] + "/hello", timeout=10) as reply:
        assert reply.read() == b"echo /hello"
    data = json.loads(sandbox.run("status", "-o", "json").stdout)
    echo = data["services"][-1]
    assert [s["name"] for s in data["services"]] == [*SERVICES, "echo"]
    assert echo["plugin"] == "echo_plugin" and echo["holds"] == {"requests": 1}
    assert echo["env"] == {"ECHO_URL": env["ECHO_URL"], "ECHO_TOKEN": "***"}
    assert data["problems"] == [problem]
