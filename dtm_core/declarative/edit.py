"""Round-trip edits of a team's toolchain file (``dtm install/remove -f``), keeping the rest as written.

Two layers keep an edit from touching what it did not change. ruamel.yaml's round-trip
mode keeps comments, key order and quotes, but it files the comment *after* an element on
the element's last scalar, so adding or removing an element would drag comments that belong
to the next one (or to the next section) along with it: :func:`_get_tail`/:func:`_set_tail`
move those comments explicitly. And ruamel normalises a few spellings on output (``key:   v``,
``~``, flow-collection spacing), so :func:`rewrite` takes from its output only the lines the
edit changed and keeps every other line of the original byte for byte.
"""

from __future__ import annotations

import difflib
import io
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)
from ruamel.yaml.tokens import CommentToken

from ..errors import ConfigError, InvalidInputError
from .lockfile import write_text_atomic

__all__ = ["add_instance", "load_round_trip", "remove_instance", "rewrite", "round_trip_yaml"]

_DASH = re.compile(r"^( *)-( +)\S")
_KEY_ONLY = re.compile(r"^( *)[^\s#-][^#]*?:\s*(#.*)?$")
_KEY = re.compile(r"^( *)[^\s#-]")
_RUAMEL_DEFAULT = (2, 2, 0)
# A new file follows the style of dtm's docs and starters.
_NEW_FILE_STYLE = (2, 4, 2)
_SHAPE = "see 'dtm init' for the shape of a toolchain file"
_Key = str | int
_Container = CommentedMap | CommentedSeq


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
            _swap(root, "tools", CommentedSeq([item]))
        else:
            _insert(root, len(root), "tools", CommentedSeq([item]))
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
                leftover = _remove(tools, index)
                if not tools:  # an empty list, not a null that the loader would refuse
                    _empty_list(root, "tools", leftover)
                    break
        gone = set(removed) | {a.partition(".")[0] for a in removed if a.endswith(".default")}
        for item in tools if isinstance(root.get("tools"), CommentedSeq) else ():
            depends = item.get("depends_on") if isinstance(item, CommentedMap) else None
            if not isinstance(depends, CommentedSeq) or not gone.intersection(depends):
                continue
            if gone.issuperset(depends):  # the whole key goes, and what followed it stays
                _remove(item, "depends_on")
                continue
            for index in reversed(range(len(depends))):
                if depends[index] in gone:
                    _remove(depends, index)
        return doc

    new_text = rewrite(text, change, source=str(path))
    if not removed:
        wanted = tool if name is None else f"{tool}.{name}"
        raise InvalidInputError(f"{path} has no tool {wanted!r} to remove",
                                hint=f"'dtm plan -f {path}' lists the instances the file declares")
    _write(path, new_text)
    return removed


# --- reading, dumping and writing ----------------------------------------------------------


def round_trip_yaml(text: str, *, new_file: bool = False) -> YAML:
    """A round-trip YAML set up to write like ``text``: its indentation and document start."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line the team wrote on one line
    mapping, sequence, offset = _NEW_FILE_STYLE if new_file else _detect_indent(text)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    first = next((line for line in _lines(text) if line.strip() and not line.lstrip().startswith("#")),
                 "")
    yaml.explicit_start = first.startswith("---")
    return yaml


def rewrite(text: str, change: Callable[[Any], Any], *, new_file: bool = False,
            source: str = "<config>") -> str:
    """Load ``text``, let ``change`` edit (or replace) the document, return the new text.

    Lines the edit did not change are taken from ``text`` itself, not from ruamel's output.
    """
    yaml = round_trip_yaml(text, new_file=new_file)
    doc = _load(yaml, text, source)
    before = _dump(yaml, doc)
    was_empty = doc is None
    doc = change(doc)
    after = _dump(yaml, doc)
    newline = "\r\n" if "\r\n" in text else "\n"
    if was_empty:  # only comments, or nothing: keep them above the new document
        head = text if not text or text.endswith("\n") else text + newline
        return head + after.replace("\n", newline)
    original = _lines(text)
    if original and not original[-1].endswith("\n"):
        original[-1] += newline
    old, new = _lines(before), _lines(after)
    if len(original) != len(old):  # ruamel joined or split lines: its output is all we have
        return after.replace("\n", newline) if newline != "\n" else after
    merged: list[str] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            merged.extend(original[i1:i2])
        else:
            merged.extend(line[:-1] + newline if line.endswith("\n") else line for line in new[j1:j2])
    result = "".join(merged)
    # Taking a line from the original is only safe where it means what ruamel's line means.
    if _load(round_trip_yaml(result), result, source) != _load(round_trip_yaml(after), after, source):
        return after
    return result


def load_round_trip(text: str, *, source: str) -> Any:
    """Parse ``text`` as :func:`rewrite` does; ConfigError ``source:line:column: …`` if not YAML."""
    return _load(round_trip_yaml(text), text, source)


def _lines(text: str) -> list[str]:
    """Lines with their ends, split at "\n" only: str.splitlines() also splits at characters
    such as U+0085 that YAML 1.2 keeps inside a string, and would misalign the merge."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _load(yaml: YAML, text: str, source: str) -> Any:
    try:
        return yaml.load(text)
    except YAMLError as exc:
        mark = problem = None
        if isinstance(exc, MarkedYAMLError):
            mark, problem = exc.problem_mark or exc.context_mark, exc.problem or exc.context
        where = f"{mark.line + 1}:{mark.column + 1}" if mark else "1:1"
        raise ConfigError(f"{source}:{where}: invalid YAML: {problem or exc}",
                          hint="fix the file, then run the command again") from None


def _dump(yaml: YAML, doc: Any) -> str:
    if doc is None:
        return ""
    stream = io.StringIO()
    yaml.dump(doc, stream)
    return stream.getvalue()


def _detect_indent(text: str) -> tuple[int, int, int]:
    """(mapping, sequence, offset) as ``yaml.indent`` takes them, read from the first block
    mapping and block sequence nested under a key; ruamel's defaults for what is not found."""
    mapping = sequence = offset = None
    parent: re.Match[str] | None = None  # the previous significant line, when it is "key:"
    for line in _lines(text):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        dash = _DASH.match(line)
        if parent is not None:
            base = len(parent.group(1))
            if dash and sequence is None and len(dash.group(1)) >= base:
                offset = len(dash.group(1)) - base
                sequence = offset + 1 + len(dash.group(2))
            elif not dash and mapping is None and (key := _KEY.match(line)) and len(key.group(1)) > base:
                mapping = len(key.group(1)) - base
        if mapping is not None and sequence is not None:
            break
        parent = _KEY_ONLY.match(line) if not dash else None
    return (mapping or _RUAMEL_DEFAULT[0],
            sequence if sequence is not None else _RUAMEL_DEFAULT[1],
            offset if offset is not None else _RUAMEL_DEFAULT[2])


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


def _empty_list(root: CommentedMap, key: str, leftover: str) -> None:
    """Make ``key: []`` of a block list that lost its last item."""
    _set_head(root[key], "")
    slots = root.ca.items.get(key)
    # ruamel files the blank lines above "key:" as a comment before its block value; before a
    # flow value it would print them after "key:", so they move to the previous key's tail.
    before = "".join(t.value for t in slots[1] or ()) if slots and slots[1] else ""
    if slots:
        slots[1] = slots[3] = None
    keys = list(root)
    if before and keys.index(key):
        previous = keys[keys.index(key) - 1]
        _set_tail(root, previous, _get_tail(root, previous) + before)
    empty = CommentedSeq()
    empty.fa.set_flow_style()
    root[key] = empty
    _set_tail(root, key, leftover)


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
    gaps = [_get_tail(tools, index) for index in range(len(tools) - 1)]
    spaced = bool(gaps) and all(gap.startswith(("\n", "\r\n")) for gap in gaps)
    _insert(tools, len(tools), None, item)
    if spaced:
        _set_tail(tools, len(tools) - 2, "\n")


def _update_item(item: CommentedMap, version: str, options: Mapping[str, Any]) -> None:
    if version and "version" in item:
        if item["version"] != version:
            _swap(item, "version", _to_yaml(version, like=item["version"]))
    elif version:
        _insert(item, _position_after(item, ("tool", "name")), "version", version)
    if not options:
        return
    if isinstance(item.get("options"), CommentedMap) and not item["options"].fa.flow_style():
        _merge(item["options"], options)
    elif "options" in item:
        current = item["options"]
        merged = _to_yaml(dict(current) | dict(options) if isinstance(current, Mapping) else options)
        if isinstance(current, CommentedMap) and current.fa.flow_style():
            merged.fa.set_flow_style()
        _swap(item, "options", merged)
    else:
        _insert(item, _position_after(item, ("tool", "name", "version")), "options", _to_yaml(options))


def _position_after(item: CommentedMap, keys: tuple[str, ...]) -> int:
    order = list(item)
    return max((order.index(key) + 1 for key in keys if key in item), default=len(item))


def _merge(mapping: CommentedMap, updates: Mapping[str, Any]) -> None:
    for key, value in updates.items():
        if key not in mapping:
            _insert(mapping, len(mapping), key, _to_yaml(value))
        elif isinstance(mapping[key], CommentedMap) and isinstance(value, Mapping) and mapping[key]:
            _merge(mapping[key], value)
        elif mapping[key] != value:
            _swap(mapping, key, _to_yaml(value, like=mapping[key]))


def _to_yaml(value: Any, like: Any = None) -> Any:
    """``value`` as ruamel nodes; a string in the quote style ``like`` was written in."""
    if isinstance(value, Mapping):
        return CommentedMap((key, _to_yaml(item)) for key, item in value.items())
    if isinstance(value, list | tuple):
        return CommentedSeq(_to_yaml(item) for item in value)
    if isinstance(value, str) and isinstance(like, DoubleQuotedScalarString | SingleQuotedScalarString):
        return type(like)(value)
    return value


# --- moving the comments that follow an element ----------------------------------------------


def _is_block(node: Any) -> bool:
    return isinstance(node, CommentedMap | CommentedSeq) and len(node) > 0 and not node.fa.flow_style()


def _keys(container: _Container) -> list[_Key]:
    return list(container) if isinstance(container, CommentedMap) else list(range(len(container)))


def _slot(container: _Container, key: _Key) -> tuple[_Container, _Key, int, bool]:
    """Where the comment after ``container[key]`` lives, and whether its first line is the
    value's own end-of-line comment (not so after a block scalar, which ends its own line)."""
    value = container[key]
    while _is_block(value):
        container, key = value, _keys(value)[-1]
        value = container[key]
    position = 2 if isinstance(container, CommentedMap) else 0
    return container, key, position, not isinstance(value, LiteralScalarString | FoldedScalarString)


def _get_tail(container: _Container, key: _Key) -> str:
    """The lines after element ``key`` up to the next element: blank lines and comments."""
    holder, slot_key, position, has_eol = _slot(container, key)
    slots = holder.ca.items.get(slot_key)
    token = slots[position] if slots and len(slots) > position else None
    if token is None:
        return ""
    text: str = token.value
    return text.partition("\n")[2] if has_eol else text


def _set_tail(container: _Container, key: _Key, gap: str) -> None:
    holder, slot_key, position, has_eol = _slot(container, key)
    slots = holder.ca.items.setdefault(slot_key, [None, None, None, None])
    token = slots[position]
    eol = ""
    if has_eol:
        eol = token.value.partition("\n")[0] + "\n" if token is not None else "\n"
    value = eol + gap
    if value in ("", "\n"):
        slots[position] = None
    elif token is not None:
        token.value = value
    else:
        slots[position] = CommentToken(value, start_mark=CommentMark(0))
    flow = holder[slot_key]
    if isinstance(flow, CommentedMap | CommentedSeq):
        # The emitter reads a flow collection's trailing comment from the collection itself.
        flow.ca.comment = [slots[position], *((flow.ca.comment or [])[1:] or [None])]


def _split_lead(gap: str) -> tuple[str, str]:
    """(the rest, the comment lines directly above the next element, which describe it)."""
    lines = _lines(gap)
    cut = len(lines)
    while cut and lines[cut - 1].strip().startswith("#"):
        cut -= 1
    return "".join(lines[:cut]), "".join(lines[cut:])


def _head(seq: CommentedSeq) -> str:
    tokens = seq.ca.comment[1] if seq.ca.comment and len(seq.ca.comment) > 1 else None
    return "".join(" " * t.start_mark.column + t.value if t.value.strip() else t.value for t in tokens or ())


def _set_head(seq: CommentedSeq, text: str) -> None:
    lines = _lines(text)
    tokens = [CommentToken(line.lstrip(" "), start_mark=CommentMark(len(line) - len(line.lstrip(" "))))
              for line in lines]
    if seq.ca.comment and len(seq.ca.comment) > 1 and seq.ca.comment[1] is not None:
        seq.ca.comment[1][:] = tokens  # the parent key holds the same list: change it in place
    elif tokens:
        seq.ca.comment = [None, tokens]


def _insert(container: _Container, index: int, key: str | None, value: Any) -> None:
    """Insert at ``index``; the comment above the element that was there stays above it, and
    what followed the old last element (the next section's comment) follows the new one."""
    size = len(container)
    keys = _keys(container)
    carried = ""
    if size and index == size:
        carried = _get_tail(container, keys[-1])
        _set_tail(container, keys[-1], "")
    elif 0 < index < size:
        rest, carried = _split_lead(_get_tail(container, keys[index - 1]))
        _set_tail(container, keys[index - 1], rest)
    if isinstance(container, CommentedMap):
        container.ca.items.pop(key, None)
        container.insert(index, key, value)
        _set_tail(container, key, carried)  # type: ignore[arg-type]
    else:
        container.insert(index, value)
        _set_tail(container, index, carried)


def _swap(container: _Container, key: _Key, value: Any) -> None:
    """Replace a value, keeping what follows it."""
    carried = _get_tail(container, key)
    _set_tail(container, key, "")
    container[key] = value
    _set_tail(container, key, carried)


def _remove(container: _Container, key: _Key) -> str:
    """Delete an element with the comment lines directly above it; keep what followed it.

    Returns what followed it when the container is left empty, for the caller to place.
    """
    keys = _keys(container)
    index = keys.index(key)
    after = _get_tail(container, key)
    if index:
        rest, _ = _split_lead(_get_tail(container, keys[index - 1]))
    elif isinstance(container, CommentedSeq):
        rest, _ = _split_lead(_head(container))
    else:
        rest = ""
    del container[key]
    if isinstance(container, CommentedMap):
        container.ca.items.pop(key, None)
    if not container:
        return after
    if index:
        # Only one separator survives between the neighbours: the removed element's own.
        _set_tail(container, keys[index - 1], rest + after if "#" in rest else after)
    elif isinstance(container, CommentedSeq):
        _set_head(container, rest + (after.lstrip("\r\n") if not rest else after))
    return ""
