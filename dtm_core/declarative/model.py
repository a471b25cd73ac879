"""The toolchain model: what a configuration file asks for, with where each part was written.

Loaders build it from YAML (``config.py``); the planner compares it with state. Output
references stay symbolic (:class:`OutputRef`, :class:`Template`) until apply time, when the
instance they point at has run; everything else is substituted at load time, into parsed
values, never into raw text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Location:
    """A place in a configuration file, 1-based, printed as ``file:line:column``."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class OutputRef:
    """``${{ TOOL.INSTANCE.outputs.KEY }}``: a value another instance produces when it runs."""

    address: str
    output: str
    location: Location

    def __str__(self) -> str:
        return f"${{{{ {self.address}.outputs.{self.output} }}}}"


@dataclass(frozen=True)
class Template:
    """A string with output references inside other text: joined once the outputs are known."""

    parts: tuple[str | OutputRef, ...]

    def __str__(self) -> str:
        return "".join(str(p) for p in self.parts)


@dataclass
class InstanceSpec:
    """One tool instance the configuration asks for."""

    tool: str
    name: str = "default"
    #: A PEP 440 specifier (``>=3.4``), or "" for any version.
    version: str = ""
    #: Options after variable substitution; may hold OutputRef/Template values.
    options: dict[str, Any] = field(default_factory=dict)
    #: Addresses this instance depends on: explicit ones and those its references imply.
    depends_on: list[str] = field(default_factory=list)
    location: Location = field(default_factory=lambda: Location("<config>", 1, 1))
    #: Dotted option path (``starter.language``) -> where its value was written.
    option_locations: dict[str, Location] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return f"{self.tool}.{self.name}"

    def location_of(self, option_path: str) -> Location:
        """Where ``option_path`` (or its nearest written parent) is in the file."""
        path = option_path
        while path:
            if path in self.option_locations:
                return self.option_locations[path]
            path = path.rpartition(".")[0]
        return self.location


@dataclass
class Toolchain:
    """Everything one or more configuration files describe."""

    instances: dict[str, InstanceSpec] = field(default_factory=dict)
    #: The ``state`` block as written (backend, url, workspace …), empty for the default.
    state: dict[str, Any] = field(default_factory=dict)
    #: Where the state block's url (else the block) is written: its errors are told there.
    state_location: Location | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
