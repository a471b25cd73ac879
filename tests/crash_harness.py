"""Crash trials: run dtm as a real process, SIGKILL it mid-command, check what it left behind.

A trial spawns the ``dtm`` console script of the environment running the tests, kills it at a
point chosen by a seeded RNG (a plugin call the test plugin stalls at, a number of requests an
emulator received, or a random delay), then asserts what issue 9 asks of every crash: the
state loads, the next run refuses with exit 5 and the ``dtm recover`` hint instead of acting,
``dtm recover`` converges, and running the command again succeeds. What the remote system
must then hold is the caller's check (the world file, an emulator).

How many trials run: ``DTM_CRASH_TRIALS`` (the total, spread over the scenarios by weight;
50 when unset). The seed of every trial is derived from ``DTM_CRASH_SEED`` (random when
unset) and printed when a trial fails, with the command line that replays it.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dtm_harness import DtmHarness

#: The console script the user runs, from the environment running the tests.
DTM = Path(sys.executable).parent / "dtm"
DEFAULT_TRIALS = 50
RECOVER_HINT = "hint: run 'dtm recover' to finish it, or 'dtm recover --rollback' to undo it"
#: The hint once a (killed) rollback has begun: only rolling back can finish it.
ROLLBACK_HINT = "hint: run 'dtm recover --rollback' to finish undoing it"
#: A lock the killed run left held would make the refused run wait this long, then exit 4.
LOCK_TIMEOUT = "5"


def total_trials() -> int:
    return int(os.environ.get("DTM_CRASH_TRIALS") or DEFAULT_TRIALS)


def trials(weight: float) -> range:
    """This scenario's share of the trials (``weight`` of the total, at least one)."""
    return range(max(1, round(total_trials() * weight)))


BASE_SEED = int(os.environ.get("DTM_CRASH_SEED") or random.SystemRandom().randrange(2**32))


def trial_seed(scenario: str, trial: int) -> int:
    """A seed of its own per trial, reproducible from ``BASE_SEED``."""
    return random.Random(f"{BASE_SEED}/{scenario}/{trial}").randrange(2**32)


@contextmanager
def replayable(scenario: str, trial: int, test_id: str) -> Iterator[random.Random]:
    """The trial's RNG; a failure inside names its seed and how to run it again."""
    seed = trial_seed(scenario, trial)
    try:
        yield random.Random(seed)
    except AssertionError as failure:
        replay = (f"DTM_CRASH_SEED={BASE_SEED} DTM_CRASH_TRIALS={total_trials()} "
                  f".venv/bin/pytest '{test_id}'")
        raise AssertionError(f"crash trial {scenario}[{trial}] (seed {seed}) failed; replay with: "
                             f"{replay}\n{failure}") from failure


@dataclass
class Killed:
    """How a trial's run ended: killed (and where), or finished before the kill point."""

    killed: bool
    where: str
    stderr: str
    pid: int


def spawn(dtm: DtmHarness, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, **dtm.env, "PATH": os.environ["PATH"]}
    return subprocess.Popen([str(DTM), *args], env=env, text=True, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def kill_when(proc: subprocess.Popen[str], reached: Callable[[], Any], where: str, *,
              timeout: float = 30.0) -> Killed:
    """SIGKILL ``proc`` as soon as ``reached()`` is true; unless it exits first."""
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None:
            if reached():
                proc.send_signal(signal.SIGKILL)
                _, err = proc.communicate()
                return Killed(True, where, err, proc.pid)
            assert time.monotonic() < deadline, f"{where} was never reached"
            time.sleep(0.005)
    finally:
        if proc.poll() is None:  # the test failed: leave no process behind
            proc.kill()
            proc.communicate()
    _, err = proc.communicate()
    assert proc.returncode == 0, f"the run failed before {where}: {err}"
    return Killed(False, f"finished before {where}", err, proc.pid)


def kill_after(proc: subprocess.Popen[str], delay: float) -> Killed:
    """SIGKILL ``proc`` after ``delay`` seconds, wherever it is; unless it exits first."""
    try:
        _, err = proc.communicate(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate()
        return Killed(True, f"after {delay:.3f} s", err, proc.pid)
    assert proc.returncode == 0, f"the run failed before its kill at {delay:.3f} s: {err}"
    return Killed(False, f"finished before {delay:.3f} s", err, proc.pid)


def check_aftermath(dtm: DtmHarness, killed: Killed, command: Sequence[str], *,
                    rollback: bool, acted: Callable[[], Any],
                    again: Callable[[], Sequence[str] | None] | None = None) -> str | None:
    """The checks every crash must pass, up to a converged ``command``; returns the recovery outcome.

    ``acted()`` tells what the remote system saw (its calls or writes): the refused run must
    leave it unchanged. ``again()`` is the command that must then succeed (``command`` when
    not given; None when nothing is left to do). Returns the interrupted transaction's
    outcome after ``dtm recover``, or None when the kill left no transaction running. A
    transaction a killed ``dtm recover --rollback`` left is rolled back even by a plain
    ``dtm recover``.
    """
    context = f"pid {killed.pid} killed {killed.where}; its stderr:\n{killed.stderr}"
    listed = dtm.run("list", "-o", "json")
    assert listed.exit_code == 0, f"state does not load: {listed.stderr}\n{context}"
    state = dtm.state()
    running = [t for t in state.get("transactions", []) if t["outcome"] == "running"]
    assert len(running) <= 1, context
    outcome = None
    if running:
        tx = running[0]
        before = acted()
        refused = dtm.run("--lock-timeout", LOCK_TIMEOUT, *command)
        assert refused.exit_code == 5, f"{refused.stderr}\n{context}"
        lines = refused.stderr.splitlines()
        assert lines[0].startswith(
            f"error: transaction {tx['id']} ({tx['command']}) was interrupted"), refused.stderr + context
        rolling_back = tx.get("rolling_back", False)
        assert lines[1] == (ROLLBACK_HINT if rolling_back else RECOVER_HINT), refused.stderr + context
        assert acted() == before and dtm.state()["serial"] == state["serial"], (
            f"the refused run acted\n{context}")
        recovered = dtm.run("recover", "-y", *(["--rollback"] if rollback else []))
        assert recovered.exit_code == 0, f"{recovered.stderr}\n{context}"
        after = next(t for t in dtm.state()["transactions"] if t["id"] == tx["id"])
        outcome = after["outcome"]
        assert outcome == ("rolled back" if rollback or rolling_back else "recovered"), context
        # Never half one way and half the other: a recovered transaction did every step.
        statuses = {s["status"] for s in after["steps"]}
        expected = {"undone", "skipped"} if outcome == "rolled back" else {"done"}
        assert statuses <= expected, f"{outcome} with steps {statuses}\n{context}"
    else:
        assert dtm.run("recover", "-y").stderr == "nothing to recover\n", context
    rerun = again() if again is not None else command
    if rerun is not None:
        converged = dtm.run(*rerun)
        assert converged.exit_code == 0, f"the command does not converge: {converged.stderr}\n{context}"
    leftovers = sorted(p.name for p in (dtm.home / "data" / "state").glob(".state.json.*.tmp"))
    # The in-process runs above write as pid os.getpid().
    assert leftovers == [], f"{leftovers} left (this process is {os.getpid()})\n{context}"
    return outcome
