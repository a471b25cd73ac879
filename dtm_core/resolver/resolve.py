"""Resolving tool requests against the registry into one consistent set, or explaining why not.

How ``conflicts`` work: resolvelib has no negative dependencies, so a candidate's conflict
``flux>=2`` is handed to resolvelib as a *constraint* on flux (a need of kind ``conflicts``)
that flux versions inside ``>=2`` fail and that an extra "absent" flux candidate satisfies. The
absent candidate is offered only while no real need names flux, so a conflict never pulls a
tool in, yet when flux is in the set for any reason the clash is an ordinary incompatibility:
resolvelib backtracks to other versions on either side and, when none work, reports the
conflict need among its causes, which we explain like any other chain. A post-check after
resolving would instead reject sets that an older version would have made consistent.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from resolvelib import ResolutionImpossible, ResolutionTooDeep

from dtm_core.errors import ConflictError, InvalidInputError, UnknownToolError
from dtm_core.registry.model import build_tool_version
from dtm_core.resolver.order import topological
from dtm_core.resolver.provider import Candidate, Need, ToolProvider
from dtm_core.resolver.search import search
from dtm_core.version import __version__

if TYPE_CHECKING:
    from dtm_core.registry.model import Registry, ToolVersion
    from dtm_core.resolver.provider import Info

__all__ = ["REQUEST", "Resolution", "resolve"]

#: The parent named in ``Resolution.required_by`` for a tool the user asked for.
REQUEST = "<request>"

_NOTHING_INSTALLED: Mapping[str, str] = MappingProxyType({})
# Each round pins one tool or backtracks once; this bounds pathological backtracking, far above
# what a real toolchain of a few hundred tools needs.
_MAX_ROUNDS = 10_000


@dataclass(frozen=True)
class Resolution:
    """The consistent set of tool versions a request resolves to."""

    #: Every tool in the final set: requested, pulled in, and already installed.
    versions: dict[str, ToolVersion]
    #: Tool -> sorted names of the tools (or ``"<request>"``) that required it; ``[]`` for a tool
    #: kept only because it is installed. ``conflicts`` never count as requiring.
    required_by: dict[str, list[str]]
    #: All tools of ``versions``, dependencies before dependents, ties (and cycles) by name.
    order: list[str]


class RegistrySource:
    """Where candidates come from: the registry's versions that this dtm can run, ordered by
    the install policy (an installed tool not being upgraded offers its installed version first).
    """

    def __init__(
        self,
        registry: Registry,
        installed: Mapping[str, str],
        upgrade: Collection[str] | Literal["all"],
        dtm_version: Version,
    ) -> None:
        self.registry = registry
        self.installed = installed
        self.dtm_version = dtm_version
        self._upgrade_all = upgrade == "all"
        self._upgrade = frozenset([upgrade] if isinstance(upgrade, str) else upgrade)
        self._cache: dict[str, tuple[Candidate, ...]] = {}

    def candidates(self, name: str) -> tuple[Candidate, ...]:
        cached = self._cache.get(name)
        if cached is None:
            cached = self._cache[name] = self._build(name)
        return cached

    def runs_here(self, tool_version: ToolVersion) -> bool:
        if not tool_version.dtm_text:
            return True
        return tool_version.supported_dtm.contains(self.dtm_version, prereleases=True)

    def _build(self, name: str) -> tuple[Candidate, ...]:
        entry = self.registry.get(name)
        listed = entry.versions if entry is not None else ()
        installed_text = self.installed.get(name)
        installed_version = Version(installed_text) if installed_text is not None else None
        found: list[Candidate] = []
        mine: Candidate | None = None
        for tool_version in listed:
            if tool_version.version == installed_version:
                mine = Candidate(name, tool_version, installed=True)
                found.append(mine)
            elif self.runs_here(tool_version):
                found.append(Candidate(name, tool_version))
        if installed_text is not None and mine is None:
            # The index dropped the installed version: keep it usable (as apt keeps obsolete
            # packages) rather than force a change; its dependencies are no longer known.
            mine = Candidate(name, build_tool_version(name, installed_text, {}), installed=True)
            found.append(mine)
            found.sort(key=lambda candidate: candidate.version, reverse=True)
        if mine is not None and not (self._upgrade_all or name in self._upgrade):
            found.remove(mine)
            found.insert(0, mine)
        return tuple(found)


def resolve(
    registry: Registry,
    requests: Sequence[str],
    *,
    installed: Mapping[str, str] = _NOTHING_INSTALLED,
    held: Collection[str] = (),
    upgrade: Collection[str] | Literal["all"] = (),
    dtm_version: str = __version__,
) -> Resolution:
    """Resolve ``requests`` (``argocd``, ``argocd>=3.4``) together with what is installed.

    Raises UnknownToolError or InvalidInputError for a bad request, ConflictError when no
    consistent set exists.
    """
    roots = [_request_need(registry, text) for text in requests]
    for name in sorted(installed):
        version = installed[name]
        if name in held:
            roots.append(Need(name, SpecifierSet(f"=={version}"), "held", f"{name}=={version}"))
        else:
            roots.append(Need(name, SpecifierSet(), "installed", name))
    source = RegistrySource(registry, installed, upgrade, Version(dtm_version))
    provider = ToolProvider(source)
    try:
        chosen = search(roots, provider, _MAX_ROUNDS)
    except ResolutionImpossible as exc:
        asked = {need.name: need.text for need in roots if need.kind == "request"}
        raise _explain(list(exc.causes), source, provider, frozenset(held), asked) from None
    except ResolutionTooDeep as exc:
        raise ConflictError(
            f"gave up after {exc.round_count} rounds without finding a consistent set of versions",
            hint="pin some versions (e.g. 'argocd==3.5.1') to narrow the search",
        ) from None

    versions = {n: c.tool_version for n, c in sorted(chosen.items()) if c.tool_version}
    depends_on = {
        name: sorted(
            {
                need.name
                for need in provider.get_dependencies(chosen[name])
                if need.kind == "depends" and need.name in versions
            }
        )
        for name in versions
    }
    required_by: dict[str, set[str]] = {name: set() for name in versions}
    for need in roots:
        if need.kind == "request":
            required_by[need.name].add(REQUEST)
    for name, dependencies in depends_on.items():
        for dependency in dependencies:
            required_by[dependency].add(name)
    return Resolution(
        versions=versions,
        required_by={name: sorted(parents) for name, parents in required_by.items()},
        order=topological(depends_on),
    )


def _request_need(registry: Registry, text: str) -> Need:
    try:
        req = Requirement(text)
    except InvalidRequirement:
        req = None
    if req is None or req.extras or req.marker is not None or req.url:
        raise InvalidInputError(
            f"invalid tool request {text!r}: expected TOOL[SPEC], e.g. argocd>=3.4",
            hint="give a tool name, optionally with a version: argocd, argocd>=3.4, argocd==3.5.1",
        )
    entry = registry.get(req.name)
    if entry is None:
        names = {entry.name.lower(): entry.name for entry in registry}
        close = [names[n] for n in difflib.get_close_matches(req.name.lower(), names, n=3)]
        guess = f"did you mean {_join(close, 'or')}? " if close else ""
        raise UnknownToolError(
            f"no index lists a tool named {req.name!r}",
            hint=f"{guess}Run 'dtm search' to list tools, or 'dtm update' to refresh indexes",
        )
    if not any(req.specifier.contains(v.version, prereleases=True) for v in entry.versions):
        shown = [v.version_text for v in entry.versions if not v.yanked] or ["none"]
        more = ", …" if len(shown) > 5 else ""
        raise InvalidInputError(
            f"no version of {req.name} matches {req.specifier}; "
            f"available: {', '.join(shown[:5])}{more}",
            hint=f"pick one of them, or leave the version out; 'dtm info {req.name}' lists them",
        )
    return Need(req.name, req.specifier, "request", str(req))


def _explain(
    causes: list[Info],
    source: RegistrySource,
    provider: ToolProvider,
    held: frozenset[str],
    requested: Mapping[str, str],
) -> ConflictError:
    """Turn resolvelib's causes into one line naming each requirement chain, as pip does."""
    installed = source.installed

    def who(parent: Candidate) -> str:
        assert parent.tool_version is not None
        mark = " (held)" if parent.name in held else ""
        return f"{parent.name} {parent.tool_version.version_text}{mark}"

    chains: set[str] = set()
    holds: set[str] = set()
    asked: set[str] = set()
    triggers: set[str] = set()
    parent_versions: dict[str, set[str]] = {}
    unlisted: set[str] = set()
    held_names: set[str] = set()
    removable: set[str] = set()
    for need, parent in causes:
        if parent is None:
            if need.kind == "request":
                asked.add(f"you asked for {need.text}")
                triggers.add(need.text)
            elif need.kind == "held":
                holds.add(f"{need.name} is held at {installed[need.name]}")
                held_names.add(need.name)
            continue
        assert parent.tool_version is not None
        parent_versions.setdefault(parent.name, set()).add(parent.tool_version.version_text)
        if need.kind == "conflicts":
            tail = f" (installed {installed[need.name]})" if need.name in installed else ""
            chains.add(f"{who(parent)} conflicts with {need.text}{tail}")
            if need.name in installed:
                removable.add(need.name)
        else:
            tail = ""
            if need.name not in source.registry and need.name not in installed:
                tail = ", which no index lists"
                unlisted.add(need.name)
            chains.add(f"{who(parent)} depends on {need.text}{tail}")
    # Name what the user would recognise: their own request, else the pinned version.
    for name, versions in parent_versions.items():
        only = f"{name}=={next(iter(versions))}" if len(versions) == 1 else name
        triggers.add(requested.get(name, only))
    parents = {name for name in parent_versions if name not in held}
    held_names |= {name for name in parent_versions if name in held}

    names = sorted({need.name for need, _ in causes})
    filtered, filter_fixes = _filtered(causes, names, source, provider)
    phrases = sorted(chains) + sorted(holds)
    # With one cause the "cannot install X" prefix already says what was asked for.
    if len(causes) > 1 or not (phrases or filtered):
        phrases += sorted(asked)
    phrases += filtered

    fixes = [f"unhold {name} with 'dtm unhold {name}'" for name in sorted(held_names)]
    if any(need.kind == "request" and need.specifier for need, parent in causes):
        fixes.append("loosen the version you asked for")
    if parents:
        fixes.append(f"install a different version of {_join(sorted(parents), 'or')}")
    if removable:
        fixes.append(f"remove {_join(sorted(removable), 'or')} first")
    fixes += filter_fixes
    if unlisted:
        fixes.append("run 'dtm update' to refresh indexes")
    listed = [name for name in names if name in source.registry]
    lists = f"'dtm info {listed[0]}' lists versions" if listed else ""
    hint = f"To fix this you could try to: {', or '.join(fixes)}" if fixes else ""
    hint = "; ".join(part for part in (hint, lists) if part)
    subject = _join(sorted(triggers) or names, "and")
    return ConflictError(f"cannot install {subject}: {'; '.join(phrases)}", hint=hint)


def _filtered(
    causes: list[Info], names: list[str], source: RegistrySource, provider: ToolProvider
) -> tuple[list[str], list[str]]:
    """Versions the needs would accept but policy excluded (dtm version, yanked, pre-release)."""
    phrases: list[str] = []
    fixes: list[str] = []
    too_new = False
    for name in names:
        needs = [need for need, _ in causes if need.name == name]
        if provider.find_matches(name, {name: iter(needs)}, {name: iter(())}):
            continue
        entry = source.registry.get(name)
        matching = [
            candidate
            for candidate in (Candidate(name, tv) for tv in (entry.versions if entry else ()))
            if all(provider.is_satisfied_by(need, candidate) for need in needs)
        ]
        by_dtm: dict[str, list[str]] = {}
        yanked: list[str] = []
        pre: list[str] = []
        for candidate in matching:
            tool_version = candidate.tool_version
            assert tool_version is not None
            if not source.runs_here(tool_version):
                by_dtm.setdefault(tool_version.dtm_text, []).append(tool_version.version_text)
            elif tool_version.yanked:
                yanked.append(tool_version.version_text)
            elif candidate.prerelease:
                pre.append(tool_version.version_text)
        for spec, versions in by_dtm.items():
            verb = "needs" if len(versions) == 1 else "need"
            phrases.append(f"{name} {_few(versions)} {verb} dtm{spec}")
            too_new = True
        if yanked:
            phrases.append(f"{name} {_few(yanked)} {'is' if len(yanked) == 1 else 'are'} yanked")
            fixes.append(f"pin a yanked version exactly, e.g. '{name}=={yanked[0]}'")
        if pre:
            kind = "is a pre-release" if len(pre) == 1 else "are pre-releases"
            phrases.append(f"{name} {_few(pre)} {kind}")
            fixes.append(f"ask for a pre-release explicitly, e.g. '{name}=={pre[0]}'")
    if too_new:
        phrases.append(f"this is dtm {source.dtm_version}")
        fixes.insert(0, "upgrade dtm")
    return phrases, fixes


def _few(versions: Sequence[str]) -> str:
    return ", ".join(versions[:3]) + (", …" if len(versions) > 3 else "")


def _join(words: Iterable[str], last: str) -> str:
    items = list(words)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"
