"""The state under crashes and contention: killed commits and many locked writers."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dtm_core.state import LocalStateStore, State

#: Commits forever; every document is fully determined by its serial, so a mix of two
#: commits (or a torn write) cannot pass for a committed version.
COMMIT_FOREVER = """
import sys
from pathlib import Path
from dtm_core.state import InstanceRecord, LocalStateStore
store = LocalStateStore(Path(sys.argv[1]))
print("ready", flush=True)
while True:
    state = store.load()
    n = str(state.serial + 1)
    record = InstanceRecord("counter", "main", n, options={"blob": n * 20000})
    state.instances = {record.address: record}
    store.commit(state)
"""

#: Waits for a line on stdin, then adds 20 records under the lock, one commit each.
LOCKED_WORKER = """
import sys
from pathlib import Path
from dtm_core.state import InstanceRecord, LocalStateStore
store, worker = LocalStateStore(Path(sys.argv[1])), sys.argv[2]
print("ready", flush=True)
sys.stdin.readline()
for i in range(20):
    with store.lock(command=f"worker {worker}", timeout=60):
        state = store.load()
        record = InstanceRecord("tool", f"w{worker}-{i}", "1.0")
        state.instances[record.address] = record
        store.commit(state)
print("done", flush=True)
"""


def assert_committed_version(state: State) -> None:
    if state.serial == 0:
        assert state.instances == {}
        return
    n = str(state.serial)
    record = state.instances["counter.main"]
    assert (record.version, record.options["blob"]) == (n, n * 20000)


def test_a_commit_killed_at_any_moment_leaves_a_committed_version(
    store_dir: Path, spawn: Callable[..., Any]
) -> None:
    rng = random.Random(20261124)
    serials: list[int] = []
    torn = 0  # kills that landed mid-commit, leaving a temporary file
    seen: set[Path] = set()
    for _ in range(30):
        child = spawn(COMMIT_FOREVER, store_dir)
        child.expect("ready")
        time.sleep(rng.uniform(0.0, 0.04))
        child.kill()
        state = LocalStateStore(store_dir).load()
        assert_committed_version(state)
        if state.serial > 1:
            backup = json.loads((store_dir / "state.json.bak").read_text())
            assert_committed_version(State.from_json(backup))
        serials.append(state.serial)
        leftovers = set(store_dir.glob(".state.json.*.tmp"))
        torn += len(leftovers - seen)
        seen |= leftovers
    assert serials == sorted(serials)
    assert serials[-1] > 30  # the children did commit, and were killed mid-loop
    assert torn > 0  # else the test proved nothing about atomicity


def test_locked_writers_lose_no_update(store_dir: Path, spawn: Callable[..., Any]) -> None:
    workers = [spawn(LOCKED_WORKER, store_dir, str(w)) for w in range(8)]
    for worker in workers:
        worker.expect("ready")
    for worker in workers:
        worker.send("go\n")
    for worker in workers:
        worker.expect("done")
    state = LocalStateStore(store_dir).load()
    assert len(state.instances) == 160
    assert state.serial == 160
    assert not list(store_dir.glob(".state.json.*.tmp"))
