"""The cross-process state lock: who holds it, timeouts, and no stale lock after a crash."""

from __future__ import annotations

import getpass
import json
import os
import re
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dtm_core.errors import LockTimeoutError
from dtm_core.state import LocalStateStore, LockHolder
from dtm_core.state.lock import StateLock, read_holder

HoldLock = Callable[[Path, str], Any]


@pytest.fixture
def lock_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "lock"


def holder_file(lock_path: Path) -> Path:
    return lock_path.with_name("lock.holder.json")


def test_the_message_names_the_recorded_holder(lock_path: Path, hold_lock: HoldLock) -> None:
    hold_lock(lock_path, "dtm install argocd")
    holder_file(lock_path).write_text(json.dumps({
        "pid": 123, "host": "host", "user": "user", "command": "dtm install argocd",
        "since": "2026-11-24T15:00:00Z",
    }))
    with pytest.raises(LockTimeoutError) as caught:
        StateLock(lock_path).acquire(command="dtm list", timeout=0)
    assert str(caught.value) == (
        "another dtm run holds the state lock: pid 123 on host by user (dtm install argocd) "
        "since 2026-11-24T15:00:00Z"
    )


def test_a_waiter_sees_the_holder_then_times_out(lock_path: Path, hold_lock: HoldLock) -> None:
    child = hold_lock(lock_path, "dtm install argocd")
    seen: list[LockHolder | None] = []
    started = time.monotonic()
    with pytest.raises(LockTimeoutError) as caught:
        StateLock(lock_path).acquire(command="dtm list", timeout=0.5, on_wait=seen.append)
    waited = time.monotonic() - started
    assert len(seen) == 1
    holder = seen[0]
    assert holder is not None
    assert (holder.pid, holder.host, holder.user, holder.command) == (
        child.pid, socket.gethostname(), getpass.getuser(), "dtm install argocd")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", holder.since)
    assert str(caught.value) == (
        f"another dtm run holds the state lock: pid {child.pid} on {socket.gethostname()} "
        f"by {getpass.getuser()} (dtm install argocd) since {holder.since}"
    )
    assert caught.value.hint == "wait for it to finish, or pass a longer --lock-timeout"
    assert caught.value.exit_code == 4
    assert 0.5 <= waited < 3


def test_timeout_zero_fails_at_once(lock_path: Path, hold_lock: HoldLock) -> None:
    hold_lock(lock_path, "dtm upgrade")
    seen: list[LockHolder | None] = []
    started = time.monotonic()
    with pytest.raises(LockTimeoutError, match=r"\(dtm upgrade\)"):
        StateLock(lock_path).acquire(command="dtm list", timeout=0, on_wait=seen.append)
    assert time.monotonic() - started < 0.4
    assert len(seen) == 1


def test_a_killed_holder_leaves_no_stale_lock(lock_path: Path, hold_lock: HoldLock) -> None:
    child = hold_lock(lock_path, "dtm install argocd")
    seen: list[LockHolder | None] = []

    def kill_holder(holder: LockHolder | None) -> None:
        seen.append(holder)
        assert holder is not None
        os.kill(holder.pid, signal.SIGKILL)

    with StateLock(lock_path).acquire(command="dtm list", timeout=10, on_wait=kill_holder):
        assert [h.pid for h in seen if h] == [child.pid]
        # The killed run's holder record is replaced by ours.
        assert json.loads(holder_file(lock_path).read_text())["pid"] == os.getpid()


def test_a_released_lock_passes_to_the_waiter(lock_path: Path, hold_lock: HoldLock) -> None:
    child = hold_lock(lock_path, "dtm install argocd")
    seen: list[LockHolder | None] = []

    def let_go(holder: LockHolder | None) -> None:
        seen.append(holder)
        child.close_stdin()

    with StateLock(lock_path).acquire(command="dtm list", timeout=10, on_wait=let_go):
        assert read_holder(lock_path) is not None
    assert len(seen) == 1
    child.expect("released")


def test_a_holder_record_a_killed_run_left_half_written_is_swept(lock_path: Path) -> None:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    left = holder_file(lock_path).with_name(f"{holder_file(lock_path).name}.99999.tmp")
    left.write_text('{"pid": 99999, "ho')
    with StateLock(lock_path).acquire(command="dtm install argocd", timeout=0):
        assert not left.exists()
    assert sorted(p.name for p in lock_path.parent.iterdir()) == [lock_path.name]


def test_the_holder_file_lives_only_while_the_lock_is_held(lock_path: Path) -> None:
    lock = StateLock(lock_path)
    with lock.acquire(command="dtm install argocd", timeout=0):
        assert lock.held
        holder = read_holder(lock_path)
        assert holder is not None
        assert (holder.pid, holder.command) == (os.getpid(), "dtm install argocd")
    assert not lock.held
    assert not holder_file(lock_path).exists()
    assert lock_path.exists()  # unlinking a lock file breaks exclusion for waiters
    with lock:  # the bare context manager form, and the lock can be taken again
        with pytest.raises(RuntimeError, match="not re-entrant"):
            lock.acquire(command="dtm list", timeout=0)
        assert read_holder(lock_path) is not None
    assert not holder_file(lock_path).exists()


def test_an_unknown_holder_is_reported_as_such(lock_path: Path, hold_lock: HoldLock) -> None:
    hold_lock(lock_path, "dtm install argocd")
    holder_file(lock_path).unlink()
    seen: list[LockHolder | None] = []
    with pytest.raises(LockTimeoutError) as caught:
        StateLock(lock_path).acquire(command="dtm list", timeout=0, on_wait=seen.append)
    assert seen == [None]
    assert str(caught.value) == "another dtm run holds the state lock: holder unknown"


@pytest.mark.parametrize("text", ["", '{"pid": 12', '{"pid": "x"}', "[]", '{"pid": 1}'])
def test_a_half_written_holder_file_is_tolerated(lock_path: Path, text: str) -> None:
    lock_path.parent.mkdir(parents=True)
    holder_file(lock_path).write_text(text)
    assert read_holder(lock_path) is None


def test_the_store_lock_uses_the_lock_file_in_its_directory(store: LocalStateStore,
                                                           store_dir: Path) -> None:
    seen: list[LockHolder | None] = []
    with store.lock(command="dtm install argocd", timeout=0):
        holder = read_holder(store_dir / "lock")
        assert holder is not None
        assert holder.command == "dtm install argocd"
        with pytest.raises(LockTimeoutError, match=r"\(dtm install argocd\)"):
            with store.lock(command="dtm list", timeout=0, on_wait=seen.append):
                pass  # pragma: no cover
    assert seen == [holder]
    assert not (store_dir / "lock.holder.json").exists()
