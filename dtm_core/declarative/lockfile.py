"""The lock file ``dtm.lock``: the exact tool versions and plugin hashes a toolchain resolved to.

Like Terraform's ``.terraform.lock.hcl``: committed beside the configuration so every run
and every teammate converges to the same versions until someone runs ``dtm apply --upgrade``.
It holds no secrets (names, versions and hashes only), so it is written 0644. See
``docs/lockfile.md`` for the format.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from ..errors import ConfigError, InvalidInputError, RefusedError

if TYPE_CHECKING:
    from ..registry.model import Registry
    from ..resolver import Resolution

__all__ = [
    "LOCK_FILE_NAME",
    "LOCK_FORMAT",
    "LockFile",
    "LockedTool",
    "check_locked",
    "diff_locks",
    "lock_from_resolution",
    "pinned_requests",
    "read_lock",
    "write_lock",
    "write_text_atomic",
]

LOCK_FILE_NAME = "dtm.lock"
LOCK_FORMAT = 1
_README = "Written by dtm: commit it. 'dtm apply --upgrade' moves it to newer versions."
_RECREATE_HINT = "delete it and run 'dtm apply --upgrade' to re-create it"
_UPDATE_HINT = "run 'dtm apply --upgrade' (or 'dtm plan --upgrade') to update the lock file, then commit it"


@dataclass(frozen=True)
class LockedTool:
    """One tool as resolved: its version and the plugin distribution that provides it."""

    version: str
    #: The configuration's specifier it was resolved for ("" for any version); ``None`` for a
    #: tool pulled in only as a dependency.
    requested: str | None = None
    #: Name of the index the version came from.
    source: str = ""
    #: Plugin distribution, its specifier and ``sha256:`` hashes; "" and () for a stack.
    distribution: str = ""
    plugin_specifier: str = ""
    hashes: tuple[str, ...] = ()
    #: Tools that required this one when it was resolved (``<request>`` for the config itself).
    required_by: tuple[str, ...] = ()

    @property
    def plugin_requirement(self) -> str:
        return f"{self.distribution}{self.plugin_specifier}"


@dataclass
class LockFile:
    """Everything ``dtm.lock`` records, by tool name."""

    tools: dict[str, LockedTool] = field(default_factory=dict)
    format: int = LOCK_FORMAT

    def to_json(self) -> dict[str, Any]:
        # Fixed key order, tools by name, sorted hashes: a re-resolve that changes nothing
        # rewrites the file byte for byte, so 'git diff' shows only real moves.
        tools: dict[str, Any] = {}
        for name in sorted(self.tools):
            locked = self.tools[name]
            plugin = None
            if locked.distribution:
                plugin = {"distribution": locked.distribution, "specifier": locked.plugin_specifier,
                          "hashes": sorted(locked.hashes)}
            tools[name] = {"version": locked.version, "requested": locked.requested,
                           "required_by": sorted(locked.required_by), "source": locked.source,
                           "plugin": plugin}
        return {"format": self.format, "_readme": _README, "tools": tools}


def read_lock(path: Path | str) -> LockFile | None:
    """The lock file at ``path``, or ``None`` when there is none.

    Raises ConfigError (``file:line:column: …``) when it is not a lock file this dtm can read.
    """
    from ..jsonfiles import JsonFault, decode_json

    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}:1:1: cannot read the lock file: {exc}", hint=_RECREATE_HINT) from None
    try:
        document = decode_json(raw)
    except JsonFault as fault:
        if fault.path is not None:
            raise _fault(path, raw, fault.path, fault.reason) from None
        raise ConfigError(f"{path}:{fault.line}:{fault.column}: the lock file is not valid JSON: "
                          f"{fault.reason}", hint=_RECREATE_HINT) from None
    return _parse(document, path, raw)


def _fault(path: Path, raw: bytes, at: tuple[str | int, ...], problem: str) -> ConfigError:
    """``FILE:LINE:COLUMN: tools.NAME.field: problem``, at the line of the value ``at`` names."""
    from ..jsonfiles import locate, render_path

    line, column = locate(raw, at)
    where = render_path(at, root="") or "(top level)"
    return ConfigError(f"{path}:{line}:{column}: {where}: {problem}", hint=_RECREATE_HINT)


def _parse(document: Any, path: Path, source: bytes) -> LockFile:
    def fault(at: tuple[str | int, ...], problem: str) -> ConfigError:
        return _fault(path, source, at, problem)

    if not isinstance(document, dict):
        raise fault((), "expected a JSON object")
    version = document.get("format")
    if type(version) is not int:
        raise fault(("format",), "expected an integer")
    if version > LOCK_FORMAT:
        from ..jsonfiles import locate

        line, column = locate(source, ("format",))
        raise ConfigError(f"{path}:{line}:{column}: lock file format {version} is newer than this dtm reads "
                          f"({LOCK_FORMAT})", hint="upgrade dtm, or " + _RECREATE_HINT)
    tools = document.get("tools")
    if not isinstance(tools, dict):
        raise fault(("tools",), "expected an object of tools")
    locked: dict[str, LockedTool] = {}
    for name, raw in tools.items():
        where: tuple[str | int, ...] = ("tools", name)
        if not isinstance(raw, dict):
            raise fault(where, "expected an object")
        text = raw.get("version")
        if not isinstance(text, str):
            raise fault((*where, "version"), "expected a string")
        try:
            Version(text)
        except InvalidVersion:
            raise fault((*where, "version"), f"{text!r} is not a valid version") from None
        requested = raw.get("requested")
        if requested is not None and not isinstance(requested, str):
            raise fault((*where, "requested"), "expected a string or null")
        required_by = raw.get("required_by", [])
        if not isinstance(required_by, list) or not all(isinstance(r, str) for r in required_by):
            raise fault((*where, "required_by"), "expected a list of strings")
        plugin = raw.get("plugin")
        if plugin is not None and not (
            isinstance(plugin, dict)
            and isinstance(plugin.get("distribution"), str)
            and isinstance(plugin.get("specifier", ""), str)
            and isinstance(plugin.get("hashes", []), list)
            and all(isinstance(h, str) for h in plugin.get("hashes", []))
        ):
            raise fault((*where, "plugin"), "expected null or {distribution, specifier, hashes}")
        plugin = plugin or {}
        locked[name] = LockedTool(
            version=text, requested=requested, source=str(raw.get("source", "")),
            distribution=plugin.get("distribution", ""), plugin_specifier=plugin.get("specifier", ""),
            hashes=tuple(plugin.get("hashes", ())), required_by=tuple(required_by))
    return LockFile(tools=locked, format=version)


def write_lock(path: Path | str, lock: LockFile) -> None:
    """Write ``lock`` atomically: a reader (or a crash) sees the old file or the new one."""
    write_text_atomic(Path(path), json.dumps(lock.to_json(), indent=2) + "\n", mode=0o644)


def write_text_atomic(path: Path, text: str, *, mode: int) -> None:
    """Replace ``path`` with ``text`` via a temporary file, fsync and rename; chmod ``mode``."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            # Explicit, so the umask cannot make a team file unreadable to the team.
            os.chmod(temp, mode)
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    # The rename is durable only once the directory is synced (POSIX; Windows cannot open one).
    with contextlib.suppress(OSError, AttributeError):
        dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def lock_from_resolution(resolution: Resolution, specs: Mapping[str, str], registry: Registry) -> LockFile:
    """The lock for a resolution: every resolved tool, dependencies included.

    ``specs`` maps each tool the configuration names to its specifier ("" for any version).
    """
    tools: dict[str, LockedTool] = {}
    for name, tool_version in sorted(resolution.versions.items()):
        entry = registry.get(name)
        plugin = tool_version.plugin
        tools[name] = LockedTool(
            version=tool_version.version_text, requested=specs.get(name),
            source=entry.source if entry else "", distribution=plugin.distribution,
            plugin_specifier=plugin.specifier if plugin.distribution else "",
            hashes=tuple(sorted(plugin.hashes)), required_by=tuple(resolution.required_by.get(name, ())))
    return LockFile(tools=tools)


def _satisfies(tool: str, version: str, spec: str) -> bool:
    try:
        return SpecifierSet(spec).contains(Version(version), prereleases=True)
    except InvalidSpecifier:
        raise InvalidInputError(f"invalid version specifier {spec!r} for {tool}",
                                hint="use a PEP 440 specifier such as '>=3.4' or '==3.5.1'") from None


def pinned_requests(lock: LockFile, specs: Mapping[str, str], registry: Registry | None = None) -> list[str]:
    """Requests (``argocd==3.5.1``) that make a resolve reproduce the lock.

    A configured tool is pinned while its locked version still satisfies the configuration.
    A dependency is pinned only while every tool that required it is pinned too: pinning it
    under a parent that moves could make an otherwise solvable set conflict, and a dependency
    whose parents left the configuration must not be kept alive by its pin. With ``registry``,
    a version the indexes no longer list is left to the resolver instead of failing the run.
    """
    from ..resolver import REQUEST

    pinned: set[str] = set()
    for tool, spec in specs.items():
        locked = lock.tools.get(tool)
        if locked is not None and _satisfies(tool, locked.version, spec):
            pinned.add(tool)
    changed = True
    while changed:  # parents before dependents, whatever order the lock lists them in
        changed = False
        for tool, locked in lock.tools.items():
            parents = set(locked.required_by) - {REQUEST}
            if tool not in pinned and tool not in specs and parents and parents <= pinned:
                pinned.add(tool)
                changed = True
    requests = []
    for tool in sorted(pinned):
        version = lock.tools[tool].version
        if registry is not None:
            entry = registry.get(tool)
            if entry is None or entry.get_version(version) is None:
                continue
        requests.append(f"{tool}=={version}")
    return requests


def check_locked(lock: LockFile | None, specs: Mapping[str, str]) -> None:
    """Refuse (exit 3) unless the lock covers the configuration as it is now (``--locked``)."""
    if lock is None:
        raise RefusedError(f"{LOCK_FILE_NAME} does not match the configuration: there is no lock file",
                           hint=_UPDATE_HINT)
    problems = []
    for tool in sorted(specs):
        locked = lock.tools.get(tool)
        if locked is None:
            problems.append(f"{tool} is not locked")
        elif not _satisfies(tool, locked.version, specs[tool]):
            problems.append(f"{tool} is locked at {locked.version}, outside '{specs[tool]}'")
    if problems:
        raise RefusedError(f"{LOCK_FILE_NAME} does not match the configuration: {'; '.join(problems)}",
                           hint=_UPDATE_HINT)


def diff_locks(old: LockFile | None, new: LockFile) -> list[str]:
    """One line per tool that moved: ``argocd 3.4.2 -> 3.5.1``, ``jenkins 2.516 removed`` …"""
    before = old.tools if old is not None else {}
    lines = []
    for tool in sorted(set(before) | set(new.tools)):
        was, now = before.get(tool), new.tools.get(tool)
        if was is None and now is not None:
            lines.append(f"{tool} added at {now.version}")
        elif now is None and was is not None:
            lines.append(f"{tool} {was.version} removed")
        elif was is not None and now is not None:
            if was.version != now.version:
                lines.append(f"{tool} {was.version} -> {now.version}")
            elif was.plugin_requirement != now.plugin_requirement:
                lines.append(f"{tool} {now.version}: plugin {was.plugin_requirement or '(none)'} -> "
                             f"{now.plugin_requirement or '(none)'}")
            elif sorted(was.hashes) != sorted(now.hashes):
                # Same version, different files: worth a look before committing.
                lines.append(f"{tool} {now.version}: plugin hashes changed")
    return lines
