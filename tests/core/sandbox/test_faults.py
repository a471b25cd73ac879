"""``dtm sandbox up --faults``: the background process's emulators fail calls, and ``status`` counts them."""

from __future__ import annotations

import json

import httpx
import pytest
from sandbox_harness import Sandbox

from dtm_core.emulators.faults import FaultRates


def test_up_with_faults_makes_the_emulators_fail_calls_and_status_counts_them(sandbox: Sandbox) -> None:
    result = sandbox.up("--faults", "reset=0.5,after=0", "--fault-seed", "4")
    env = sandbox.env()
    failures = 0
    with httpx.Client(headers={"Authorization": f"Bearer {env['GITHUB_TOKEN']}"}, timeout=10) as http:
        for _ in range(20):
            try:
                http.get(env["GITHUB_API_URL"] + "/user")
            except httpx.ReadError:
                failures += 1
    assert 0 < failures < 20

    text = sandbox.run("status").stdout
    data = json.loads(sandbox.run("status", "-o", "json").stdout)
    assert data["faults"]["seed"] == 4
    assert FaultRates(**data["faults"]["rates"]) == FaultRates(reset=0.5, after=0)
    assert "injecting faults: reset=0.5,after=0 (seed 4)\n" in text + result.stdout
    github = next(service for service in data["services"] if service["name"] == "github")
    assert github["holds"]["faults injected"] == f"{failures} ({failures} reset; 0 after the work)"


def test_bad_fault_rates_are_refused_before_anything_starts(sandbox: Sandbox) -> None:
    result = sandbox.run("up", "--faults", "resets=0.5")
    assert result.exit_code == 2
    assert "Invalid value for '--faults': bad fault rates 'resets=0.5': unknown fault setting 'resets'" in \
        result.stderr
    assert not sandbox.root.joinpath("state.json").exists()


def test_the_environment_variable_sets_the_rates(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DTM_SANDBOX_FAULTS", "0.2")  # read by click, like the other DTM_* option variables
    sandbox.up()
    assert FaultRates(**sandbox.state()["faults"]["rates"]) == FaultRates.mixed(0.2)
