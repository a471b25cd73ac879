"""The state under crashes and contention, for every backend: killed commits, many locked
writers, and eight dtm runs installing and removing tools at once.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from postgres import OPEN_STORE, StateBackend  # type: ignore[import-not-found,unused-ignore]

from dtm_core.state import LocalStateStore, State

#: Commits forever; every document is fully determined by its serial, so a mix of two
#: commits (or a torn write) cannot pass for a committed version.
COMMIT_FOREVER = OPEN_STORE + """
from dtm_core.state import InstanceRecord
store = open_store(sys.argv[1], sys.argv[2])
ready = False
while True:
    state = store.load()
    n = str(state.serial + 1)
    record = InstanceRecord("counter", "main", n, options={"blob": n * 20000})
    state.instances = {record.address: record}
    store.commit(state)
    if not ready:  # once committing is under way: connecting can take longer than a commit
        print("ready", flush=True)
        ready = True
"""

#: Waits for a line on stdin, then adds 20 records under the lock, one commit each.
LOCKED_WORKER = OPEN_STORE + """
from dtm_core.state import InstanceRecord
store, worker = open_store(sys.argv[1], sys.argv[2]), sys.argv[3]
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
    backend: StateBackend, spawn: Callable[..., Any]
) -> None:
    store_dir = Path(backend.location)
    local = backend.name == "local"
    rng = random.Random(20261124)
    serials: list[int] = []
    torn = 0  # kills that landed mid-commit, leaving a temporary file
    seen: set[Path] = set()
    for _ in range(30 if local else 10):
        child = spawn(COMMIT_FOREVER, *backend.args)
        child.expect("ready")
        time.sleep(rng.uniform(0.0, 0.04))
        child.kill()
        state = backend.store().load()
        assert_committed_version(state)
        if not local:
            serials.append(state.serial)
            continue
        if state.serial > 1:
            backup = json.loads((store_dir / "state.json.bak").read_text())
            assert_committed_version(State.from_json(backup))
        serials.append(state.serial)
        leftovers = set(store_dir.glob(".state.json.*.tmp"))
        torn += len(leftovers - seen)
        seen |= leftovers
    assert serials == sorted(serials)
    assert serials[-1] > len(serials)  # the children did commit, and were killed mid-loop
    if local:
        assert torn > 0  # else the test proved nothing about atomicity


def test_locked_writers_lose_no_update(backend: StateBackend, spawn: Callable[..., Any]) -> None:
    workers = [spawn(LOCKED_WORKER, *backend.args, str(w)) for w in range(8)]
    for worker in workers:
        worker.expect("ready")
    for worker in workers:
        worker.send("go\n")
    for worker in workers:
        worker.expect("done")
    state = backend.store().load()
    assert len(state.instances) == 160
    assert state.serial == 160
    if backend.name == "local":
        assert not list(Path(backend.location).glob(".state.json.*.tmp"))


#: Tools of the test plugin without dependencies, so that no two runs share an instance.
TOOLS = ("alpha", "delta", "epsilon")


def operations(worker: int) -> list[tuple[str, str]]:
    """What run ``worker`` does, in order, as (action, address)."""
    tool = TOOLS[worker % len(TOOLS)]
    return [("install", f"{tool}.w{worker}a"), ("install", f"{tool}.w{worker}b"),
            ("remove", f"{tool}.w{worker}a")]


def test_eight_dtm_runs_at_once_record_every_operation_exactly_once(
    backend: StateBackend, dtm_env: dict[str, str]
) -> None:
    env = dict(dtm_env, **backend.dtm_env())

    def run(worker: int) -> list[subprocess.CompletedProcess[str]]:
        done = []
        for action, address in operations(worker):
            tool, _, instance = address.partition(".")
            args = [tool, "--instance", instance] if action == "install" else [address]
            done.append(subprocess.run([sys.executable, "-m", "dtm_core", action, "-y", *args],
                                       env=env, capture_output=True, text=True, timeout=120,
                                       check=False))
        return done

    with ThreadPoolExecutor(8) as pool:
        runs = [run for worker_runs in pool.map(run, range(8)) for run in worker_runs]
    assert [r.returncode for r in runs] == [0] * 24, "\n".join(r.stderr for r in runs if r.returncode)
    # The runs did contend (else this proved nothing), and waiters were told who held the lock.
    assert any("waiting for the state lock held by pid" in r.stderr for r in runs)

    store = backend.store() if backend.name != "local" else LocalStateStore(
        Path(dtm_env["DTM_HOME"]) / "data" / "state")
    state = store.load()
    journal = state.transactions
    assert sorted(tx.id for tx in journal) == list(range(1, 25))
    assert {tx.outcome for tx in journal} == {"ok"}
    recorded = Counter((step.action, step.address, step.status) for tx in journal for step in tx.steps)
    expected = Counter((action, address, "done") for w in range(8) for action, address in operations(w))
    assert recorded == expected
    for worker in range(8):  # each run's operations are journaled in the order it made them
        ids = [tx.id for op in operations(worker) for tx in journal
               if [(s.action, s.address) for s in tx.steps] == [op]]
        assert ids == sorted(ids)
    assert set(state.instances) == {operations(w)[1][1] for w in range(8)}
    world = json.loads(Path(dtm_env["DTM_TEST_WORLD"]).read_text())
    calls = Counter((call["verb"], call["address"]) for call in world["calls"]
                    if call["verb"] in {"create", "delete"})
    assert calls == Counter(("create" if action == "install" else "delete", address)
                            for w in range(8) for action, address in operations(w))
    local_file = Path(dtm_env["DTM_HOME"]) / "data" / "state" / "state.json"
    assert local_file.exists() is (backend.name == "local")  # PostgreSQL's runs kept nothing here
