"""What every state backend does (local file and PostgreSQL): round trips, serials, lost
updates, schema versions, and the run lock — who holds it, timeouts, no stale lock.
"""

from __future__ import annotations

import getpass
import os
import re
import signal
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest
from postgres import StateBackend  # type: ignore[import-not-found,unused-ignore]

from dtm_core.errors import InvalidInputError, LockTimeoutError, RefusedError
from dtm_core.state import InstanceRecord, LockHolder, State
from dtm_core.state.local import MIGRATIONS
from dtm_core.state.model import STATE_SCHEMA_VERSION

HoldLock = Callable[[StateBackend, str], Any]


def test_nothing_committed_loads_empty_and_creates_nothing(backend: StateBackend) -> None:
    store = backend.store()
    state = store.load()
    assert state == State()
    assert state.serial == 0
    assert store.installed_tools() == set()
    assert not backend.created_anything()


def test_round_trip_keeps_instances_and_transactions(backend: StateBackend, sample_state: State) -> None:
    state = sample_state
    backend.store().commit(state)
    loaded = backend.store().load()
    assert loaded == state
    assert loaded.instances["argocd.main"].options["token"] == "env:ARGO_TOKEN"
    assert loaded.transactions[0].steps[1].after == state.instances["argocd.main"].to_json()
    # Both backends keep the same text: sorted keys, whatever order they were set in.
    assert list(loaded.instances["argocd.main"].options) == ["namespace", "token"]
    assert backend.store().installed_tools() == {"argocd", "kind"}


def test_a_rollback_under_way_round_trips_and_is_left_out_otherwise(
        backend: StateBackend, sample_state: State) -> None:
    state = sample_state
    assert "rolling_back" not in state.transactions[0].to_json()  # the schema 1 shape
    state.transactions[0].outcome, state.transactions[0].rolling_back = "running", True
    backend.store().commit(state)
    assert backend.store().load().transactions[0].rolling_back is True


def test_each_commit_bumps_the_serial(backend: StateBackend) -> None:
    store = backend.store()
    state = store.load()
    for expected in (1, 2, 3):
        store.commit(state)
        assert state.serial == expected
        document = backend.document()
        assert document is not None
        assert (document["serial"], document["schema"]) == (expected, STATE_SCHEMA_VERSION)
    assert backend.store().load().serial == 3


def test_lost_update_is_refused(backend: StateBackend, sample_state: State) -> None:
    store = backend.store()
    store.commit(sample_state)
    first, second = store.load(), backend.store().load()
    first.instances.pop("kind.dev")
    store.commit(first)
    second.instances.pop("argocd.main")
    with pytest.raises(RefusedError) as caught:
        backend.store().commit(second)
    stored = "on disk" if backend.name == "local" else "stored"
    assert str(caught.value) == (
        f"state in {backend.where} changed since it was loaded (serial 2 {stored}, 1 loaded); "
        "not overwriting it"
    )
    assert caught.value.hint == "another dtm run committed without the lock; run the command again"
    assert caught.value.exit_code == 3
    assert second.serial == 1
    assert set(store.load().instances) == {"argocd.main"}


def test_a_fresh_state_cannot_overwrite_a_committed_one(backend: StateBackend,
                                                        sample_state: State) -> None:
    backend.store().commit(sample_state)
    with pytest.raises(RefusedError, match=r"\(serial 1 (on disk|stored), 0 loaded\)"):
        backend.store().commit(State())


def test_a_newer_schema_is_refused(backend: StateBackend) -> None:
    newer = STATE_SCHEMA_VERSION + 1
    backend.put_document({"schema": newer, "serial": 9, "instances": {}})
    with pytest.raises(InvalidInputError) as caught:
        backend.store().load()
    assert str(caught.value) == f"state was written by a newer dtm (schema {newer}); upgrade dtm"
    assert caught.value.hint == (
        f"this dtm reads schema {STATE_SCHEMA_VERSION} and older; the state is {backend.where}"
    )
    with pytest.raises(InvalidInputError, match="newer dtm"):
        backend.store().commit(State(serial=9))
    document = backend.document()
    assert document is not None and document["schema"] == newer


def test_an_older_schema_is_migrated_on_load_and_written_back_on_commit(
    backend: StateBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    def v0_to_v1(data: dict[str, Any]) -> dict[str, Any]:
        # A made-up schema 0 that listed tools instead of keying instances by address.
        tools = data.pop("tools")
        data["instances"] = {f"{t['name']}.main": {"tool": t["name"], "instance": "main",
                                                   "version": t["version"]} for t in tools}
        return data

    monkeypatch.setitem(MIGRATIONS, 0, v0_to_v1)
    backend.put_document({"schema": 0, "serial": 4, "tools": [{"name": "argocd", "version": "2.9.3"}]})
    store = backend.store()
    assert store.installed_tools() == {"argocd"}
    state = store.load()
    assert state.schema == STATE_SCHEMA_VERSION
    assert state.serial == 4
    assert state.instances["argocd.main"].version == "2.9.3"
    store.commit(state)
    written = backend.document()
    assert written is not None
    assert (written["schema"], written["serial"]) == (STATE_SCHEMA_VERSION, 5)
    assert "tools" not in written


def test_an_older_schema_without_a_migration(backend: StateBackend,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(MIGRATIONS, 0, raising=False)
    backend.put_document({"schema": 0})
    with pytest.raises(InvalidInputError) as caught:
        backend.store().load()
    assert str(caught.value) == "state schema 0 is too old for this dtm (no migration to 1)"


# -- the lock -----------------------------------------------------------------------------------


def test_a_waiter_sees_the_holder_then_times_out(backend: StateBackend, hold_store_lock: HoldLock) -> None:
    child = hold_store_lock(backend, "dtm install argocd")
    seen: list[LockHolder | None] = []
    started = time.monotonic()
    with pytest.raises(LockTimeoutError) as caught:
        with backend.store().lock(command="dtm list", timeout=0.5, on_wait=seen.append):
            pass  # pragma: no cover
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


def test_the_lock_probe_sees_another_holder_and_records_nothing(backend: StateBackend,
                                                                 hold_store_lock: HoldLock) -> None:
    store = backend.store()
    store.commit(State())  # a store that exists: the probe never creates one
    assert store.lock_taken() is False
    child = hold_store_lock(backend, "dtm install argocd")
    assert store.lock_taken() is True
    seen: list[LockHolder | None] = []
    with pytest.raises(LockTimeoutError):  # the probe left the holder's record as it was
        with store.lock(command="dtm list", timeout=0, on_wait=seen.append):
            pass  # pragma: no cover
    assert [h.pid for h in seen if h] == [child.pid]
    os.kill(child.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10  # PostgreSQL frees the lock once it sees the session gone
    while store.lock_taken():
        assert time.monotonic() < deadline, "the lock outlived its holder"
        time.sleep(0.05)
    with store.lock(command="dtm list", timeout=0):  # the probes took nothing for good
        pass


def test_timeout_zero_fails_at_once(backend: StateBackend, hold_store_lock: HoldLock) -> None:
    hold_store_lock(backend, "dtm upgrade")
    seen: list[LockHolder | None] = []
    started = time.monotonic()
    with pytest.raises(LockTimeoutError, match=r"\(dtm upgrade\)"):
        with backend.store().lock(command="dtm list", timeout=0, on_wait=seen.append):
            pass  # pragma: no cover
    assert time.monotonic() - started < 0.4
    assert len(seen) == 1


def test_a_killed_holder_leaves_no_stale_lock(backend: StateBackend, hold_store_lock: HoldLock) -> None:
    child = hold_store_lock(backend, "dtm install argocd")
    seen: list[LockHolder | None] = []

    def kill_holder(holder: LockHolder | None) -> None:
        seen.append(holder)
        assert holder is not None
        os.kill(holder.pid, signal.SIGKILL)

    started = time.monotonic()
    with backend.store().lock(command="dtm list", timeout=10, on_wait=kill_holder):
        assert [h.pid for h in seen if h] == [child.pid]
    assert time.monotonic() - started < 5  # the lock went with the process, not after a timeout
    # Whatever the killed run left behind names no holder now.
    with backend.store().lock(command="dtm list", timeout=0, on_wait=seen.append):
        pass
    assert len(seen) == 1


def test_a_released_lock_passes_to_the_waiter(backend: StateBackend, hold_store_lock: HoldLock) -> None:
    child = hold_store_lock(backend, "dtm install argocd")
    seen: list[LockHolder | None] = []

    def let_go(holder: LockHolder | None) -> None:
        seen.append(holder)
        child.close_stdin()

    with backend.store().lock(command="dtm list", timeout=10, on_wait=let_go):
        pass
    assert len(seen) == 1
    child.expect("released")


def test_a_second_lock_in_the_same_run_names_the_first(backend: StateBackend) -> None:
    store = backend.store()
    seen: list[LockHolder | None] = []
    with store.lock(command="dtm install argocd", timeout=0):
        with pytest.raises(LockTimeoutError, match=r"\(dtm install argocd\)"):
            with backend.store().lock(command="dtm list", timeout=0, on_wait=seen.append):
                pass  # pragma: no cover
        # The store still works under its lock after the refused attempt.
        state = store.load()
        state.instances["alpha.a"] = InstanceRecord(tool="alpha", instance="a", version="1")
        store.commit(state)
    assert [h.pid if h else None for h in seen] == [os.getpid()]
    with store.lock(command="dtm list", timeout=0, on_wait=seen.append):  # and it was let go
        assert store.load().serial == 1
    assert len(seen) == 1
