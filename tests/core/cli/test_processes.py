"""Real processes: a run killed mid-transaction, and a second run waiting for the lock."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator

import pytest
from crash_harness import kill_when, spawn
from dtm_harness import DtmHarness


def _wait_for_call(dtm: DtmHarness, call: tuple[str, str], proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while call not in dtm.calls():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{call} never started"
        time.sleep(0.05)


@pytest.fixture
def slow_beta(dtm: DtmHarness) -> Iterator[DtmHarness]:
    dtm.set_fault("beta:create", 3)
    yield dtm


def test_sigkill_mid_transaction_leaves_readable_state_and_recover_finishes(
        slow_beta: DtmHarness) -> None:
    dtm = slow_beta
    killed = kill_when(spawn(dtm, "install", "beta", "-y"),
                       lambda: ("create", "beta.default") in dtm.calls(), "in create beta.default")
    assert killed.killed
    listed = dtm.run("list", "-o", "json")
    assert listed.exit_code == 0
    blocked = dtm.run("install", "gamma", "-y")
    assert blocked.exit_code == 5
    assert blocked.stderr.splitlines()[0] == (
        "error: transaction 1 (install) was interrupted at install beta.default")
    dtm.set_fault("beta:create", None)
    recovered = dtm.run("recover", "-y")
    assert recovered.exit_code == 0, recovered.stderr
    assert set(dtm.state()["instances"]) == {"alpha.default", "beta.default"}
    assert dtm.state()["transactions"][0]["outcome"] == "recovered"
    # The killed create may or may not have landed; recovery never made a second one.
    assert set(dtm.world()["resources"]) == {"alpha.default", "beta.default"}
    assert dtm.world().get("duplicates", []) == []
    assert dtm.world()["calls"][-1]["resuming"] is True  # the repeated create of beta


def test_second_run_names_the_lock_holder_and_times_out(slow_beta: DtmHarness) -> None:
    dtm = slow_beta
    # "-o json": an option's value is not a word of the command the waiting run is shown.
    proc = spawn(dtm, "install", "-o", "json", "beta", "-y")
    try:
        _wait_for_call(dtm, ("create", "beta.default"), proc)
        waited = dtm.run("--lock-timeout", "0.3", "install", "gamma", "-y")
        assert waited.exit_code == 4
        lines = waited.stderr.splitlines()
        assert lines[0].startswith(f"waiting for the state lock held by pid {proc.pid} on ")
        assert "(dtm install beta) since " in lines[0]
        assert lines[1].startswith(f"error: another dtm run holds the state lock: pid {proc.pid} on ")
        assert lines[2] == "hint: wait for it to finish, or pass a longer --lock-timeout"
    finally:
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert dtm.run("install", "gamma", "-y").exit_code == 0


def test_a_run_in_progress_is_not_taken_for_interrupted(slow_beta: DtmHarness) -> None:
    dtm = slow_beta
    proc = spawn(dtm, "install", "beta", "-y")
    try:
        _wait_for_call(dtm, ("create", "beta.default"), proc)
        # Its transaction is recorded as running, as a killed run's is: only the lock tells.
        listed = dtm.run("list")
        listed_json = json.loads(dtm.run("list", "-o", "json").stdout)
        state_listed = json.loads(dtm.run("state", "list", "-o", "json").stdout)
        recovered = dtm.run("recover", "-y")  # waits for the lock, then finds nothing to do
    finally:
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert {row["address"]: row["status"] for row in listed_json} == {"alpha.default": "installed"}
    assert listed.stderr.splitlines()[-1] == "transaction 1 (install) is in progress in another dtm run"
    assert (state_listed["interrupted"], state_listed["in_progress"]) == (None, 1)
    assert recovered.exit_code == 0, recovered.stderr
    assert "was interrupted" not in recovered.stderr
    assert recovered.stderr.splitlines()[-1] == "nothing to recover"
    assert [tx["outcome"] for tx in dtm.state()["transactions"]] == ["ok"]


def test_list_marks_what_a_run_in_progress_changes(dtm: DtmHarness) -> None:
    assert dtm.run("install", "alpha", "-y").exit_code == 0
    dtm.set_fault("alpha:update", 3)
    proc = spawn(dtm, "reinstall", "alpha", "-y")
    try:
        _wait_for_call(dtm, ("update", "alpha.default"), proc)
        during = json.loads(dtm.run("list", "-o", "json").stdout)
    finally:
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert [(row["address"], row["status"]) for row in during] == [("alpha.default", "in progress")]
    after = json.loads(dtm.run("list", "-o", "json").stdout)
    assert [(row["address"], row["status"]) for row in after] == [("alpha.default", "installed")]


def test_reinstall_converges_without_deleting(dtm: DtmHarness) -> None:
    assert dtm.run("install", "alpha", "--set", "size=4", "-y").exit_code == 0
    world = dtm.world()
    world["resources"]["alpha.default"]["size"] = 9
    dtm.world_file.write_text(json.dumps(world))
    result = dtm.run("reinstall", "alpha", "-y")
    assert result.exit_code == 0, result.stderr
    assert dtm.world()["resources"]["alpha.default"]["size"] == 4
    assert ("delete", "alpha.default") not in dtm.calls()
    assert dtm.calls()[-2:] == [("read", "alpha.default"), ("update", "alpha.default")]
