"""A test plugin for the core's tests: tools whose resources live in a JSON "world" file.

Each tool records every call it receives and can be told, through the world file, to fail a
given operation, to be slow, or to drift; the world file is shared by in-process and
subprocess runs (``DTM_TEST_WORLD``). Loaded with ``DTM_PLUGINS=testplugin``.

Crash tests use two more knobs in ``faults``: ``pace`` (seconds every call sleeps, so a run
lasts long enough to be killed at a random moment) and ``stall`` (``{"call": N, "when":
"before" | "after"}``: the Nth call recorded in the world stops for good, before or after its
effect, and says so in ``stalled`` so a test knows where its kill lands). A create that finds
its resource already there without being told it is resuming an interrupted one (the
``resuming`` field of its call) is listed in ``duplicates``: on a real system it would have
made a second resource.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dtm_core import (
    GONE,
    CommitRequest,
    CommitResult,
    Live,
    OperationError,
    Option,
    OutputSpec,
    SourceControl,
    ToolKind,
    hookimpl,
)
from dtm_core.secrets import Secret, SecretRef

TOOLS = ("alpha", "beta", "gamma", "delta", "epsilon")


def world_path() -> Path:
    return Path(os.environ["DTM_TEST_WORLD"])


@contextmanager
def world() -> Iterator[dict[str, Any]]:
    """Lock, load, yield and save the world (processes and threads may share it)."""
    path = world_path()
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = json.loads(path.read_text()) if path.exists() else {}
        data.setdefault("resources", {})
        data.setdefault("calls", [])
        data.setdefault("faults", {})
        yield data
        # Replaced, not rewritten in place: a reader without the lock (the test harness) must
        # never see a half-written file.
        temp = path.with_suffix(f".{os.getpid()}.tmp")
        temp.write_text(json.dumps(data, indent=1))
        os.replace(temp, path)


class RecordingKind(ToolKind):
    """A tool kind whose resource is an entry in the world, keyed by instance address."""

    options = (
        Option("size", "integer", "How big the resource is.", default=1),
        Option("label", "string", "A free label."),
        Option("tier", "string", "A choice.", choices=("free", "pro"), default="free"),
        Option("token", "string", "A credential.", secret=True),
        Option("settings", "object", "Nested settings.", fields=(
            Option("region", "string", "Where it lives.", default="eu"),
        )),
    )
    outputs = (OutputSpec("url", "Where it is."), OutputSpec("password", "Admin password.", True),
               OutputSpec("size", "The size it was made with."))

    def __init__(self, name: str) -> None:
        self.name = name  # type: ignore[misc]
        self.description = f"test tool {name}"  # type: ignore[misc]

    def _enter(self, verb: str, ctx: Any) -> int:
        """Record the call and apply its faults; returns the call's number in the world."""
        with world() as w:
            token = ctx.options.get("token")
            w["calls"].append({"verb": verb, "address": ctx.address, "version": ctx.version,
                               "token_seen": isinstance(token, Secret),
                               "artifacts": dict(ctx.artifacts),
                               "resuming": ctx.resuming_since is not None})
            number = len(w["calls"])
            fault = w["faults"].get(f"{ctx.address}:{verb}") or w["faults"].get(f"{self.name}:{verb}")
            pace = w["faults"].get("pace")
        if pace:
            time.sleep(pace)
        _stall_if_asked(number, "before")
        if fault == "fail":
            raise OperationError(f"{verb} failed on purpose")
        if fault == "crash":
            raise RuntimeError("boom")
        if fault == "careless":  # a plugin whose errors quote the credential it was given
            revealed = token.reveal() if isinstance(token, Secret) else None
            raise RuntimeError(f"the server refused token {revealed}")
        if isinstance(fault, int | float):
            # Track how many calls overlap, so tests can check concurrency without timing.
            with world() as w:
                w["in_flight"] = w.get("in_flight", 0) + 1
                w["max_in_flight"] = max(w.get("max_in_flight", 0), w["in_flight"])
            time.sleep(fault)
            with world() as w:
                w["in_flight"] -= 1
        return number

    def _observed(self, ctx: Any) -> dict[str, Any]:
        return {"size": ctx.options.get("size"), "tier": ctx.options.get("tier"),
                "version": ctx.version}

    def create(self, ctx: Any) -> dict[str, Any]:
        number = self._enter("create", ctx)
        with world() as w:
            if ctx.address in w["resources"] and ctx.resuming_since is None:
                w.setdefault("duplicates", []).append(ctx.address)
            w["resources"][ctx.address] = self._observed(ctx)
        _stall_if_asked(number, "after")
        return {"url": f"https://{ctx.instance}.{self.name}.test", "size": ctx.options.get("size"),
                "password": SecretRef("env", f"{self.name.upper()}_PASSWORD")}

    def read(self, ctx: Any) -> Live | Any:
        self._enter("read", ctx)
        with world() as w:
            found = w["resources"].get(ctx.address)
        if found is None:
            return GONE
        return Live(observed=found, outputs=dict(ctx.outputs))

    def update(self, ctx: Any, live: Live) -> dict[str, Any]:
        number = self._enter("update", ctx)
        with world() as w:
            w["resources"][ctx.address] = self._observed(ctx)
        _stall_if_asked(number, "after")
        return {"url": f"https://{ctx.instance}.{self.name}.test", "size": ctx.options.get("size"),
                "password": SecretRef("env", f"{self.name.upper()}_PASSWORD")}

    def delete(self, ctx: Any) -> None:
        number = self._enter("delete", ctx)
        with world() as w:
            w["resources"].pop(ctx.address, None)
        _stall_if_asked(number, "after")


def _stall_if_asked(number: int, when: str) -> None:
    """Stop here for good when the world's ``stall`` knob names this call and moment."""
    # Read without the lock (the file is replaced atomically): most calls have no stall to check.
    faults = json.loads(world_path().read_text()).get("faults", {})
    if faults.get("stall") != {"call": number, "when": when}:
        return
    with world() as w:
        w["stalled"] = {**w["calls"][number - 1], "when": when}
    while True:  # until the test kills this process
        time.sleep(60)


@hookimpl
def dtm_tool_kinds() -> list[ToolKind]:
    return [RecordingKind(name) for name in TOOLS]


class WorldRepositories(SourceControl):
    """Source control for ``test-scm://NAME`` repositories, kept in the world file."""

    name = "test-scm"

    def handles(self, repo_url: str, environ: Mapping[str, str]) -> bool:
        return repo_url.startswith("test-scm://")

    def commit_files(self, request: CommitRequest) -> CommitResult:
        with world() as w:
            repo = w.setdefault("repositories", {}).setdefault(request.repo_url, {"files": {}, "commits": []})
            changed = sorted(path for path, content in request.files.items()
                             if repo["files"].get(path) != (None if content is None else content.decode()))
            if not changed:
                return CommitResult(None)
            for path in changed:
                content = request.files[path]
                if content is None:
                    repo["files"].pop(path, None)
                else:
                    repo["files"][path] = content.decode()
            sha = f"c{len(repo['commits']) + 1}"
            repo["commits"].append({"sha": sha, "message": request.message, "branch": request.branch,
                                    "token": None if request.token is None else str(request.token)})
        return CommitResult(sha, changed)

    def read_file(self, repo_url: str, path: str, *, branch: str | None = None, token: Any = None,
                  environ: Mapping[str, str] | None = None) -> bytes | None:
        with world() as w:
            content = w.get("repositories", {}).get(repo_url, {"files": {}})["files"].get(path)
        return None if content is None else str(content).encode()


@hookimpl
def dtm_source_control() -> list[SourceControl]:
    return [WorldRepositories()]
