"""The resolvelib provider: how candidate tool versions are matched, ordered and compared."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, Protocol

from resolvelib import AbstractProvider
from resolvelib.structs import RequirementInformation

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    from dtm_core.registry.model import ToolVersion

__all__ = ["Candidate", "CandidateSource", "Need", "NeedKind", "ToolProvider"]

#: Where a requirement comes from. ``held`` and ``installed`` are roots dtm adds for the tools
#: already installed; ``conflicts`` is a constraint that applies only if the tool is in the set.
NeedKind = Literal["request", "held", "installed", "depends", "conflicts"]

Info = RequirementInformation["Need", "Candidate"]


@dataclass(frozen=True, eq=False)
class Need:
    """One requirement on a tool; resolvelib tracks who wanted it as the requirement's parent."""

    name: str
    specifier: SpecifierSet
    kind: NeedKind
    #: As a user would write it (``argocd>=3``); used verbatim in conflict messages.
    text: str

    @cached_property
    def exact(self) -> Version | None:
        """The version this need pins with a single ``==`` (not a wildcard), if it does."""
        specs = list(self.specifier)
        if len(specs) != 1 or specs[0].operator not in ("==", "===") or "*" in specs[0].version:
            return None
        from packaging.version import InvalidVersion, Version

        try:
            return Version(specs[0].version)
        except InvalidVersion:
            return None


@dataclass(frozen=True, eq=False)
class Candidate:
    """A tool version the resolver may pick, or the tool staying out of the set.

    Identity is the object: a source hands out one object per tool version, so resolvelib's
    incompatibility lists and our caches can compare and hash candidates cheaply.
    """

    name: str
    #: ``None`` is the "absent" candidate: the only way to satisfy a ``conflicts`` need is
    #: sometimes to leave the tool out, and it is offered only when no real need names the tool.
    tool_version: ToolVersion | None = None
    #: Installed versions are always acceptable (never yanked or too new for this dtm): the
    #: resolver must not force a change on a tool just because its index entry moved on.
    installed: bool = False

    @property
    def absent(self) -> bool:
        return self.tool_version is None

    @property
    def version(self) -> Version:
        if self.tool_version is None:
            raise ValueError(f"the absent candidate of {self.name} has no version")
        return self.tool_version.version

    @cached_property
    def prerelease(self) -> bool:
        return self.tool_version is not None and self.tool_version.version.is_prerelease

    def __repr__(self) -> str:
        shown = "absent" if self.tool_version is None else self.tool_version.version_text
        return f"Candidate({self.name} {shown})"


class CandidateSource(Protocol):
    """Where candidates come from: the registry plus the install policy (installed, upgrade)."""

    def candidates(self, name: str) -> Sequence[Candidate]:
        """Every usable version of ``name``, most preferred first; empty for an unknown tool."""
        ...


class ToolProvider(AbstractProvider[Need, Candidate, str]):
    """Matches needs against a source's candidates; knows nothing about indexes or state."""

    def __init__(self, source: CandidateSource) -> None:
        self._source = source
        self._needs: dict[Candidate, tuple[Need, ...]] = {}
        self._absent: dict[str, Candidate] = {}
        self._has_final: dict[str, bool] = {}
        # resolvelib re-checks every pin against every need each round; memoise the answer.
        self._satisfied: dict[tuple[Need, Candidate], bool] = {}

    def identify(self, requirement_or_candidate: Need | Candidate) -> str:
        return requirement_or_candidate.name

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Candidate],
        candidates: Mapping[str, Iterator[Candidate]],
        information: Mapping[str, Iterator[Info]],
        backtrack_causes: Sequence[Info],
    ) -> Any:
        infos = list(information[identifier])
        # A tool only named by ``conflicts`` is decided last: by then the real needs on it (if
        # any) are known, so we do not pin "absent" and immediately have to undo it.
        only_conflicts = all(info.requirement.kind == "conflicts" for info in infos)
        pinned = any(info.requirement.exact is not None for info in infos)
        in_backtrack = any(cause.requirement.name == identifier for cause in backtrack_causes)
        return (only_conflicts, not pinned, not in_backtrack, identifier)

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Need]],
        incompatibilities: Mapping[str, Iterator[Candidate]],
    ) -> list[Candidate]:
        needs = list(requirements[identifier])
        excluded = set(incompatibilities[identifier])
        pool = self._source.candidates(identifier)
        # PEP 592: a yanked version is used only when a need pins it exactly with ``==``.
        pinned = {need.exact for need in needs if need.exact is not None}
        allow_pre = any(need.specifier.prereleases for need in needs) or not self._any_final(
            identifier, pool
        )
        matches: list[Candidate] = []
        if all(need.kind == "conflicts" for need in needs):
            absent = self._absent_of(identifier)
            if absent not in excluded:
                matches.append(absent)
        for candidate in pool:
            if candidate in excluded:
                continue
            if not candidate.installed:
                assert candidate.tool_version is not None
                if candidate.tool_version.yanked and candidate.version not in pinned:
                    continue
                if candidate.prerelease and not allow_pre:
                    continue
            if all(self.is_satisfied_by(need, candidate) for need in needs):
                matches.append(candidate)
        return matches

    def is_satisfied_by(self, requirement: Need, candidate: Candidate) -> bool:
        key = (requirement, candidate)
        known = self._satisfied.get(key)
        if known is None:
            if candidate.absent:
                known = requirement.kind == "conflicts"
            else:
                inside = requirement.specifier.contains(candidate.version, prereleases=True)
                known = not inside if requirement.kind == "conflicts" else inside
            self._satisfied[key] = known
        return known

    def get_dependencies(self, candidate: Candidate) -> Iterable[Need]:
        needs = self._needs.get(candidate)
        if needs is None:
            needs = self._needs[candidate] = needs_of(candidate)
        return needs

    def _absent_of(self, name: str) -> Candidate:
        absent = self._absent.get(name)
        if absent is None:
            absent = self._absent[name] = Candidate(name)
        return absent

    def _any_final(self, name: str, pool: Sequence[Candidate]) -> bool:
        # As pip does: a tool that only ever shipped pre-releases may install one unasked.
        known = self._has_final.get(name)
        if known is None:
            known = self._has_final[name] = any(not c.prerelease for c in pool)
        return known


def needs_of(candidate: Candidate) -> tuple[Need, ...]:
    """The dependencies and conflicts a candidate declares, as needs it is the parent of."""
    tool_version = candidate.tool_version
    if tool_version is None:
        return ()
    needs = [
        Need(req.name, req.specifier, "depends", str(req))
        for req in tool_version.dependencies
        # A self-dependency says nothing and would make the tool re-pin itself.
        if req.name != candidate.name
    ]
    needs += [
        Need(req.name, req.specifier, "conflicts", str(req))
        for req in tool_version.conflicts
        if req.name != candidate.name
    ]
    return tuple(needs)
