"""Load: eight dtm processes installing, removing and applying against one state, for a while.

Each worker runs a seeded random mix of ``install``, ``remove`` and ``apply -f`` on its own
instances and on two shared ones, one real ``dtm`` process at a time, so eight run at once.
Most runs may queue for the lock as long as they need; some pass a short ``--lock-timeout``
and may exit 4. Afterwards the journal, the state and the test plugin's world must agree with
what the successful runs did, replayed in the order their transactions were journaled.

``DTM_LOAD_SECONDS`` (default 20) sets how long workers keep starting runs; ``DTM_LOAD_SEED``
picks another random mix. See docs/state.md, "Concurrency".
"""

from __future__ import annotations

import json
import os
import random
import re
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from postgres import StateBackend  # type: ignore[import-not-found,unused-ignore]

LOAD_SECONDS = float(os.environ.get("DTM_LOAD_SECONDS", "20"))
SEED = os.environ.get("DTM_LOAD_SEED", "20261124")
WORKERS = 8
#: Long enough that a run queued behind all the others never gives up: a timeout is a failure.
PATIENT_LOCK_TIMEOUT = 300.0
#: Runs that would rather fail than queue: with eight runs contending, most of them exit 4.
SHORT_LOCK_TIMEOUTS = (0.0, 0.05)
#: A run still going this long after workers stopped starting new ones is deadlocked: killed.
HANG_MARGIN = PATIENT_LOCK_TIMEOUT + 60

#: The tools the workers use (the test plugin's, without dependencies) at their latest version.
VERSIONS = {"alpha": "2.0", "delta": "1.0", "epsilon": "2.0"}
SHARED = ("alpha.shared", "delta.shared")
#: How a run names the lock's holder, as LockHolder.describe() writes it.
HOLDER = re.compile(r"pid (\d+) on (\S+) by (\S+) \((.*)\) since (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")
WAIT_NOTICE = "waiting for the state lock held by "
TIMEOUT_ERROR = "error: another dtm run holds the state lock: "


def addresses(worker: int) -> list[str]:
    """The instances ``worker`` works on: one of each tool of its own, and the shared ones."""
    return [f"{tool}.w{worker}" for tool in VERSIONS] + list(SHARED)


@dataclass
class Run:
    """One dtm process: what it was asked to do, and how it ended."""

    worker: int
    kind: str  # install | remove | apply
    argv: list[str]
    short: bool
    address: str = ""
    toolchain: dict[str, int] = field(default_factory=dict)  # apply: address -> size
    pid: int = 0
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    hung: bool = False

    @property
    def transaction(self) -> dict[str, Any] | None:
        if self.returncode != 0:
            return None
        tx: dict[str, Any] | None = json.loads(self.stdout)["transaction"]
        return tx

    @property
    def tx_id(self) -> int:
        tx = self.transaction
        assert tx is not None, self.describe()
        return int(tx["id"])

    def expected_steps(self, model: Mapping[str, int]) -> set[tuple[str, str]]:
        """The steps this run must have journaled if it planned against ``model``."""
        if self.kind == "install":
            return {("install", self.address)}
        if self.kind == "remove":
            return {("remove", self.address)}
        return ({("install", a) for a in self.toolchain if a not in model}
                | {("update", a) for a in self.toolchain if a in model and model[a] != self.toolchain[a]}
                | {("remove", a) for a in model if a not in self.toolchain})

    def after(self, model: Mapping[str, int]) -> dict[str, int]:
        """The instances (address -> size) once this run's transaction is done."""
        if self.kind == "install":
            return dict(model, **{self.address: 1})
        if self.kind == "remove":
            return {a: s for a, s in model.items() if a != self.address}
        return dict(self.toolchain)

    def describe(self) -> str:
        return (f"worker {self.worker} pid {self.pid} {' '.join(self.argv[1:])} -> "
                f"{'hung' if self.hung else self.returncode}\n{self.stderr}")


def toolchain_text(instances: Mapping[str, int]) -> str:
    items = []
    for address, size in sorted(instances.items()):
        tool, _, name = address.partition(".")
        items.append(f"  - tool: {tool}\n    name: {name}\n    options:\n      size: {size}\n")
    return "version: 1\ntools:\n" + "".join(items)


def plan_run(worker: int, rng: random.Random, dtm: str, workdir: Path) -> Run:
    kind = rng.choices(["install", "remove", "apply"], weights=[4, 3, 2])[0]
    short = rng.random() < 0.2
    argv = [dtm, kind, "-y", "-o", "json"]
    if kind == "apply":
        chosen = rng.sample(addresses(worker), rng.randint(1, 4))
        toolchain = {address: rng.randint(1, 3) for address in chosen}
        path = workdir / f"w{worker}" / "toolchain.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(toolchain_text(toolchain))
        return Run(worker, kind, [*argv, "-f", str(path)], short, toolchain=toolchain)
    address = rng.choice(addresses(worker))
    tool, _, name = address.partition(".")
    args = [tool, "--instance", name] if kind == "install" else [address]
    return Run(worker, kind, [*argv, *args], short, address=address)


def work(worker: int, env: Mapping[str, str], workdir: Path, stop_at: float) -> list[Run]:
    """Start one run after another until ``stop_at``; kill a run still going long after it."""
    rng = random.Random(f"{SEED}-{worker}")
    dtm = str(Path(sys.executable).with_name("dtm"))
    runs = []
    while time.monotonic() < stop_at:
        run = plan_run(worker, rng, dtm, workdir)
        timeout = rng.choice(SHORT_LOCK_TIMEOUTS) if run.short else PATIENT_LOCK_TIMEOUT
        proc = subprocess.Popen(run.argv, env=dict(env, DTM_LOCK_TIMEOUT=str(timeout)),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        run.pid = proc.pid
        try:
            run.stdout, run.stderr = proc.communicate(timeout=stop_at + HANG_MARGIN - time.monotonic())
        except subprocess.TimeoutExpired:
            proc.kill()
            run.stdout, run.stderr = proc.communicate()
            run.hung = True
        run.returncode = proc.returncode
        runs.append(run)
        if run.hung:
            break
    return runs


def holders_named(run: Run) -> list[str]:
    """Every holder description in the run's messages: lock wait notices and timeout errors."""
    found = []
    for line in run.stderr.splitlines():
        for prefix in (WAIT_NOTICE, TIMEOUT_ERROR):
            if prefix in line:
                found.append(line.split(prefix, 1)[1])
    return found


def check_outcomes(runs: list[Run]) -> None:
    """Only the endings the load allows: done, a contested remove, or a short wait given up."""
    for run in runs:
        assert not run.hung, f"deadlock: killed after {HANG_MARGIN} s past the bound: {run.describe()}"
        allowed = {0}
        if run.kind == "remove":
            allowed.add(2)
            if run.returncode == 2:
                assert f"error: {run.address} is not installed" in run.stderr, run.describe()
        if run.short:
            allowed.add(4)
        assert run.returncode in allowed, run.describe()


def check_holders(runs: list[Run]) -> None:
    """Every waiting or timed-out run named the holder: another of these runs, doing its command."""
    by_pid = {run.pid: run for run in runs}
    host = socket.gethostname()
    for run in runs:
        named = holders_named(run)
        if run.returncode == 4:
            assert any(line.startswith(TIMEOUT_ERROR) for line in run.stderr.splitlines()), run.describe()
        for description in named:
            match = HOLDER.fullmatch(description)
            assert match, f"the holder is not named: {description!r}\n{run.describe()}"
            pid, holder_host, command = int(match[1]), match[2], match[4]
            holder = by_pid.get(pid)
            assert holder is not None and holder is not run, f"{pid} is not another run: {run.describe()}"
            assert holder_host == host
            assert command.startswith(f"dtm {holder.kind}"), (command, holder.describe())


def replay(committed: list[Run]) -> dict[str, int]:
    """Replay the runs' transactions in journal order; each must have planned on its predecessor's
    state (a lost update or a plan on stale state shows as a step too many or missing)."""
    model: dict[str, int] = {}
    for run in sorted(committed, key=lambda r: r.tx_id):
        tx = run.transaction
        assert tx is not None
        assert tx["outcome"] == "ok" and {s["status"] for s in tx["steps"]} == {"done"}, run.describe()
        steps = {(s["action"], s["address"]) for s in tx["steps"]}
        assert steps == run.expected_steps(model), (tx["id"], sorted(model.items()), run.describe())
        model = run.after(model)
    return model


def dtm_json(env: Mapping[str, str], *args: str) -> Any:
    done = subprocess.run([str(Path(sys.executable).with_name("dtm")), *args, "--output=json"],
                          env=dict(env), capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_eight_dtm_processes_at_once_lose_no_update_and_name_every_holder(
    shared_state: StateBackend, dtm_env: dict[str, str], tmp_path: Path
) -> None:
    env = dict(dtm_env, **shared_state.dtm_env())
    stop_at = time.monotonic() + LOAD_SECONDS
    with ThreadPoolExecutor(WORKERS) as pool:
        runs = [run for worker_runs in pool.map(lambda w: work(w, env, tmp_path, stop_at),
                                                range(WORKERS)) for run in worker_runs]

    # Shown on failure, or with -s: how much load the bound made.
    print(f"{len(runs)} runs ({Counter(run.kind for run in runs)}), exit codes "
          f"{Counter(run.returncode for run in runs)}, {sum(1 for r in runs if holders_named(r))} "
          f"waited or gave up, seed {SEED}, {LOAD_SECONDS:g} s")
    check_outcomes(runs)
    check_holders(runs)
    # The runs did contend, and some gave up (else this proved little about either).
    assert sum(1 for run in runs if holders_named(run)) >= WORKERS, [r.describe() for r in runs]
    assert any(run.returncode == 4 for run in runs)

    committed = [run for run in runs if run.transaction is not None]
    reported = Counter(run.tx_id for run in committed)
    history = dtm_json(env, "history")
    ids = [tx["id"] for tx in history]
    assert ids == list(range(1, len(ids) + 1))  # unique and in order
    assert reported == Counter(ids), "every successful run's transaction is journaled exactly once"
    by_id = {run.tx_id: run for run in committed}
    assert all(tx["command"] == by_id[tx["id"]].kind and tx["outcome"] == "ok" for tx in history)
    started = [tx["started_at"] for tx in history]
    assert started == sorted(started)

    model = replay(committed)
    listed = {row["address"]: row for row in dtm_json(env, "list")}
    assert set(listed) == set(model)
    state = shared_state.store().load()
    assert {a: (r.version, r.options["size"]) for a, r in state.instances.items()} == {
        a: (VERSIONS[a.partition(".")[0]], size) for a, size in model.items()}
    world = json.loads(Path(dtm_env["DTM_TEST_WORLD"]).read_text())
    assert world["resources"] == {a: {"size": size, "tier": "free", "version": VERSIONS[a.partition(".")[0]]}
                                  for a, size in model.items()}
    # Each instance was created, changed and deleted exactly as often as the journal says.
    verbs = {"install": "create", "update": "update", "remove": "delete"}
    journaled = Counter((verbs[step["action"]], step["address"]) for run in committed
                        for step in (run.transaction or {})["steps"])
    called = Counter((c["verb"], c["address"]) for c in world["calls"] if c["verb"] in verbs.values())
    assert called == journaled

    recover = subprocess.run([str(Path(sys.executable).with_name("dtm")), "recover", "-y"], env=env,
                             capture_output=True, text=True, timeout=120, check=False)
    assert (recover.returncode, recover.stderr) == (0, "nothing to recover\n")
    assert dtm_json(env, "state", "list")["interrupted"] is None
    if shared_state.name == "local":
        leftovers = sorted(p.name for p in Path(shared_state.location).iterdir()
                           if p.name not in {"state.json", "state.json.bak", "lock"})
        assert leftovers == []  # no temporary file, and no holder record once nobody holds it
