"""SIGKILL during install, apply, upgrade and remove of the test plugin's tools, then recovery.

Each trial kills a real ``dtm`` process at a seeded random point: inside a plugin call, before
or after its effect (the test plugin stalls at call N), or after a random delay, which also
lands in start-up, between journal commits and inside them. After the checks every crash must
pass (``crash_harness.check_aftermath``), the world must hold exactly what state records, at
the recorded versions and sizes, and no create may ever have landed on an existing resource.
A fifth of the trials also kill the first ``dtm recover``, half of them a ``--rollback``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from crash_harness import Killed, check_aftermath, kill_after, kill_when, replayable, spawn, trials
from dtm_harness import DtmHarness

APPLIED = """\
version: 1
tools:
  - tool: alpha
    options:
      size: 2
  - tool: beta
    name: one
  - tool: beta
    name: two
  - tool: gamma
    options:
      label: "beta is at ${{ beta.one.outputs.url }}"
"""
#: APPLIED changed: alpha updated, beta.two deleted, beta.three created.
CHANGED = APPLIED.replace("size: 2", "size: 3").replace("name: two", "name: three")


def kill_somewhere(dtm: DtmHarness, rng: random.Random, command: list[str], *, calls: int) -> Killed:
    """Run ``command`` and kill it at a random one of its ``calls`` plugin calls, or moment."""
    if rng.random() < 0.7:
        number = len(dtm.world()["calls"]) + rng.randint(1, calls)
        when = rng.choice(["before", "after"])
        dtm.set_fault("stall", {"call": number, "when": when})
        proc = spawn(dtm, *command)
        killed = kill_when(proc, lambda: dtm.world().get("stalled"), f"{when} plugin call {number}")
        if killed.killed:
            stalled = dtm.world()["stalled"]
            killed.where += f" ({stalled['verb']} {stalled['address']})"
    else:
        # Slow calls stretch the run, so random moments fall inside it as often as in start-up.
        dtm.set_fault("pace", 0.03)
        killed = kill_after(spawn(dtm, *command), rng.uniform(0.05, 0.6))
    dtm.set_fault("stall", None)
    dtm.set_fault("pace", None)
    return killed


def assert_world_matches_state(dtm: DtmHarness) -> dict[str, Any]:
    """No orphan, no missing resource, no stale one, and never a second create of one."""
    world, instances = dtm.world(), dtm.state()["instances"]
    assert set(world["resources"]) == set(instances), "the world and state disagree"
    for address, record in instances.items():
        live = world["resources"][address]
        assert live["version"] == record["version"], address
        assert live["size"] == record["options"].get("size", 1), address
    assert world.get("duplicates", []) == []
    return dict(instances)


def run_trial(dtm: DtmHarness, rng: random.Random, command: list[str], *, calls: int,
              again: Callable[[], list[str] | None] | None = None) -> str | None:
    killed = kill_somewhere(dtm, rng, command, calls=calls)
    if rng.random() < 0.2 and interrupted(dtm):
        # Recovery is a run like any other: it may be killed too, and must be repeatable. A
        # killed rollback must then be continued, by a plain recover as well as by --rollback.
        recover = ["recover", "-y", *(["--rollback"] if rng.random() < 0.5 else [])]
        # Recovery reads before it writes: up to twice the command's calls.
        recovery = kill_somewhere(dtm, rng, recover, calls=2 * calls)
        killed.where += f", then dtm {' '.join(recover)} killed {recovery.where}"
    outcome = check_aftermath(dtm, killed, command, rollback=rng.random() < 0.25,
                              acted=lambda: len(dtm.world()["calls"]), again=again)
    assert_world_matches_state(dtm)
    return outcome


def interrupted(dtm: DtmHarness) -> bool:
    return any(t["outcome"] == "running" for t in dtm.state().get("transactions", []))


@pytest.mark.parametrize("trial", trials(0.24))
def test_install_with_dependencies(dtm: DtmHarness, trial: int, request: pytest.FixtureRequest) -> None:
    with replayable("install", trial, request.node.nodeid) as rng:
        run_trial(dtm, rng, ["install", "gamma", "-y"], calls=3)
        versions = {a: r["version"] for a, r in dtm.state()["instances"].items()}
        assert versions == {"alpha.default": "2.0", "beta.default": "2.0", "gamma.default": "1.0"}


def _applied(dtm: DtmHarness, path: Path) -> None:
    result = dtm.run("apply", "-f", str(path), "-y")
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("trial", trials(0.28))
def test_apply_of_a_toolchain(dtm: DtmHarness, tmp_path: Path, trial: int,
                              request: pytest.FixtureRequest) -> None:
    with replayable("apply", trial, request.node.nodeid) as rng:
        path = tmp_path / "toolchain.yaml"
        path.write_text(APPLIED)
        if rng.random() < 0.5:
            _applied(dtm, path)
            path.write_text(CHANGED)
        command = ["apply", "-f", str(path), "-y"]
        run_trial(dtm, rng, command, calls=5)
        plan = dtm.run("plan", "-f", str(path), "--detailed-exitcode")
        assert plan.exit_code == 0, plan.stdout  # nothing left to change


@pytest.mark.parametrize("trial", trials(0.2))
def test_upgrade(dtm: DtmHarness, newer_registry: Path, trial: int, request: pytest.FixtureRequest) -> None:
    with replayable("upgrade", trial, request.node.nodeid) as rng:
        assert dtm.run("install", "gamma", "-y").exit_code == 0
        dtm.env["DTM_REGISTRY"] = str(newer_registry)
        outcome = run_trial(dtm, rng, ["upgrade", "-y"], calls=4)
        versions = {a: r["version"] for a, r in dtm.state()["instances"].items()}
        # A rolled-back upgrade is upgraded again by the converging re-run.
        assert versions == {"alpha.default": "3.0", "beta.default": "3.0", "gamma.default": "1.0"}, outcome


@pytest.mark.parametrize("trial", trials(0.16))
def test_remove_with_cascade(dtm: DtmHarness, trial: int, request: pytest.FixtureRequest) -> None:
    with replayable("remove", trial, request.node.nodeid) as rng:
        assert dtm.run("install", "gamma", "delta", "-y").exit_code == 0
        command = ["remove", "alpha", "--cascade", "-y"]
        # Once everything is gone, removing it again is an error, not a no-op.
        outcome = run_trial(dtm, rng, command, calls=3, again=lambda: (
            command if "alpha.default" in dtm.state()["instances"] else None))
        assert set(dtm.state()["instances"]) == {"delta.default"}, outcome
