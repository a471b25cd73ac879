"""Reading one toolchain file: its text, its YAML with locations, and its checked top-level sections."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .diagnostics import config_error, known_keys_hint
from .expressions import (
    VAR_NAME,
    describe,
    is_container,
    item_location,
    key_location,
    plain,
    start_location,
    value_location,
)
from .model import Location
from .yamllimits import check_yaml_limits

FORMAT_VERSION = 1
TOP_KEYS = ("version", "vars", "state", "tools")
_YAML_HINT = ("fix the YAML syntax here; quote a value that contains ': ' or ' #', or that starts "
              "with one of { [ * & ! % @ `")


@dataclass
class Document:
    """One file's top-level sections, still as parsed YAML nodes."""

    label: str
    vars: list[tuple[str, Any, Location, Location]] = field(default_factory=list)
    state: tuple[Any, Location] | None = None
    tools: list[tuple[Any, Location]] = field(default_factory=list)


def toolchain_files(paths: Sequence[Path]) -> list[Path]:
    """The files ``-f`` names: each file as given, each directory's *.yaml and *.yml by name."""
    files: list[Path] = []
    for path in paths:
        where = Location(str(path), 1, 1)
        if path.is_dir():
            found = sorted((p for p in path.iterdir() if p.suffix in {".yaml", ".yml"} and p.is_file()),
                           key=lambda p: p.name)
            if not found:
                raise config_error(where, "the directory has no *.yaml or *.yml files",
                                   "point -f at a toolchain file, or put toolchain files in the directory")
            files.extend(found)
        elif not path.exists():
            raise config_error(where, "no such file or directory", "check the path given with -f")
        else:
            files.append(path)
    return files


def read_text(path: Path) -> str:
    """The file's UTF-8 text; a ConfigError at the file (or the first non-UTF-8 line) if unreadable."""
    where = Location(str(path), 1, 1)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise config_error(where, f"cannot read the file: {exc.strerror or exc}",
                           "check that the file exists and that you may read it") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise config_error(Location(str(path), line, 1), "the file is not UTF-8 text",
                           "save the file as UTF-8") from None


def parse_yaml(label: str, text: str) -> Any:
    """``text`` as round-trip YAML nodes, which keep the line and column of every value."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError
    from ruamel.yaml.reader import ReaderError

    try:
        check_yaml_limits(label, text)
        return YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(label, mark.line + 1, mark.column + 1) if mark else Location(label, 1, 1)
        problem = exc.problem or exc.context or str(exc)
        duplicate = re.match(r'found duplicate key "(.*)" with value', problem or "")
        if duplicate:
            raise config_error(where, f"duplicate key {duplicate[1]!r} in this mapping",
                               "a key may appear once in a mapping; remove or rename one of them") from None
        raise config_error(where, f"invalid YAML: {problem}", _YAML_HINT) from None
    except ReaderError as exc:
        # A character YAML forbids anywhere (NUL, most control characters); it has no mark.
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        raise config_error(Location(label, line, column),
                           f"invalid YAML: character U+{code:04X} is not allowed in a YAML file",
                           "remove it, or write it as an escape (\\x07) in a double-quoted string") from None


def top_level_sections(label: str, root: Any) -> Document:
    """Check the top level (keys, version, vars) of a parsed file and split it into its sections."""
    start = Location(label, 1, 1)
    if root is None:
        raise config_error(start, "the file is empty", f"start it with 'version: {FORMAT_VERSION}'")
    if not isinstance(root, Mapping):
        raise config_error(
            start_location(root, start),
            f"the top level must be a mapping, not {describe(plain(root, start))}",
            f"write 'version: {FORMAT_VERSION}' and 'tools:' at the top level, without indentation")
    doc = Document(label)
    for key in root:
        at = key_location(root, key, start)
        if isinstance(key, str) and key.startswith("x-"):
            continue  # extension keys hold YAML anchors for reuse; dtm ignores them
        if key not in TOP_KEYS:
            raise config_error(at, f"unknown top-level key {key!r}",
                               known_keys_hint(str(key), TOP_KEYS) + " (and x-… keys, which dtm ignores)")
    if "version" not in root:
        raise config_error(start_location(root, start), "version is missing",
                           f"add 'version: {FORMAT_VERSION}' at the top of the file")
    version = root["version"]
    if type(version) is not int or version != FORMAT_VERSION:
        hint = f"write 'version: {FORMAT_VERSION}' (a number)" if str(version) == str(FORMAT_VERSION) else \
            f"this dtm reads version {FORMAT_VERSION}; upgrade dtm, or write 'version: {FORMAT_VERSION}'"
        raise config_error(value_location(root, "version", start),
                           f"unsupported version {plain(version, start)!r}", hint)
    doc.vars = _vars(root, start)
    if root.get("state") is not None:
        doc.state = (root["state"], key_location(root, "state", start))
    tools = root.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise config_error(key_location(root, "tools", start),
                               f"tools must be a list, not {describe(tools)}",
                               "write each tool as a list item: '- tool: NAME'")
        doc.tools = [(item, item_location(tools, i, start)) for i, item in enumerate(tools)]
    return doc


def _vars(root: Any, start: Location) -> list[tuple[str, Any, Location, Location]]:
    node = root.get("vars")
    if node is None:
        return []
    if not isinstance(node, Mapping):
        raise config_error(key_location(root, "vars", start), f"vars must be a mapping, not {describe(node)}",
                           "write one variable per line, as NAME: VALUE")
    found = []
    for name in node:
        at = key_location(node, name, start)
        if not isinstance(name, str) or not VAR_NAME.fullmatch(name):
            raise config_error(at, f"invalid variable name {name!r}",
                               "variable names are letters, digits, _ and -, starting with a letter or _")
        child = node[name]
        found.append((name, child, at, at if is_container(child) else value_location(node, name, start)))
    return found
