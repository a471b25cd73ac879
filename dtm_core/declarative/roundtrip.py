"""Line-preserving round-trip YAML: ruamel loading and dumping, and the comments between elements.

Two layers keep an edit from touching what it did not change. ruamel.yaml's round-trip
mode keeps comments, key order and quotes, but it files the comment *after* an element on
the element's last scalar, so adding or removing an element would drag comments that belong
to the next one (or to the next section) along with it: :func:`get_tail`/:func:`set_tail`
move those comments explicitly, and :func:`insert`, :func:`swap`, :func:`remove` and
:func:`empty_list` edit a container through them. And ruamel normalises a few spellings on
output (``key:   v``, ``~``, flow-collection spacing), so :func:`rewrite` takes from its output
only the lines the edit changed and keeps every other line of the original byte for byte.
"""

from __future__ import annotations

import difflib
import io
import re
from collections.abc import Callable
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString
from ruamel.yaml.tokens import CommentToken

from ..errors import ConfigError

__all__ = ["empty_list", "get_tail", "insert", "load_round_trip", "remove", "rewrite", "round_trip_yaml",
           "set_tail", "swap"]

_DASH = re.compile(r"^( *)-( +)\S")
_KEY_ONLY = re.compile(r"^( *)[^\s#-][^#]*?:\s*(#.*)?$")
_KEY = re.compile(r"^( *)[^\s#-]")
_RUAMEL_DEFAULT = (2, 2, 0)
# A new file follows the style of dtm's docs and starters.
_NEW_FILE_STYLE = (2, 4, 2)
_Key = str | int
_Container = CommentedMap | CommentedSeq


# --- reading and dumping ---------------------------------------------------------------------


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


def get_tail(container: _Container, key: _Key) -> str:
    """The lines after element ``key`` up to the next element: blank lines and comments."""
    holder, slot_key, position, has_eol = _slot(container, key)
    slots = holder.ca.items.get(slot_key)
    token = slots[position] if slots and len(slots) > position else None
    if token is None:
        return ""
    text: str = token.value
    return text.partition("\n")[2] if has_eol else text


def set_tail(container: _Container, key: _Key, gap: str) -> None:
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


def insert(container: _Container, index: int, key: str | None, value: Any) -> None:
    """Insert at ``index``; the comment above the element that was there stays above it, and
    what followed the old last element (the next section's comment) follows the new one."""
    size = len(container)
    keys = _keys(container)
    carried = ""
    if size and index == size:
        carried = get_tail(container, keys[-1])
        set_tail(container, keys[-1], "")
    elif 0 < index < size:
        rest, carried = _split_lead(get_tail(container, keys[index - 1]))
        set_tail(container, keys[index - 1], rest)
    if isinstance(container, CommentedMap):
        container.ca.items.pop(key, None)
        container.insert(index, key, value)
        set_tail(container, key, carried)  # type: ignore[arg-type]
    else:
        container.insert(index, value)
        set_tail(container, index, carried)


def swap(container: _Container, key: _Key, value: Any) -> None:
    """Replace a value, keeping what follows it."""
    carried = get_tail(container, key)
    set_tail(container, key, "")
    container[key] = value
    set_tail(container, key, carried)


def remove(container: _Container, key: _Key) -> str:
    """Delete an element with the comment lines directly above it; keep what followed it.

    Returns what followed it when the container is left empty, for the caller to place.
    """
    keys = _keys(container)
    index = keys.index(key)
    after = get_tail(container, key)
    if index:
        rest, _ = _split_lead(get_tail(container, keys[index - 1]))
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
        set_tail(container, keys[index - 1], rest + after if "#" in rest else after)
    elif isinstance(container, CommentedSeq):
        _set_head(container, rest + (after.lstrip("\r\n") if not rest else after))
    return ""


def empty_list(root: CommentedMap, key: str, leftover: str) -> None:
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
        set_tail(root, previous, get_tail(root, previous) + before)
    empty = CommentedSeq()
    empty.fa.set_flow_style()
    root[key] = empty
    set_tail(root, key, leftover)

