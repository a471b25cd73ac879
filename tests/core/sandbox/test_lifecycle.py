"""The sandbox's life: up writes its record and is idempotent, down ends it, a crash is cleaned up."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time

from sandbox_harness import Sandbox

from dtm_core.sandbox.layout import process_alive

SERVICES = ["kubernetes", "github", "jenkins", "releases"]


def mode(path: os.PathLike[str]) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_up_records_every_service_and_keeps_credentials_owner_only(sandbox: Sandbox) -> None:
    result = sandbox.up()

    state = sandbox.state()
    assert process_alive(state["pid"])
    assert [s["name"] for s in state["services"]] == SERVICES
    assert all(s["plugin"] == "dtm" for s in state["services"])
    assert state["problems"] == [] and state["persist"] is False
    assert "starting the sandbox" in result.stderr
    assert 'eval "$(dtm sandbox env)"' in result.stderr
    # Secret values are in credentials.json alone; the state names them without a value.
    github = next(s for s in state["services"] if s["name"] == "github")
    assert github["secret_env"] == ["GITHUB_TOKEN"] and github["env"]["GITHUB_TOKEN"] is None
    credentials = json.loads((sandbox.root / "credentials.json").read_text())
    assert credentials["GITHUB_TOKEN"].startswith("ghp_")
    assert credentials["GITHUB_TOKEN"] not in (sandbox.root / "state.json").read_text()
    assert mode(sandbox.root) == 0o700
    for name in ("state.json", "credentials.json", "run/kubernetes/kubeconfig", "sandbox.log"):
        assert mode(sandbox.root / name) == 0o600, name


def test_up_twice_keeps_the_running_sandbox(sandbox: Sandbox) -> None:
    sandbox.up()
    first = sandbox.state()

    again = sandbox.up()

    assert sandbox.state() == first
    assert f"the sandbox is already running (pid {first['pid']}" in again.stderr
    assert "starting" not in again.stderr
    as_json = sandbox.run("up", "-o", "json")
    assert as_json.exit_code == 0 and json.loads(as_json.stdout)["pid"] == first["pid"]


def test_up_with_other_options_says_down_comes_first(sandbox: Sandbox) -> None:
    sandbox.up()

    again = sandbox.up("--persist")

    assert "it runs with other options; run 'dtm sandbox down' first to change them" in again.stderr
    assert sandbox.state()["persist"] is False


def test_down_stops_the_process_and_removes_every_file(sandbox: Sandbox) -> None:
    sandbox.up()
    pid = sandbox.state()["pid"]

    result = sandbox.run("down")

    assert result.exit_code == 0, result.stderr
    assert result.stderr == (f"stopping the sandbox (pid {pid})\n"
                             f"stopped the sandbox (pid {pid}) and removed its files\n")
    assert not process_alive(pid)
    assert not sandbox.root.exists()
    again = sandbox.run("down")
    assert again.exit_code == 0 and again.stderr == "no sandbox was running\n"


def test_a_crashed_sandbox_is_reported_stale_and_replaced_by_up(sandbox: Sandbox) -> None:
    sandbox.up()
    crashed = sandbox.state()["pid"]
    os.kill(crashed, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while process_alive(crashed):
        assert time.monotonic() < deadline
        time.sleep(0.02)

    status = sandbox.run("status", "-o", "json")
    assert json.loads(status.stdout)["condition"] == "stale"
    env = sandbox.run("env")
    assert env.exit_code == 1
    assert env.stderr == (f"error: the sandbox recorded as pid {crashed} is not running (stale)\n"
                          "hint: start one with 'dtm sandbox up' (it cleans up first)\n")

    result = sandbox.up()

    fresh = sandbox.state()["pid"]
    assert fresh != crashed and process_alive(fresh)
    assert (f"cleaning up after a sandbox that stopped without 'dtm sandbox down' (pid {crashed})"
            in result.stderr)


def test_a_recycled_pid_is_neither_trusted_nor_signalled(sandbox: Sandbox) -> None:
    # After a crash and a reboot the recorded pid may be anyone's: here, a sleeping stranger.
    stranger = subprocess.Popen(["sleep", "30"])
    try:
        sandbox.root.mkdir(parents=True)
        (sandbox.root / "state.json").write_text(json.dumps({
            "pid": stranger.pid, "instance": "gone", "control": {"url": "http://127.0.0.1:9", "token": "x"},
            "services": []}))

        result = sandbox.up()

        assert f"stopped without 'dtm sandbox down' (pid {stranger.pid})" in result.stderr
        assert sandbox.state()["pid"] != stranger.pid
        assert stranger.poll() is None  # still sleeping: never signalled
    finally:
        stranger.kill()
        stranger.wait()


def test_a_sandbox_that_cannot_start_reports_its_log(sandbox: Sandbox) -> None:
    # A Python that cannot find its standard library dies before running any of dtm.
    sandbox.dtm.env["PYTHONHOME"] = "/nonexistent"

    result = sandbox.run("up", "--timeout", "20")

    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[-2].startswith("error: the sandbox stopped while starting: ")
    assert lines[-1] == f"hint: see its log: {sandbox.root / 'sandbox.log'}"
    assert not (sandbox.root / "state.json").exists()
