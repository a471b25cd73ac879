"""``dtm sandbox env``: exports a real shell evaluates into working credentials, and its refusals."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from urllib.request import Request, urlopen

from sandbox_harness import Sandbox

NAMES = ["KUBECONFIG", "GITHUB_API_URL", "GITHUB_TOKEN", "JENKINS_URL", "JENKINS_USER_ID",
         "JENKINS_API_TOKEN", "JENKINS_PASSWORD", "DTM_REGISTRY"]


def get_json(url: str, authorization: str) -> dict[str, object]:
    with urlopen(Request(url, headers={"Authorization": authorization}), timeout=10) as reply:
        data: dict[str, object] = json.loads(reply.read())
    return data


def test_env_evaluated_by_a_real_shell_points_clients_at_the_sandbox(sandbox: Sandbox) -> None:
    sandbox.up()
    printed = "".join(f'{name}=%s\\n' for name in NAMES)
    values = " ".join(f'"${name}"' for name in NAMES)
    script = f'eval "$("$PYTHON" -m dtm_core sandbox env)" && printf \'{printed}\' {values}'

    done = subprocess.run(["sh", "-c", script], env={**sandbox.dtm.env, "PYTHON": sys.executable},
                          capture_output=True, text=True, timeout=60, check=False)

    assert done.returncode == 0, done.stderr
    seen = dict(line.split("=", 1) for line in done.stdout.splitlines())
    assert seen == sandbox.env()
    assert list(seen) == NAMES
    # The dtm home's path has a space and a quote: it survived the shell intact.
    assert seen["KUBECONFIG"] == str(sandbox.root / "run" / "kubernetes" / "kubeconfig")
    user = get_json(seen["GITHUB_API_URL"] + "/user", f"Bearer {seen['GITHUB_TOKEN']}")
    assert user["login"] == "dtm-sandbox"
    basic = base64.b64encode(f"{seen['JENKINS_USER_ID']}:{seen['JENKINS_API_TOKEN']}".encode()).decode()
    assert get_json(seen["JENKINS_URL"] + "api/json", f"Basic {basic}")["_class"] == "hudson.model.Hudson"


def test_env_unset_undoes_the_exports(sandbox: Sandbox) -> None:
    sandbox.up()

    result = sandbox.run("env", "--unset")

    assert result.exit_code == 0
    assert result.stdout == f"unset {' '.join(NAMES)}\n"


def test_env_without_a_sandbox_says_how_to_start_one(sandbox: Sandbox) -> None:
    result = sandbox.run("env")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "error: no sandbox is running\nhint: start one with 'dtm sandbox up'\n"
