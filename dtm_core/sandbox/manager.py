"""``up``, ``down``, ``status`` and ``env`` of the sandbox, as the CLI calls them: no printing, no click.

``up`` and ``down`` hold a file lock beside the sandbox directory, so two of them never race;
``status`` and ``env`` only read. A recorded sandbox is in one of three conditions:

* ``running`` — its process answers the control endpoint with the recorded pid and instance;
* ``stale`` — its process is gone (a crash, a reboot, a kill -9): its files are cleaned up;
* ``unresponsive`` — its pid lives but does not answer: a hung sandbox is stopped, a recycled
  pid (another program's) is left alone.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DtmError, LockTimeoutError, OperationError
from ..paths import DtmPaths
from ..secrets import MASK
from .control import ask
from .layout import MODULE, SandboxLayout, is_sandbox_process, process_alive

if TYPE_CHECKING:
    from ..emulators.faults import FaultRates

Progress = Callable[[str], None]
START_HINT = "start one with 'dtm sandbox up'"


class SandboxManager:
    """The sandbox of one dtm home, started with (and for) the environment ``environ``."""

    def __init__(self, paths: DtmPaths, environ: Mapping[str, str]) -> None:
        self.paths = paths
        self.layout = SandboxLayout(paths.data_dir)
        self.environ = dict(environ)

    # -- looking -------------------------------------------------------------------------------

    def inspect(self) -> tuple[dict[str, Any] | None, str]:
        """The recorded sandbox and its condition: ``none``, ``running``, ``stale`` or ``unresponsive``."""
        state = self.layout.read_state()
        if state is None:
            return None, "none"
        pid = int(state["pid"])
        if not process_alive(pid):
            return state, "stale"
        if self._health(state, timeout=2.0):
            return state, "running"
        # A pid that lives yet is no sandbox was recycled after a crash: the record is stale.
        return state, "stale" if is_sandbox_process(pid) is False else "unresponsive"

    @staticmethod
    def _health(state: Mapping[str, Any], timeout: float) -> bool:
        control = state.get("control") or {}
        try:
            answer = ask(str(control.get("url")), str(control.get("token")), "/health", timeout)
        except (OSError, ValueError):
            return False
        return answer.get("pid") == state["pid"] and answer.get("instance") == state.get("instance")

    def status(self) -> dict[str, Any]:
        """What runs where and what it holds, with credentials masked (``status -o json``)."""
        state, condition = self.inspect()
        if state is None:
            return {"running": False, "condition": "stopped", "directory": str(self.layout.root),
                    "services": [], "problems": []}
        holds: dict[str, Any] = {}
        if condition == "running":
            control = state["control"]
            try:
                holds = ask(control["url"], control["token"], "/status", timeout=10.0).get("services") or {}
            except (OSError, ValueError) as exc:
                holds = {name: {"error": f"no answer: {exc}"} for name in _names(state)}
        services = []
        for service in state.get("services") or []:
            secret = set(service.get("secret_env") or [])
            env = service.get("env") or {}
            services.append({
                "name": service["name"], "plugin": service.get("plugin"),
                "description": service.get("description", ""), "urls": service.get("urls") or {},
                "env": {key: MASK if key in secret else value for key, value in env.items()},
                "holds": holds.get(service["name"], {}),
            })
        return {"running": condition == "running", "condition": condition, "pid": state["pid"],
                "started_at": state.get("started_at"), "persist": bool(state.get("persist")),
                "mirror": state.get("mirror"), "faults": state.get("faults"),
                "directory": str(self.layout.root), "log": state.get("log"),
                "env": dict(state.get("env") or {}), "services": services,
                "problems": list(state.get("problems") or [])}

    def env(self) -> dict[str, str]:
        """The variables that point clients at the sandbox, credentials included (``env`` prints them)."""
        state, condition = self.inspect()
        if state is None:
            raise DtmError("no sandbox is running", hint=START_HINT)
        if condition != "running":
            raise DtmError(f"the sandbox recorded as pid {state['pid']} is not running ({condition})",
                           hint=f"{START_HINT} (it cleans up first)")
        credentials = self.layout.read_credentials()
        found: dict[str, str] = {}
        for service in state.get("services") or []:
            secret = set(service.get("secret_env") or [])
            for key, value in (service.get("env") or {}).items():
                found[key] = credentials.get(key, "") if key in secret else str(value)
        found.update(state.get("env") or {})
        return found

    # -- changing ------------------------------------------------------------------------------

    def up(self, *, persist: bool = False, mirror: Path | None = None, timeout: float = 30.0,
           progress: Progress = lambda message: None, faults: FaultRates | None = None,
           fault_seed: int = 0) -> tuple[dict[str, Any], bool]:
        """Start the sandbox unless one runs; returns its status and whether this call started it.

        ``faults``: its emulators inject random faults at these rates, drawn from ``fault_seed``.
        """
        with self._locked(timeout):
            state, condition = self.inspect()
            if state is not None and condition == "running":
                return self.status(), False
            if state is not None and condition == "unresponsive":
                pid = int(state["pid"])
                if is_sandbox_process(pid) is None:
                    raise OperationError(f"the sandbox (pid {pid}) does not answer",
                                         hint=f"stop it (kill {pid}), then run 'dtm sandbox down'")
                progress(f"the sandbox (pid {pid}) does not answer; stopping it")
                terminate(pid, timeout)
            elif state is not None:
                progress(f"cleaning up after a sandbox that stopped without 'dtm sandbox down' "
                         f"(pid {state['pid']})")
            # Whatever is left (a stale record, a start that failed) goes; persisted data stays.
            self.layout.remove(purge=False)
            pid = self._spawn(persist, mirror, faults, fault_seed)
            progress(f"starting the sandbox (pid {pid}; log: {self.layout.log})")
            try:
                self._wait_ready(pid, timeout, progress)
            except BaseException:
                # Failed, timed out or interrupted: leave nothing half-started behind.
                terminate(pid, 5.0)
                raise
            return self.status(), True

    def down(self, *, purge: bool = False, timeout: float = 10.0,
             progress: Progress = lambda message: None) -> int | None:
        """Stop the sandbox and remove its files; returns the pid stopped, None when none ran."""
        with self._locked(timeout):
            state, condition = self.inspect()
            stopped = None
            if state is not None and condition in ("running", "unresponsive"):
                pid = int(state["pid"])
                if condition == "running" or is_sandbox_process(pid):
                    progress(f"stopping the sandbox (pid {pid})")
                    if not terminate(pid, timeout):
                        progress(f"it did not stop within {timeout:g} s; killed it")
                    stopped = pid
            elif state is not None:
                progress(f"the sandbox (pid {state['pid']}) had already stopped; removing its files")
            self.layout.remove(purge=purge)
            return stopped

    def _locked(self, timeout: float) -> Any:
        from filelock import FileLock, Timeout

        self.paths.ensure(self.paths.data_dir)
        # Owner-only like the state lock: another user must not be able to hold up our sandbox.
        lock = FileLock(str(self.layout.lock), timeout=timeout + 5, mode=0o600)

        class Held:
            def __enter__(self) -> None:
                try:
                    lock.acquire()
                except Timeout as exc:
                    raise LockTimeoutError("another 'dtm sandbox up' or 'down' is running",
                                           hint="wait for it, then try again") from exc

            def __exit__(self, *exc: object) -> None:
                lock.release()

        return Held()

    def _spawn(self, persist: bool, mirror: Path | None, faults: FaultRates | None, fault_seed: int) -> int:
        """Start the background process detached: a session of its own, output to the log."""
        if not hasattr(os, "posix_spawn"):
            raise OperationError("the sandbox needs a POSIX system (Linux, macOS)",
                                 hint="run dtm inside WSL or a container")
        self.layout.ensure()
        # -P: not the current directory on sys.path, where a plugin's source folder would
        # shadow the installed plugin (a checkout of dtm, say).
        args = [sys.executable, "-P", "-m", MODULE, "--data-dir", str(self.paths.data_dir)]
        if persist:
            args.append("--persist")
        if mirror is not None:
            args += ["--mirror", str(mirror.resolve())]
        if faults is not None:
            args += ["--faults", faults.text(), "--fault-seed", str(fault_seed)]
        log = os.open(self.layout.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        stdin = os.open(os.devnull, os.O_RDONLY)
        try:
            # posix_spawn, not Popen: no Popen object is left to warn that its child outlives it.
            actions = [(os.POSIX_SPAWN_DUP2, stdin, 0), (os.POSIX_SPAWN_DUP2, log, 1),
                       (os.POSIX_SPAWN_DUP2, log, 2)]
            return os.posix_spawn(sys.executable, args, self.environ, setsid=True, file_actions=actions)
        finally:
            os.close(log)
            os.close(stdin)

    def _wait_ready(self, pid: int, timeout: float, progress: Progress) -> None:
        deadline = time.monotonic() + timeout
        said = time.monotonic()
        while True:
            state = self.layout.read_state()
            if state is not None and state["pid"] == pid and self._health(state, timeout=2.0):
                return
            if not process_alive(pid):
                tail = self.layout.log_tail(1)
                why = f": {tail[-1]}" if tail else ""
                raise OperationError(f"the sandbox stopped while starting{why}",
                                     hint=f"see its log: {self.layout.log}")
            if time.monotonic() > deadline:
                raise OperationError(f"the sandbox was not ready within {timeout:g} s",
                                     hint=f"see its log ({self.layout.log}), or raise --timeout")
            if time.monotonic() - said > 5:
                said = time.monotonic()
                progress("still starting …")
            time.sleep(0.05)


def terminate(pid: int, timeout: float) -> bool:
    """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL; True when it stopped on its own."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    if _wait_gone(pid, timeout):
        return True
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    _wait_gone(pid, 5.0)
    return False


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while process_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _names(state: Mapping[str, Any]) -> list[str]:
    return [str(service["name"]) for service in state.get("services") or []]
