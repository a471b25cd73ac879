"""Fixtures for the state tests: stores of each backend, and helper child processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from postgres import (  # noqa: F401 - fixtures
    OPEN_STORE,
    StateBackend,
    postgres_server,
    postgres_url,
    skipped_because,
)

from dtm_core.state import InstanceRecord, LocalStateStore, State, Step, Transaction

#: Holds the lock at argv[1] as command argv[2] until its stdin closes (or it is killed).
HOLD_LOCK = """
import sys
from pathlib import Path
from dtm_core.state.lock import StateLock
lock = StateLock(Path(sys.argv[1])).acquire(command=sys.argv[2], timeout=10)
print("locked", flush=True)
sys.stdin.read()
lock.release()
print("released", flush=True)
"""


#: Holds the lock of the store at argv[1] (workspace argv[2]) as command argv[3] until its
#: stdin closes (or it is killed).
HOLD_STORE_LOCK = OPEN_STORE + """
store = open_store(sys.argv[1], sys.argv[2])
with store.lock(command=sys.argv[3], timeout=10):
    print("locked", flush=True)
    sys.stdin.read()
print("released", flush=True)
"""


@pytest.fixture(params=["local", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> StateBackend:
    """Each state backend in turn; the PostgreSQL one on a fresh database."""
    if request.param == "local":
        return StateBackend("local", str(tmp_path / "state"))
    return StateBackend("postgresql", request.getfixturevalue("postgres_url"))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    # Skips are easy to miss in a long run: say once, at the end, what was not tested.
    for reason in dict.fromkeys(skipped_because):
        terminalreporter.write_line(f"notice: {reason}", yellow=True, bold=True)


class Child:
    """A ``python -c`` child process that reports progress one line at a time on stdout."""

    def __init__(self, script: str, args: tuple[str | Path, ...]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", script, *map(str, args)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def expect(self, expected: str) -> None:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        assert line == expected, f"child said {line!r}, exit code {self.proc.poll()}"

    def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text)
        self.proc.stdin.flush()

    def close_stdin(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def finish(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None and not stream.closed:
                stream.close()


Spawn = Callable[..., Child]


@pytest.fixture
def sample_state() -> State:
    """Two instances, one a dependency of the other, and the transaction that installed them."""
    argocd = InstanceRecord(
        tool="argocd", instance="main", version="2.9.3",
        options={"namespace": "argocd", "token": "env:ARGO_TOKEN"},
        outputs={"url": "https://argocd.example"}, requires=["kind.dev"], held=True,
    )
    kind = InstanceRecord(tool="kind", instance="dev", version="0.20.0", reason="auto")
    tx = Transaction(
        id=1, command="dtm install argocd",
        steps=[
            Step(action="install", address="kind.dev", to_version="0.20.0", status="done",
                 after=kind.to_json()),
            Step(action="install", address="argocd.main", to_version="2.9.3", status="done",
                 after=argocd.to_json()),
        ],
        outcome="ok", finished_at="2026-11-24T15:00:05Z",
    )
    return State(instances={argocd.address: argocd, kind.address: kind}, transactions=[tx])


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def store(store_dir: Path) -> LocalStateStore:
    return LocalStateStore(store_dir)


@pytest.fixture
def umask_zero() -> Iterator[None]:
    """Run the test with umask 0, the worst case for file modes."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """Start ``python -c <script> <args…>``; every child still running is killed at teardown."""
    children: list[Child] = []

    def start(script: str, *args: str | Path) -> Child:
        children.append(Child(script, args))
        return children[-1]

    yield start
    for child in children:
        child.finish()


@pytest.fixture
def hold_lock(spawn: Spawn) -> Callable[[Path, str], Child]:
    """Start a child that holds the lock at ``path`` as ``command``; returns once it holds it."""

    def start(path: Path, command: str) -> Child:
        child = spawn(HOLD_LOCK, path, command)
        child.expect("locked")
        return child

    return start


@pytest.fixture
def hold_store_lock(spawn: Spawn) -> Callable[[StateBackend, str], Child]:
    """Start a child that holds ``backend``'s store lock as ``command``; returns once it does."""

    def start(backend: StateBackend, command: str) -> Child:
        child = spawn(HOLD_STORE_LOCK, *backend.args, command)
        child.expect("locked")
        return child

    return start
