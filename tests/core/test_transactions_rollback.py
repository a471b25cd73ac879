"""recover --rollback when an undo fails or the rollback itself is killed: it can always go on."""

from __future__ import annotations

import pytest
from crash_harness import kill_when, spawn
from dtm_harness import DtmHarness

from dtm_core.state import LocalStateStore

ROLLBACK_HINT = "hint: run 'dtm recover --rollback' to finish undoing it"


def _killed_during_beta_install(dtm: DtmHarness) -> None:
    """Leave what a kill just after beta's create landed leaves: alpha done, beta running."""
    assert dtm.run("install", "beta", "-y").exit_code == 0
    store = LocalStateStore(dtm.home / "data" / "state")
    state = store.load()
    tx = state.transactions[-1]
    tx.outcome, tx.finished_at = "running", None
    assert [s.address for s in tx.steps] == ["alpha.default", "beta.default"]
    tx.steps[1].status = "running"
    del state.instances["beta.default"]
    store.commit(state)


@pytest.mark.parametrize("again", [["recover", "--rollback", "-y"], ["recover", "-y"]])
def test_a_failed_rollback_leaves_the_transaction_to_roll_back_again(
        dtm: DtmHarness, again: list[str]) -> None:
    _killed_during_beta_install(dtm)
    dtm.set_fault("alpha.default:delete", "fail")
    failed = dtm.run("recover", "--rollback", "-y")
    assert failed.exit_code == 1
    assert failed.stderr.splitlines()[-2:] == [
        "error: rollback of transaction 1 failed: alpha.default: delete failed on purpose",
        "hint: fix the cause and run 'dtm recover --rollback' again; "
        "'dtm history info 1' shows what is left to undo",
    ]
    tx = dtm.state()["transactions"][0]
    assert (tx["outcome"], tx["rolling_back"]) == ("running", True)
    error = "rollback failed: alpha.default: delete failed on purpose"
    assert [(s["status"], s["error"]) for s in tx["steps"]] == [("done", error), ("undone", None)]
    assert error in dtm.run("history", "info", "1").stdout
    assert set(dtm.state()["instances"]) == {"alpha.default"}

    refused = dtm.run("install", "gamma", "-y")
    assert refused.exit_code == 5
    assert refused.stderr.splitlines() == [
        "error: transaction 1 (install) was interrupted while rolling back at the undo of "
        "install alpha.default",
        ROLLBACK_HINT,
    ]

    dtm.set_fault("alpha.default:delete", None)
    retried = dtm.run(*again)
    assert retried.exit_code == 0, retried.stderr
    assert "transaction 1: rolled back" in retried.stderr
    tx = dtm.state()["transactions"][0]
    assert [(s["status"], s["error"]) for s in tx["steps"]] == [("undone", None), ("undone", None)]
    assert "rolling_back" not in tx
    assert dtm.state()["instances"] == {} and dtm.world()["resources"] == {}


def test_a_plain_recover_continues_a_killed_rollback(dtm: DtmHarness) -> None:
    _killed_during_beta_install(dtm)
    # The rollback undoes beta (read, delete), then reads alpha: kill it there, beta undone.
    read_of_alpha = len(dtm.world()["calls"]) + 3
    dtm.set_fault("stall", {"call": read_of_alpha, "when": "before"})
    killed = kill_when(spawn(dtm, "recover", "--rollback", "-y"),
                       lambda: dtm.world().get("stalled"), "the read of alpha")
    assert killed.killed and dtm.world()["stalled"]["address"] == "alpha.default", killed.stderr
    dtm.set_fault("stall", None)
    tx = dtm.state()["transactions"][0]
    assert (tx["outcome"], tx.get("rolling_back")) == ("running", True)
    assert [s["status"] for s in tx["steps"]] == ["done", "undone"]

    recovered = dtm.run("recover", "-y")
    assert recovered.exit_code == 0, recovered.stderr
    assert ("transaction 1 (install) was interrupted while rolling back; "
            "dtm will finish rolling it back:") in recovered.stderr
    assert dtm.state()["transactions"][0]["outcome"] == "rolled back"
    assert dtm.state()["instances"] == {} and dtm.world()["resources"] == {}
