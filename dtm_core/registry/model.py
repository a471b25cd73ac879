"""The registry's data model: tools, their versions, and the plugin distribution providing each.

Built from validated index JSON (see ``docs/registry.md``). Versions are parsed lazily so
that a search over a large index does not parse every version string of every tool.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence, ValuesView
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version


@dataclass(frozen=True)
class PluginRef:
    """The plugin distribution that provides a tool version, and how to install it safely.

    ``specifier`` is a PEP 440 specifier (``>=0.1,<1``); when ``hashes`` are listed it pins one
    version with ``==`` and ``hashes`` are ``sha256:<hex>`` of every file pip may install.
    """

    distribution: str
    specifier: str = ""
    hashes: tuple[str, ...] = ()

    @property
    def requirement(self) -> str:
        """The pip requirement string: ``dtm-plugins-argocd>=0.1,<1``."""
        return f"{self.distribution}{self.specifier}"


@dataclass(frozen=True)
class ToolVersion:
    """One installable version of a tool, as an index lists it."""

    tool: str
    version_text: str
    plugin: PluginRef
    dependency_texts: tuple[str, ...] = ()
    conflict_texts: tuple[str, ...] = ()
    dtm_text: str = ""
    yanked: bool = False
    #: Tool-specific data the plugin reads (release manifest URL and sha256, for instance).
    artifacts: Mapping[str, Any] = field(default_factory=dict)

    @cached_property
    def version(self) -> Version:
        from packaging.version import Version

        return Version(self.version_text)

    @cached_property
    def dependencies(self) -> tuple[Requirement, ...]:
        from packaging.requirements import Requirement

        return tuple(Requirement(text) for text in self.dependency_texts)

    @cached_property
    def conflicts(self) -> tuple[Requirement, ...]:
        from packaging.requirements import Requirement

        return tuple(Requirement(text) for text in self.conflict_texts)

    @cached_property
    def supported_dtm(self) -> SpecifierSet:
        from packaging.specifiers import SpecifierSet

        return SpecifierSet(self.dtm_text)


@dataclass(frozen=True)
class ToolEntry:
    """A tool (or, with ``kind == "stack"``, a named set of tools) and its versions."""

    name: str
    description: str
    tags: tuple[str, ...] = ()
    homepage: str = ""
    kind: str = "tool"
    #: Raw version objects by version string, as the index lists them.
    raw_versions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: Name of the index this entry came from (shown by ``dtm info``).
    source: str = ""
    #: Stack only: the commented starter config ``dtm init --stack`` writes.
    starter: str = ""
    #: The newest non-yanked version string when the loader knew it without parsing every
    #: version ("" when there is none); ``None`` lets :attr:`latest_text` work it out.
    known_latest: str | None = field(default=None, compare=False, repr=False)

    @cached_property
    def versions(self) -> tuple[ToolVersion, ...]:
        """All versions, newest first."""
        items = self.raw_versions.items()
        built = [build_tool_version(self.name, text, raw) for text, raw in items]
        return tuple(sorted(built, key=lambda tv: tv.version, reverse=True))

    @property
    def latest(self) -> ToolVersion | None:
        """The newest version that is not yanked."""
        return next((v for v in self.versions if not v.yanked), None)

    @property
    def latest_text(self) -> str | None:
        """``latest.version_text``, without decoding or parsing the versions when avoidable.

        What search results should show: a large cached index keeps its versions on disk
        until something needs them.
        """
        if self.known_latest is not None:
            return self.known_latest or None
        latest = self.latest
        return latest.version_text if latest else None

    def get_version(self, text: str) -> ToolVersion | None:
        from packaging.version import Version

        wanted = Version(text)
        return next((v for v in self.versions if v.version == wanted), None)


def build_tool_version(tool: str, text: str, raw: Mapping[str, Any]) -> ToolVersion:
    plugin = raw.get("plugin", {})
    return ToolVersion(
        tool=tool,
        version_text=text,
        plugin=PluginRef(
            distribution=plugin.get("distribution", ""),
            specifier=plugin.get("version", ""),
            hashes=tuple(plugin.get("hashes", ())),
        ),
        dependency_texts=tuple(raw.get("dependencies", ())),
        conflict_texts=tuple(raw.get("conflicts", ())),
        dtm_text=raw.get("dtm", ""),
        yanked=bool(raw.get("yanked", False)),
        artifacts=raw.get("artifacts", {}),
    )


class Registry:
    """Every tool the configured indexes list, merged by priority (first index wins a name).

    ``entries`` may be a lazy mapping (see :class:`MergedEntries`); a plain dict is copied.
    ``dependents`` maps each index's name to its reverse dependencies, worked out when it was
    cached: a tool name -> the tools of that index whose newest non-yanked version depends on
    it. Without it (a registry built in memory) :meth:`needed_by` works them out itself.
    """

    def __init__(
        self,
        entries: Mapping[str, ToolEntry],
        sources: tuple[str, ...] = (),
        warnings: Iterable[str] = (),
        dependents: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
    ) -> None:
        self._entries = dict(entries) if isinstance(entries, dict) else entries
        self.sources = sources
        #: One line per index that could not be used as configured (never fetched, file gone),
        #: for the caller to show; loading itself never prints.
        self.warnings: list[str] = list(warnings)
        self._dependents = dependents

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[ToolEntry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, name: str) -> ToolEntry | None:
        return self._entries.get(name)

    def needed_by(self, name: str) -> list[str]:
        """The tools whose newest non-yanked version depends on ``name``, sorted.

        Only entries that won their name count: what a lower-priority index says about a tool
        that another index replaces does not make it need anything.
        """
        if self._dependents is None:
            self._dependents = _dependents_of(self._entries.values())
        found = set()
        for source, reverse in self._dependents.items():
            for dependent in reverse.get(name, ()):
                entry = self._entries.get(dependent)
                if entry is not None and entry.source == source:
                    found.add(dependent)
        return sorted(found)


def _dependents_of(entries: Iterable[ToolEntry]) -> dict[str, dict[str, list[str]]]:
    """Reverse dependencies by source, from the entries themselves (parses every version)."""
    found: dict[str, dict[str, list[str]]] = {}
    for entry in entries:
        latest = entry.latest
        for requirement in latest.dependencies if latest is not None else ():
            found.setdefault(entry.source, {}).setdefault(requirement.name, []).append(entry.name)
    return found


class MergedEntries(Mapping[str, ToolEntry]):
    """The entries of several indexes by precedence, without building any of them.

    A cached index builds an entry when it is first looked up (``dtm info`` wants one of ten
    thousand), so merging looks at names only.
    """

    def __init__(self, layers: Iterable[Mapping[str, ToolEntry]]) -> None:
        self._layers = list(layers)
        self._owner: dict[str, Mapping[str, ToolEntry]] = {}
        for layer in self._layers:
            for name in layer:
                self._owner.setdefault(name, layer)

    def __getitem__(self, name: str) -> ToolEntry:
        return self._owner[name][name]

    def __contains__(self, name: object) -> bool:
        return name in self._owner

    def __iter__(self) -> Iterator[str]:
        return iter(self._owner)

    def __len__(self) -> int:
        return len(self._owner)

    def values(self) -> ValuesView[ToolEntry]:
        # Layer by layer, so a cached index builds its entries in one pass (search wants all).
        merged = {
            name: entry
            for layer in self._layers
            for name, entry in layer.items()
            if self._owner[name] is layer
        }
        return merged.values()
