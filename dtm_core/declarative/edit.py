"""Edits of a team's toolchain file (``dtm install/remove -f``): adding, updating and removing tools.

The file is rewritten through :mod:`.roundtrip`, which keeps every line an edit did not
change as it was written, comments included.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from ..errors import ConfigError, InvalidInputError
from .lockfile import write_text_atomic
from .roundtrip import (
    empty_list,
    get_tail,
    insert,
    load_round_trip,
    remove,
    rewrite,
    round_trip_yaml,
    set_tail,
    swap,
)

# The round-trip names stay importable from here: they were public here before roundtrip.py
# existed, and starter.py still imports them from this module.
__all__ = ["add_instance", "load_round_trip", "remove_instance", "rewrite", "round_trip_yaml"]

_SHAPE = "see 'dtm init' for the shape of a toolchain file"


def add_instance(path: Path | str, tool: str, name: str = "default", version: str = "",
                 options: Mapping[str, Any] | None = None) -> None:
    """Add ``tool`` (instance ``name``) to the file's ``tools:``, or update it when it is there.

    Updating sets the version when one is given and merges ``options`` into the existing
    ones. A missing file is created with ``version: 1``.
    """
    path = Path(path)
    text = _read(path, missing_ok=True)

    def change(doc: Any) -> Any:
        if doc is None:
            doc = CommentedMap([("version", 1)])
        root = _root(doc, path)
        tools = root.get("tools")
        if tools is not None and not isinstance(tools, CommentedSeq):
            line, column = root.lc.value("tools")
            raise ConfigError(f"{path}:{line + 1}:{column + 1}: 'tools' must be a list of tools", hint=_SHAPE)
        found = next((item for item in tools or () if _matches(item, tool, name)), None)
        item = _new_item(tool, name, version, options or {})
        if found is not None:
            _update_item(found, version, options or {})
        elif tools:
            _append_item(tools, item)
        elif "tools" in root:  # "tools:" or "tools: []"
            swap(root, "tools", CommentedSeq([item]))
        else:
            insert(root, len(root), "tools", CommentedSeq([item]))
        return doc

    _write(path, rewrite(text, change, new_file=not text.strip(), source=str(path)))


def remove_instance(path: Path | str, tool: str, name: str | None) -> list[str]:
    """Remove ``tool.name`` (every instance of ``tool`` when ``name`` is None) from the file.

    Also drops the removed addresses from other items' ``depends_on``. Returns the removed
    addresses; raises InvalidInputError when nothing matched.
    """
    path = Path(path)
    text = _read(path, missing_ok=False)
    removed: list[str] = []

    def change(doc: Any) -> Any:
        root = _root(doc, path)
        tools = root.get("tools")
        if not isinstance(tools, CommentedSeq):
            return doc
        for index in reversed(range(len(tools))):
            item = tools[index]
            if _matches(item, tool, name):
                removed.insert(0, f"{tool}.{item.get('name', 'default')}")
                leftover = remove(tools, index)
                if not tools:  # an empty list, not a null that the loader would refuse
                    empty_list(root, "tools", leftover)
                    break
        gone = set(removed) | {a.partition(".")[0] for a in removed if a.endswith(".default")}
        for item in tools if isinstance(root.get("tools"), CommentedSeq) else ():
            depends = item.get("depends_on") if isinstance(item, CommentedMap) else None
            if not isinstance(depends, CommentedSeq) or not gone.intersection(depends):
                continue
            if gone.issuperset(depends):  # the whole key goes, and what followed it stays
                remove(item, "depends_on")
                continue
            for index in reversed(range(len(depends))):
                if depends[index] in gone:
                    remove(depends, index)
        return doc

    new_text = rewrite(text, change, source=str(path))
    if not removed:
        wanted = tool if name is None else f"{tool}.{name}"
        raise InvalidInputError(f"{path} has no tool {wanted!r} to remove",
                                hint=f"'dtm plan -f {path}' lists the instances the file declares")
    _write(path, new_text)
    return removed


# --- reading and writing the file ------------------------------------------------------------


def _read(path: Path, *, missing_ok: bool) -> str:
    try:
        return path.read_bytes().decode("utf-8")  # bytes: keep a CRLF file's line endings
    except FileNotFoundError:
        if missing_ok:
            return ""
        raise InvalidInputError(f"{path} does not exist", hint="check the path given with -f") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read {path}: {exc}", hint="check the path given with -f") from None


def _write(path: Path, text: str) -> None:
    write_text_atomic(path, text, mode=path.stat().st_mode & 0o7777 if path.exists() else 0o644)


def _root(doc: Any, path: Path) -> CommentedMap:
    if not isinstance(doc, CommentedMap):
        line, column = (doc.lc.line + 1, doc.lc.col + 1) if hasattr(doc, "lc") else (1, 1)
        raise ConfigError(f"{path}:{line}:{column}: expected a mapping with 'version' and 'tools' "
                          "at the top level", hint=_SHAPE)
    return doc


# --- items -----------------------------------------------------------------------------------


def _matches(item: Any, tool: str, name: str | None) -> bool:
    if not isinstance(item, CommentedMap) or item.get("tool") != tool:
        return False
    return name is None or item.get("name", "default") == name


def _new_item(tool: str, name: str, version: str, options: Mapping[str, Any]) -> CommentedMap:
    item = CommentedMap([("tool", tool)])
    if name != "default":
        item["name"] = name
    if version:
        item["version"] = version
    if options:
        item["options"] = _to_yaml(options)
    return item


def _append_item(tools: CommentedSeq, item: CommentedMap) -> None:
    # Keep the team's spacing: a blank line before the new item when items are spaced so.
    gaps = [get_tail(tools, index) for index in range(len(tools) - 1)]
    spaced = bool(gaps) and all(gap.startswith(("\n", "\r\n")) for gap in gaps)
    insert(tools, len(tools), None, item)
    if spaced:
        set_tail(tools, len(tools) - 2, "\n")


def _update_item(item: CommentedMap, version: str, options: Mapping[str, Any]) -> None:
    if version and "version" in item:
        if item["version"] != version:
            swap(item, "version", _to_yaml(version, like=item["version"]))
    elif version:
        insert(item, _position_after(item, ("tool", "name")), "version", version)
    if not options:
        return
    if isinstance(item.get("options"), CommentedMap) and not item["options"].fa.flow_style():
        _merge(item["options"], options)
    elif "options" in item:
        current = item["options"]
        merged = _to_yaml(dict(current) | dict(options) if isinstance(current, Mapping) else options)
        if isinstance(current, CommentedMap) and current.fa.flow_style():
            merged.fa.set_flow_style()
        swap(item, "options", merged)
    else:
        insert(item, _position_after(item, ("tool", "name", "version")), "options", _to_yaml(options))


def _position_after(item: CommentedMap, keys: tuple[str, ...]) -> int:
    order = list(item)
    return max((order.index(key) + 1 for key in keys if key in item), default=len(item))


def _merge(mapping: CommentedMap, updates: Mapping[str, Any]) -> None:
    for key, value in updates.items():
        if key not in mapping:
            insert(mapping, len(mapping), key, _to_yaml(value))
        elif isinstance(mapping[key], CommentedMap) and isinstance(value, Mapping) and mapping[key]:
            _merge(mapping[key], value)
        elif mapping[key] != value:
            swap(mapping, key, _to_yaml(value, like=mapping[key]))


def _to_yaml(value: Any, like: Any = None) -> Any:
    """``value`` as ruamel nodes; a string in the quote style ``like`` was written in."""
    if isinstance(value, Mapping):
        return CommentedMap((key, _to_yaml(item)) for key, item in value.items())
    if isinstance(value, list | tuple):
        return CommentedSeq(_to_yaml(item) for item in value)
    if isinstance(value, str) and isinstance(like, DoubleQuotedScalarString | SingleQuotedScalarString):
        return type(like)(value)
    return value
