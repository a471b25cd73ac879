"""Plugin discovery and loading: entry points in group ``dtm``, checked, isolated, never fatal.

Each entry point is loaded on its own. A plugin whose distribution requires a ``dtm`` the
running core does not satisfy is skipped *before* import; one that fails to import, whose
hooks are malformed, or whose tool kinds are invalid is skipped with one warning line and
listed as broken by ``dtm plugins``. ``DTM_LOAD_PLUGINS`` (comma allow-list, empty = none) and
``DTM_DISABLE_PLUGINS`` (comma block-list) filter by entry-point or distribution name;
``DTM_PLUGINS`` names extra modules to load by import path (for developing a plugin in place).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pluggy

from . import hookspecs
from .errors import DtmError
from .secrets import SecretResolver, builtin_resolvers
from .sourcecontrol import SourceControl
from .toolkind import ToolKind
from .version import __version__

if TYPE_CHECKING:
    from .sandbox.service import SandboxService

ENTRY_POINT_GROUP = "dtm"
#: What a sandbox service's name may be: it names a directory and a line of ``dtm sandbox status``.
_SANDBOX_NAME = r"^[a-z0-9][a-z0-9-]{0,39}$"


@dataclass
class PluginInfo:
    """One discovered plugin, loaded or not, as ``dtm plugins`` shows it."""

    name: str
    distribution: str | None
    version: str | None
    status: str = "ok"  # ok | broken | disabled
    error: str | None = None
    tool_kinds: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "error": self.error,
            "tools": self.tool_kinds,
        }


class PluginHost:
    """A typed facade over the pluggy manager: the loaded plugins and what they provide."""

    def __init__(self, manager: pluggy.PluginManager, plugins: list[PluginInfo],
                 kinds: dict[str, ToolKind]) -> None:
        self.manager = manager
        self.plugins = plugins
        self._kinds = kinds

    @property
    def warnings(self) -> list[str]:
        return [f"plugin {p.name} skipped: {p.error}" for p in self.plugins if p.status == "broken"]

    def tool_kinds(self) -> Mapping[str, ToolKind]:
        return self._kinds

    def tool_kind(self, name: str) -> ToolKind | None:
        return self._kinds.get(name)

    def plugin_for_distribution(self, distribution: str) -> PluginInfo | None:
        wanted = _normalize(distribution)
        for info in self.plugins:
            if info.distribution and _normalize(info.distribution) == wanted:
                return info
        return None

    def source_controls(self) -> list[SourceControl]:
        """Every source-control provider the loaded plugins offer, in load order."""
        return [provider for found in self.manager.hook.dtm_source_control() for provider in found]

    def sandbox_services(self, first: str | None = None
                         ) -> tuple[list[tuple[str, SandboxService]], list[str]]:
        """Every sandbox service, as ``(plugin, service)``, and one line per one left out.

        Each plugin's hook is called on its own, so one that raises or returns something else
        costs only its own services; a name already taken keeps its first provider. ``first``
        names the plugin whose services come first (the core's own); others follow by name.
        """
        import re

        from .sandbox.service import SandboxService

        impls = sorted(self.manager.hook.dtm_sandbox_services.get_hookimpls(),
                       key=lambda impl: (impl.plugin_name != first, impl.plugin_name))
        found: list[tuple[str, SandboxService]] = []
        owners: dict[str, str] = {}
        problems: list[str] = []
        for impl in impls:
            plugin = impl.plugin_name
            try:
                returned: Any = impl.function()
                services: list[object] = list(returned or [])
            except Exception as exc:  # a plugin's fault: its services are left out, the rest run
                problems.append(f"plugin {plugin}: dtm_sandbox_services failed: {_one_line(exc)}")
                continue
            for service in services:
                name = getattr(service, "name", "")
                if not isinstance(service, SandboxService) or not re.match(_SANDBOX_NAME, str(name)):
                    problems.append(f"plugin {plugin}: {service!r} is not a SandboxService with a "
                                    "name of lowercase letters, digits and '-'")
                elif name in owners:
                    problems.append(f"plugin {plugin}: sandbox service {name!r} is already provided "
                                    f"by {owners[name]}")
                else:
                    owners[name] = plugin
                    found.append((plugin, service))
        return found, problems

    def secret_resolvers(self, environ: Mapping[str, str] | None = None) -> dict[str, SecretResolver]:
        resolvers = builtin_resolvers(environ)
        for extra in self.manager.hook.dtm_secret_resolvers():
            resolvers.update(extra)
        return resolvers


def _normalize(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _names(value: str | None) -> set[str] | None:
    if value is None:
        return None
    return {_normalize(v.strip()) for v in value.split(",") if v.strip()}


def _dtm_requirement_error(dist: metadata.Distribution | None) -> str | None:
    """Why this plugin's declared requirement on ``dtm`` excludes the running core, if it does."""
    if dist is None:
        return None
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.version import Version

    for line in dist.requires or ():
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if _normalize(req.name) != "dtm" or (req.marker and not req.marker.evaluate({"extra": ""})):
            continue
        if not req.specifier.contains(Version(__version__), prereleases=True):
            return (f"requires dtm{req.specifier} but this is dtm {__version__}; "
                    f"upgrade {dist.metadata['Name']} or dtm")
    return None


def _new_manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    return manager


def _register(manager: pluggy.PluginManager, info: PluginInfo, module: Any,
              kinds: dict[str, ToolKind], owners: dict[str, str]) -> None:
    """Register one plugin; on any fault undo its registration and mark it broken."""
    if isinstance(module, ModuleType) and getattr(module, "__file__", None) is None \
            and hasattr(module, "__path__"):
        # A plugin's source folder in the current directory shadows the installed package
        # as an empty namespace package (python -m from a checkout): say so, don't load nothing.
        where = ", ".join(str(p) for p in module.__path__)
        info.status = "broken"
        info.error = (f"{module.__name__} resolved to the folder {where} (no __init__.py), not the "
                      "installed plugin; run dtm from another directory")
        return
    if manager.is_registered(module):
        # The same module named twice (an entry point and DTM_PLUGINS): keep the first.
        first = manager.get_name(module)
        info.status, info.error = "disabled", f"already loaded as plugin {first}"
        return
    try:
        manager.register(module, name=info.name)
        manager.check_pending()
        provided: dict[str, ToolKind] = {}
        impl = getattr(module, "dtm_tool_kinds", None)
        for kind in (impl() if impl else []) or []:
            if not isinstance(kind, ToolKind) or not kind.name:
                raise DtmError(f"dtm_tool_kinds returned {kind!r}, not a named ToolKind")
            if kind.name in kinds or kind.name in provided:
                owner = owners.get(kind.name, info.name)
                raise DtmError(f"tool {kind.name!r} is already provided by plugin {owner}")
            provided[kind.name] = kind
    except (Exception, SystemExit) as exc:  # a plugin's fault must never take the CLI down
        if manager.is_registered(module):
            manager.unregister(module)
        info.status, info.error = "broken", _one_line(exc)
        return
    kinds.update(provided)
    owners.update((name, info.name) for name in provided)
    info.tool_kinds = sorted(provided)


def _one_line(exc: BaseException) -> str:
    """The exception as one line; pluggy puts the useful part on later lines, so join them."""
    text = " ".join(line.strip() for line in str(exc).strip().splitlines() if line.strip())
    return f"{type(exc).__name__}: {text}".rstrip(": ")


def load_plugins(environ: Mapping[str, str] | None = None,
                 extra_plugins: Iterable[tuple[str, ModuleType | object]] = (),
                 entry_points: Iterable[metadata.EntryPoint] | None = None) -> PluginHost:
    """Discover, check and register plugins; never raises because of a plugin.

    ``extra_plugins`` are ``(name, module-or-object)`` pairs registered as if found through an
    entry point (tests use it); ``entry_points`` replaces discovery (tests use it too).
    """
    env = os.environ if environ is None else environ
    allow = _names(env.get("DTM_LOAD_PLUGINS"))
    block = _names(env.get("DTM_DISABLE_PLUGINS")) or set()
    manager = _new_manager()
    infos: list[PluginInfo] = []
    kinds: dict[str, ToolKind] = {}
    owners: dict[str, str] = {}

    def filtered(info: PluginInfo) -> bool:
        names = {_normalize(info.name)} | ({_normalize(info.distribution)} if info.distribution else set())
        if names & block or (allow is not None and not names & allow):
            info.status, info.error = "disabled", "disabled by DTM_LOAD_PLUGINS/DTM_DISABLE_PLUGINS"
            return True
        return False

    eps = metadata.entry_points(group=ENTRY_POINT_GROUP) if entry_points is None else entry_points
    for ep in sorted(eps, key=lambda e: e.name):
        dist = ep.dist
        info = PluginInfo(ep.name, dist.metadata["Name"] if dist else None, dist.version if dist else None)
        infos.append(info)
        if filtered(info):
            continue
        reason = _dtm_requirement_error(dist)
        if reason:
            info.status, info.error = "broken", reason
            continue
        try:
            module = ep.load()
        except (Exception, SystemExit) as exc:  # import errors of third-party code are theirs
            info.status, info.error = "broken", _one_line(exc)
            continue
        _register(manager, info, module, kinds, owners)

    named_modules = [m.strip() for m in env.get("DTM_PLUGINS", "").split(",") if m.strip()]
    for module_name in named_modules:
        info = PluginInfo(module_name, None, None)
        infos.append(info)
        if filtered(info):
            continue
        try:
            module = importlib.import_module(module_name)
        except (Exception, SystemExit) as exc:
            info.status, info.error = "broken", _one_line(exc)
            continue
        _register(manager, info, module, kinds, owners)

    for name, obj in extra_plugins:
        info = PluginInfo(name, None, None)
        infos.append(info)
        if not filtered(info):
            _register(manager, info, obj, kinds, owners)
    return PluginHost(manager, infos, kinds)
