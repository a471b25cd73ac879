"""Decoding the JSON files people hand dtm (indexes, lock files, settings), every fault located.

``json.loads`` alone lets three faults escape as the wrong exception: nesting deeper than the
interpreter's stack (RecursionError), an integer of more than 4300 digits (ValueError), and
text that is not UTF-8 (UnicodeDecodeError); and it silently keeps the last of two equal
keys. :func:`decode_json` turns each into a :class:`JsonFault` saying where, so the caller can
word it as its own error (``ConfigError``, ``RegistryIndexError``) with a line or a JSON path.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["JsonFault", "decode_json", "locate", "render_path"]


class JsonFault(Exception):
    """Why a JSON text cannot be used: at ``line``/``column``, or at the key ``path``."""

    def __init__(self, reason: str, *, line: int | None = None, column: int | None = None,
                 path: tuple[str | int, ...] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.column = column
        self.path = path


def decode_json(raw: bytes | str) -> Any:
    """``raw`` decoded; a :class:`JsonFault` for bad JSON, deep nesting, huge numbers or duplicate keys."""
    repeated: list[tuple[dict[str, Any], str]] = []

    def refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        built = dict(pairs)
        if len(built) != len(pairs) and not repeated:
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    repeated.append((built, key))
                    break
                seen.add(key)
        return built

    try:
        data = json.loads(raw, object_pairs_hook=refuse_duplicates)
    except json.JSONDecodeError as exc:
        raise JsonFault(exc.msg, line=exc.lineno, column=exc.colno) from None
    except UnicodeDecodeError as exc:
        text = raw if isinstance(raw, bytes) else b""
        line = text.count(b"\n", 0, exc.start) + 1
        raise JsonFault(f"not UTF-8 text (byte {exc.start})", line=line,
                        column=exc.start - (text.rfind(b"\n", 0, exc.start) + 1) + 1) from None
    except RecursionError:
        line, column = _deepest_point(raw)
        raise JsonFault("arrays and objects nest too deeply", line=line, column=column) from None
    except ValueError as exc:  # int() of a number with more digits than Python allows
        raise JsonFault(str(exc).split(";")[0], line=1, column=1) from None
    if repeated:
        obj, key = repeated[0]
        path = _path_to(data, obj) or ()
        raise JsonFault(f"key {key!r} appears twice in this object (JSON would keep only the last)",
                        path=(*path, key))
    return data


def _deepest_point(raw: bytes | str, limit: int = 500) -> tuple[int, int]:
    """Where the nesting of ``raw`` first passes ``limit`` levels (strings skipped)."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    depth = line = 1
    column = 0
    in_string = escaped = False
    for char in text:
        column += 1
        if char == "\n":
            line, column = line + 1, 0
        elif in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return line, column
        elif char in "]}":
            depth -= 1
    return 1, 1


def _path_to(data: Any, target: Any) -> tuple[str | int, ...] | None:
    """The keys that lead from ``data`` to the very object ``target`` (walked without recursion)."""
    pending: list[tuple[Any, tuple[str | int, ...]]] = [(data, ())]
    while pending:
        node, path = pending.pop()
        if node is target:
            return path
        if isinstance(node, dict):
            pending.extend((child, (*path, key)) for key, child in node.items())
        elif isinstance(node, list):
            pending.extend((child, (*path, i)) for i, child in enumerate(node))
    return None


def locate(raw: bytes | str, path: tuple[str | int, ...]) -> tuple[int, int]:
    """Line and column (1-based) of the value at ``path`` in the valid JSON ``raw``.

    For messages about a value that decoded but is wrong; walks only the keys on the way,
    skipping every other value whole. Where the path ends early (a key that is missing), the
    deepest value found is named.
    """
    # As json.loads reads bytes: UTF-8, or UTF-16/32 told apart by their first bytes.
    text = raw.decode(json.detect_encoding(raw), "replace") if isinstance(raw, bytes) else raw
    text = text.removeprefix("\ufeff")
    decoder = json.JSONDecoder()
    at = _skip_space(text, 0)
    for part in path:
        opening = text[at:at + 1]
        if opening not in ("[", "{"):
            break
        found = _child(decoder, text, at, part, keyed=opening == "{")
        if found is None:
            break
        at = found
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1


def _child(decoder: json.JSONDecoder, text: str, at: int, part: str | int, *, keyed: bool) -> int | None:
    """Where the member ``part`` of the array or object opening at ``at`` starts, or None."""
    index = 0
    at = _skip_space(text, at + 1)
    while text[at:at + 1] not in ("]", "}", ""):
        key: Any = index
        if keyed:
            key, at = decoder.raw_decode(text, at)
            at = _skip_space(text, _skip_space(text, at) + 1)  # past the ':'
        if key == part:
            return at
        _, at = decoder.raw_decode(text, at)
        at = _skip_space(text, at)
        if text[at:at + 1] == ",":
            at = _skip_space(text, at + 1)
        index += 1
    return None


def _skip_space(text: str, at: int) -> int:
    while text[at:at + 1] in (" ", "\t", "\n", "\r"):
        at += 1
    return at


def render_path(parts: Any, root: str = "$") -> str:
    """A path as jsonschema writes it: ``$.tools.argocd.versions['3.5.1'].plugin``.

    Keys that are not plain identifiers are quoted, with quotes, backslashes and unprintable
    characters escaped: an error message stays on one line whatever the file holds.
    """
    path = root
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif re.fullmatch(r"[a-zA-Z][a-zA-Z0-9_]*", part):
            path += f".{part}" if path else part
        else:
            escaped = "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
                              for char in part.replace("\\", "\\\\").replace("'", "\\'"))
            path += f"['{escaped}']"
    return path
