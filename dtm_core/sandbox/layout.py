"""Where the sandbox keeps its files, the state file its process writes, and whether that process lives.

Everything is under ``<data_dir>/sandbox/`` (mode 0700)::

    state.json        pid, start time, services with URLs and environment (no secret values)
    credentials.json  the secret values of that environment (0600, read by ``env`` alone)
    registry.json     the sandbox registry index (release artifacts pointed at the mirror)
    sandbox.log       the background process's output
    run/<service>/    each service's working directory (removed by ``down``)
    persist/<service>/  the same with ``--persist`` (kept by ``down``; ``down --purge`` removes it)

The lock that serialises ``up`` and ``down`` sits beside the directory, since ``down`` removes it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

STATE_FORMAT = 1
#: What the background process is started as; also how a pid is recognised as a sandbox's.
MODULE = "dtm_core.sandbox"


class SandboxLayout:
    """The paths of one sandbox (one per dtm home)."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "sandbox"
        self.lock = data_dir / "sandbox.lock"
        self.state = self.root / "state.json"
        self.credentials = self.root / "credentials.json"
        self.registry = self.root / "registry.json"
        self.log = self.root / "sandbox.log"
        self.run_dir = self.root / "run"
        self.persist_dir = self.root / "persist"

    def workdir(self, service: str, persist: bool) -> Path:
        """The service's own directory, made owner-only (a kubeconfig, saved data go there)."""
        parent = self.persist_dir if persist else self.run_dir
        parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        (parent / service).mkdir(exist_ok=True, mode=0o700)
        return parent / service

    def ensure(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self.root

    def read_state(self) -> dict[str, Any] | None:
        """The recorded sandbox, or None when none is (an unreadable file counts as none)."""
        try:
            data = json.loads(self.state.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and isinstance(data.get("pid"), int) else None

    def read_credentials(self) -> dict[str, str]:
        try:
            data = json.loads(self.credentials.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def write_json(self, path: Path, data: Mapping[str, Any]) -> None:
        """Write atomically and owner-only: a reader sees all of the file or none of it."""
        from ..registry.cache import write_atomic

        write_atomic(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))

    def remove(self, *, purge: bool) -> None:
        """Remove the sandbox's files; what ``--persist`` saved stays unless ``purge``."""
        if not self.root.exists():
            return
        for child in self.root.iterdir():
            if child == self.persist_dir and not purge:
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.root.rmdir()  # only when nothing persisted is left in it

    def log_tail(self, lines: int = 5) -> list[str]:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        return [line for line in text.splitlines() if line.strip()][-lines:]


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs; reaps it first if it is this process's own exited child.

    ``up`` run in-process (tests, a library user) leaves the sandbox a child of this process;
    once stopped it would stay a zombie, which signal 0 still reaches.
    """
    if pid <= 0:
        return False
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive, and certainly not our sandbox
    return _proc_state(pid) != "Z"


def _proc_state(pid: int) -> str | None:
    """The process state letter from /proc (Linux); None where there is no /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[0]


def is_sandbox_process(pid: int) -> bool | None:
    """Whether ``pid`` is a sandbox's background process: True, False, or None when unknowable.

    Guards against a recycled pid: after a crash and a reboot, the pid in ``state.json`` may
    belong to anything, which ``down`` must not signal.
    """
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False if Path("/proc/self").exists() else None
    except OSError:
        return None
    return MODULE.encode() in command.split(b"\0")
