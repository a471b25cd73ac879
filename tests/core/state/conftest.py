"""Fixtures for the state tests: a store in a temporary directory and helper child processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dtm_core.state import LocalStateStore

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
