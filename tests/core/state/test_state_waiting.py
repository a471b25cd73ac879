"""Naming the lock's holder while it records itself or lets go, and never naming a dead run."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dtm_core.errors import LockTimeoutError
from dtm_core.state import LockHolder
from dtm_core.state.lock import StateLock
from dtm_core.state.waiting import name_holder, start_waiting

HOLDER = LockHolder(pid=4242, host="ci-7", user="alice", command="dtm install argocd",
                    since="2026-11-24T15:00:00Z")


def answers(*values: Any) -> Callable[[], Any]:
    """A callable giving ``values`` one per call, then the last one forever."""
    given: Iterator[Any] = iter(values)
    last: list[Any] = [None]

    def next_answer() -> Any:
        last[0] = next(given, last[0])
        return last[0]

    return next_answer


def test_a_holder_that_records_itself_late_is_still_named() -> None:
    # As between the holder winning the lock and writing its record.
    assert name_holder(answers(False), answers(None, None, HOLDER)) == (False, HOLDER)


def test_a_lock_let_go_while_its_holder_was_unnamed_is_won() -> None:
    # As between the holder erasing its record and letting go of the lock.
    assert name_holder(answers(False, True), answers(None)) == (True, None)


def test_a_holder_never_named_is_reported_unknown_after_the_grace() -> None:
    assert name_holder(answers(False), answers(None), grace=0.05) == (False, None)


def test_a_run_that_will_not_wait_still_names_the_holder() -> None:
    seen: list[LockHolder | None] = []
    with pytest.raises(LockTimeoutError) as caught:
        start_waiting(answers(False), answers(None, HOLDER), 0, seen.append)
    assert seen == [HOLDER]
    assert str(caught.value) == f"another dtm run holds the state lock: {HOLDER.describe()}"
    assert caught.value.exit_code == 4


def test_a_run_that_won_while_naming_does_not_report_waiting() -> None:
    seen: list[LockHolder | None] = []
    assert start_waiting(answers(True), answers(None), 0, seen.append) is None
    assert seen == []


def test_a_patient_run_names_the_holder_then_has_its_whole_timeout_left() -> None:
    seen: list[LockHolder | None] = []
    assert start_waiting(answers(False), answers(HOLDER), -1, seen.append) == (-1, HOLDER)
    waiting = start_waiting(answers(False), answers(HOLDER), 30, seen.append)
    assert waiting is not None and 0 < waiting[0] <= 30 and waiting[1] == HOLDER
    assert seen == [HOLDER, HOLDER]


def test_a_dead_run_on_this_host_is_never_named(tmp_path: Path,
                                               hold_lock: Callable[[Path, str], Any]) -> None:
    # A killed holder's record stays until the next holder replaces it: as if we looked then.
    lock_path = tmp_path / "state" / "lock"
    hold_lock(lock_path, "dtm install argocd")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    record = {"pid": int(dead.stdout), "host": socket.gethostname(), "user": "alice",
              "command": "dtm remove argocd", "since": "2026-11-24T15:00:00Z"}
    lock_path.with_name("lock.holder.json").write_text(json.dumps(record))
    assert StateLock(lock_path).live_holder() is None
    record["host"] = "another-host"  # whose processes we cannot see: named as recorded
    lock_path.with_name("lock.holder.json").write_text(json.dumps(record))
    assert StateLock(lock_path).live_holder() == LockHolder(**record)  # type: ignore[arg-type]
