"""The registry's data model: tools, their versions, and the plugin distribution providing each.

Built from validated index JSON (see ``docs/registry.md``). Versions are parsed lazily so
that a search over a large index does not parse every version string of every tool.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, ValuesView
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from ..records import Frozen, fill

if TYPE_CHECKING:
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

_V = TypeVar("_V")

# Plain classes, not dataclasses: ``dtm search`` imports this module on every start (see
# :mod:`dtm_core.records`). They keep the dataclasses' behaviour: frozen, equal by value.


class PluginRef(Frozen):
    """The plugin distribution that provides a tool version, and how to install it safely.

    ``specifier`` is a PEP 440 specifier (``>=0.1,<1``); when ``hashes`` are listed it pins one
    version with ``==`` and ``hashes`` are ``sha256:<hex>`` of every file pip may install.
    """

    __slots__ = _fields = ("distribution", "specifier", "hashes")
    distribution: str
    specifier: str
    hashes: tuple[str, ...]

    def __init__(self, distribution: str, specifier: str = "", hashes: tuple[str, ...] = ()) -> None:
        fill(self, distribution, specifier, hashes)

    @property
    def requirement(self) -> str:
        """The pip requirement string: ``dtm-plugins-argocd>=0.1,<1``."""
        return f"{self.distribution}{self.specifier}"


class ToolVersion(Frozen):
    """One installable version of a tool, as an index lists it."""

    # No __slots__: the cached properties below live in the instance __dict__.
    _fields = ("tool", "version_text", "plugin", "dependency_texts", "conflict_texts", "dtm_text",
               "yanked", "artifacts")
    tool: str
    version_text: str
    plugin: PluginRef
    dependency_texts: tuple[str, ...]
    conflict_texts: tuple[str, ...]
    dtm_text: str
    yanked: bool
    #: Tool-specific data the plugin reads (release manifest URL and sha256, for instance).
    artifacts: Mapping[str, Any]

    def __init__(
        self,
        tool: str,
        version_text: str,
        plugin: PluginRef,
        dependency_texts: tuple[str, ...] = (),
        conflict_texts: tuple[str, ...] = (),
        dtm_text: str = "",
        yanked: bool = False,
        artifacts: Mapping[str, Any] | None = None,
    ) -> None:
        fields = self.__dict__
        fields["tool"] = tool
        fields["version_text"] = version_text
        fields["plugin"] = plugin
        fields["dependency_texts"] = dependency_texts
        fields["conflict_texts"] = conflict_texts
        fields["dtm_text"] = dtm_text
        fields["yanked"] = yanked
        fields["artifacts"] = {} if artifacts is None else artifacts

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


class ToolEntry(Frozen):
    """A tool (or, with ``kind == "stack"``, a named set of tools) and its versions."""

    # ``known_latest`` is left out: a shortcut, not part of the entry's value (nor its repr).
    _fields = ("name", "description", "tags", "homepage", "kind", "raw_versions", "source",
               "starter")
    name: str
    description: str
    tags: tuple[str, ...]
    homepage: str
    kind: str
    #: Raw version objects by version string, as the index lists them.
    raw_versions: Mapping[str, Mapping[str, Any]]
    #: Name of the index this entry came from (shown by ``dtm info``).
    source: str
    #: Stack only: the commented starter config ``dtm init --stack`` writes.
    starter: str
    #: The newest non-yanked version string when the loader knew it without parsing every
    #: version ("" when there is none); ``None`` lets :attr:`latest_text` work it out.
    known_latest: str | None

    def __init__(
        self,
        name: str,
        description: str,
        tags: tuple[str, ...] = (),
        homepage: str = "",
        kind: str = "tool",
        raw_versions: Mapping[str, Mapping[str, Any]] | None = None,
        source: str = "",
        starter: str = "",
        known_latest: str | None = None,
    ) -> None:
        # Straight into __dict__: a large cached index builds ten thousand of these per search.
        fields = self.__dict__
        fields["name"] = name
        fields["description"] = description
        fields["tags"] = tags
        fields["homepage"] = homepage
        fields["kind"] = kind
        fields["raw_versions"] = {} if raw_versions is None else raw_versions
        fields["source"] = source
        fields["starter"] = starter
        fields["known_latest"] = known_latest

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


class LazyMapping(Mapping[str, _V]):
    """A mapping read (or worked out) on first use: ``read(*args)`` is called at most once."""

    __slots__ = ("_read", "_args", "_value")

    def __init__(self, read: Callable[..., Mapping[str, _V]], *args: Any) -> None:
        self._read = read
        self._args = args
        self._value: Mapping[str, _V] | None = None

    def _get(self) -> Mapping[str, _V]:
        if self._value is None:
            self._value = self._read(*self._args)
        return self._value

    def __getitem__(self, key: str) -> _V:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())
