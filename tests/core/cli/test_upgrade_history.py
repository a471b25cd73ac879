"""upgrade, hold, history, undo and recovery of interrupted transactions."""

from __future__ import annotations

import json
from pathlib import Path

from dtm_harness import DtmHarness

from dtm_core.state import LocalStateStore, Step, Transaction


def test_upgrade_moves_to_newest_and_list_upgradable_shows_it(
        dtm: DtmHarness, newer_registry: Path) -> None:
    assert dtm.run("install", "beta", "-y").exit_code == 0
    dtm.env["DTM_REGISTRY"] = str(newer_registry)
    listed = dtm.run("list", "--upgradable", "-o", "json")
    assert [(r["address"], r["upgrade_to"]) for r in json.loads(listed.stdout)] == [
        ("alpha.default", "3.0"), ("beta.default", "3.0")]
    result = dtm.run("upgrade", "-y")
    assert result.exit_code == 0, result.stderr
    assert "upgrade alpha.default 2.0 -> 3.0" in result.stderr
    versions = {a: r["version"] for a, r in dtm.state()["instances"].items()}
    assert versions == {"alpha.default": "3.0", "beta.default": "3.0"}
    assert dtm.calls("update") == [("update", "alpha.default"), ("update", "beta.default")]


def test_upgrade_respects_the_install_constraint(dtm: DtmHarness, newer_registry: Path) -> None:
    assert dtm.run("install", "alpha<3", "-y").exit_code == 0
    dtm.env["DTM_REGISTRY"] = str(newer_registry)
    result = dtm.run("upgrade", "-y")
    assert result.exit_code == 0
    assert "nothing to do" in result.stderr
    assert dtm.state()["instances"]["alpha.default"]["version"] == "2.0"


def test_held_tool_is_kept_back_and_cannot_be_removed(dtm: DtmHarness, newer_registry: Path) -> None:
    assert dtm.run("install", "alpha", "-y").exit_code == 0
    assert dtm.run("hold", "alpha").stdout == "alpha.default held\n"
    dtm.env["DTM_REGISTRY"] = str(newer_registry)
    result = dtm.run("upgrade", "-y")
    assert "alpha is held and was kept back" in result.stderr
    assert dtm.state()["instances"]["alpha.default"]["version"] == "2.0"
    removed = dtm.run("remove", "alpha", "-y")
    assert removed.exit_code == 3
    assert removed.stderr.splitlines()[0] == "error: cannot remove alpha.default: it is held"
    blocked = dtm.run("install", "alpha==3.0", "-y")
    assert blocked.exit_code == 3
    assert dtm.run("unhold", "alpha").exit_code == 0
    assert dtm.run("upgrade", "-y").exit_code == 0
    assert dtm.state()["instances"]["alpha.default"]["version"] == "3.0"


def test_history_lists_and_undo_reverses_a_transaction(dtm: DtmHarness) -> None:
    assert dtm.run("install", "beta", "-y").exit_code == 0
    listed = json.loads(dtm.run("history", "-o", "json").stdout)
    assert [(t["id"], t["command"], t["outcome"], t["steps"]) for t in listed] == [
        (1, "install", "ok", 2)]
    undone = dtm.run("history", "undo", "1", "-y")
    assert undone.exit_code == 0, undone.stderr
    assert dtm.state()["instances"] == {}
    assert dtm.calls("delete") == [("delete", "beta.default"), ("delete", "alpha.default")]
    assert dtm.state()["transactions"][1]["undoes"] == 1
    again = dtm.run("history", "undo", "1", "-y")
    assert again.exit_code == 3
    assert again.stderr.splitlines()[0] == (
        "error: cannot undo transaction 1: beta.default changed since (now removed)")


def test_undo_of_a_removal_reinstalls_with_recorded_options(dtm: DtmHarness) -> None:
    assert dtm.run("install", "alpha", "--set", "size=7", "-y").exit_code == 0
    assert dtm.run("remove", "alpha", "-y").exit_code == 0
    assert dtm.run("history", "undo", "2", "-y").exit_code == 0
    assert dtm.state()["instances"]["alpha.default"]["options"]["size"] == 7
    assert dtm.world()["resources"]["alpha.default"]["size"] == 7


def _interrupt(dtm: DtmHarness) -> None:
    """Leave state as a run killed during its second step would: step 2 running."""
    store = LocalStateStore(dtm.home / "data" / "state")
    state = store.load()
    beta = {"tool": "beta", "instance": "default", "version": "2.0", "requires": ["alpha.default"]}
    alpha = {"tool": "alpha", "instance": "default", "version": "2.0"}
    from dtm_core.state import InstanceRecord

    state.instances["alpha.default"] = InstanceRecord.from_json(alpha)
    state.transactions.append(Transaction(id=1, command="install", steps=[
        Step("install", "alpha.default", to_version="2.0", status="done",
             after=InstanceRecord.from_json(alpha).to_json()),
        Step("install", "beta.default", to_version="2.0", status="running",
             after=InstanceRecord.from_json(beta).to_json()),
    ]))
    store.commit(state)


def test_interrupted_transaction_blocks_changes_until_recovered(dtm: DtmHarness) -> None:
    _interrupt(dtm)
    result = dtm.run("install", "gamma", "-y")
    assert result.exit_code == 5
    assert result.stderr.splitlines() == [
        "error: transaction 1 (install) was interrupted at install beta.default",
        "hint: run 'dtm recover' to finish it, or 'dtm recover --rollback' to undo it",
    ]
    listed = json.loads(dtm.run("list", "-o", "json").stdout)
    assert [r["status"] for r in listed] == ["installed"]
    recovered = dtm.run("recover", "-y")
    assert recovered.exit_code == 0, recovered.stderr
    assert "transaction 1: recovered" in recovered.stderr
    # The unknown step is repeated as a create told that it resumes a killed one: only the
    # plugin can tell the resource that run may have made from one it must not take over.
    assert dtm.calls() == [("create", "beta.default")]
    assert dtm.world()["calls"][0]["resuming"] is True
    assert set(dtm.state()["instances"]) == {"alpha.default", "beta.default"}
    assert dtm.run("install", "gamma", "-y").exit_code == 0


def test_recover_rollback_undoes_done_steps(dtm: DtmHarness) -> None:
    _interrupt(dtm)
    result = dtm.run("recover", "--rollback", "-y")
    assert result.exit_code == 0, result.stderr
    assert dtm.state()["instances"] == {}
    assert dtm.state()["transactions"][0]["outcome"] == "rolled back"
    # Only the undo of the interrupted create is told that it may find what that create made.
    assert [(c["verb"], c["address"], c["resuming"]) for c in dtm.world()["calls"]] == [
        ("read", "beta.default", True), ("read", "alpha.default", False)]
    assert dtm.run("recover", "-y").stderr.strip() == "nothing to recover"
