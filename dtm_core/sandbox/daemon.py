"""The sandbox's background process: start every service, record them, serve until SIGTERM, stop them.

``dtm sandbox up`` starts it as ``python -m dtm_core.sandbox`` in a session of its own, with
its output in ``sandbox.log``. It writes ``state.json`` only once every service answers, so
the file's presence (with this pid) is what ``up`` waits for; it removes the file again when
it stops cleanly, so a file naming a dead pid means a crash.
"""

from __future__ import annotations

import os
import secrets
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..emulators.faults import FaultRates
from .layout import STATE_FORMAT, SandboxLayout
from .service import RunningService, SandboxService


def log(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {message}", flush=True)


class Started:
    """One service that started: who contributed it, and its running handle."""

    def __init__(self, plugin: str, service: SandboxService, running: RunningService) -> None:
        self.plugin = plugin
        self.service = service
        self.running = running

    @property
    def name(self) -> str:
        return self.service.name

    def record(self) -> dict[str, Any]:
        """Its entry in ``state.json``: secret values left out (they go to credentials.json)."""
        from ..secrets import Secret

        env = self.running.env
        return {"name": self.name, "plugin": self.plugin, "description": self.service.description,
                "urls": dict(self.running.urls),
                "env": {key: None if isinstance(value, Secret) else str(value) for key, value in env.items()},
                "secret_env": [key for key, value in env.items() if isinstance(value, Secret)]}

    def credentials(self) -> dict[str, str]:
        from ..secrets import Secret

        return {key: value.reveal() for key, value in self.running.env.items() if isinstance(value, Secret)}

    def summary(self) -> Mapping[str, Any]:
        try:
            return dict(self.running.summary())
        except Exception as exc:  # a service's fault shows in its own line of status, nothing more
            return {"error": f"{type(exc).__name__}: {exc}"}


def start_services(layout: SandboxLayout, persist: bool, mirror_dir: Path | None,
                   faults: FaultRates | None = None, fault_seed: int = 0) -> tuple[list[Started], list[str]]:
    """Start the core's services and every plugin's; one that fails is left out with a line why.

    ``faults``: the rates of random faults the core's emulators inject (``--faults``).
    """
    from ..plugins import _one_line, load_plugins
    from .builtin import PLUGIN_NAME, CoreServices

    host = load_plugins(os.environ)
    problems = list(host.warnings)
    host.manager.register(CoreServices(mirror_dir, faults, fault_seed), name=PLUGIN_NAME)
    services, refused = host.sandbox_services(first=PLUGIN_NAME)
    problems += refused
    started: list[Started] = []
    for plugin, service in services:
        workdir = layout.workdir(service.name, persist)
        try:
            running = service.start(workdir, persist)
            if not isinstance(running, RunningService):
                raise TypeError(f"start() returned {running!r}, not a RunningService")
        except Exception as exc:  # one service must not keep the others from running
            problems.append(f"service {service.name} (plugin {plugin}) did not start: {_one_line(exc)}")
            continue
        started.append(Started(plugin, service, running))
        log(f"started {service.name}: {', '.join(running.urls.values())}")
    return started, problems


def write_index(layout: SandboxLayout, started: list[Started]) -> dict[str, str]:
    """Write the registry index pointing at what the services mirror; the environment that uses it."""
    from .index import bundled_index, first_claim, sandbox_index

    index, rewritten = sandbox_index(bundled_index(), first_claim([s.running.mirror for s in started]))
    if not rewritten:
        return {}
    layout.write_json(layout.registry, index)
    log(f"sandbox registry index: {len(rewritten)} artifacts served by the sandbox")
    return {"DTM_REGISTRY": str(layout.registry)}


def serve(layout: SandboxLayout, *, persist: bool, mirror_dir: Path | None, stop: threading.Event,
          faults: FaultRates | None = None, fault_seed: int = 0) -> int:
    """Run the sandbox until ``stop`` is set; the whole life of the background process."""
    from .control import ControlServer

    instance = secrets.token_hex(8)
    started, problems = start_services(layout, persist, mirror_dir, faults, fault_seed)
    control: ControlServer | None = None
    try:
        extra_env = write_index(layout, started)
        token = secrets.token_urlsafe(24)
        control = ControlServer(token, {
            "/health": lambda: {"pid": os.getpid(), "instance": instance},
            "/status": lambda: {"services": {s.name: s.summary() for s in started}},
        })
        credentials: dict[str, str] = {}
        for item in started:
            credentials.update(item.credentials())
        layout.write_json(layout.credentials, credentials)
        layout.write_json(layout.state, {
            "format": STATE_FORMAT, "pid": os.getpid(), "instance": instance,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "persist": persist, "mirror": str(mirror_dir) if mirror_dir else None,
            "faults": None if faults is None else {"rates": asdict(faults), "text": faults.text(),
                                                   "seed": fault_seed},
            "control": {"url": control.url, "token": token},
            "log": str(layout.log), "env": extra_env,
            "services": [item.record() for item in started], "problems": problems,
        })
        for problem in problems:
            log(f"warning: {problem}")
        log(f"ready: {len(started)} services, pid {os.getpid()}")
        stop.wait()
        log("stopping")
    finally:
        for item in reversed(started):
            try:
                item.running.stop()
            except Exception as exc:  # stop the others all the same
                log(f"warning: {item.name} did not stop cleanly: {type(exc).__name__}: {exc}")
        if control is not None:
            control.close()
        recorded = layout.read_state()
        if recorded is not None and recorded.get("instance") == instance:
            layout.state.unlink(missing_ok=True)
            layout.credentials.unlink(missing_ok=True)
        log("stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    import argparse
    import signal

    parser = argparse.ArgumentParser(
        prog="python -m dtm_core.sandbox",
        description="The dtm sandbox's background process (see 'dtm sandbox up').")
    parser.add_argument("--data-dir", type=Path, required=True, help="dtm's data directory")
    parser.add_argument("--persist", action="store_true", help="keep emulator data across down/up")
    parser.add_argument("--mirror", type=Path, help="serve release files from this directory")
    parser.add_argument("--faults", type=FaultRates.parse, help="rates of injected faults (docs/sandbox.md)")
    parser.add_argument("--fault-seed", type=int, default=0, help="seed of the fault draw")
    options = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    layout = SandboxLayout(options.data_dir)
    # Hold no directory of the user's open (an unmount, a removed checkout) for days.
    os.chdir(layout.ensure())
    log(f"starting (pid {os.getpid()}, {sys.executable})")
    return serve(layout, persist=options.persist, mirror_dir=options.mirror, stop=stop, faults=options.faults,
                 fault_seed=options.fault_seed)
