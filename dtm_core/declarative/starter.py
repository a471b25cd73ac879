"""Stack starter configurations (``dtm init --stack``): their ``<<name>>`` placeholders and rendering.

A starter is a commented toolchain file in the index with placeholders such as ``<<owner>>``.
The syntax cannot be mistaken for dtm's ``${{ … }}`` expressions, which a starter also uses
and which must reach the written file untouched. Values are substituted into the parsed
strings, never into the raw text, so a value holding ``:`` or ``#`` stays one string, and
the starter's comments and layout are kept. Placeholders in comments are left as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ..errors import ConfigError, InvalidInputError, RegistryIndexError
from ..registry.index import default_hint, json_path
from .edit import load_round_trip, rewrite

if TYPE_CHECKING:
    from ..registry.model import ToolEntry

__all__ = ["PLACEHOLDER", "render_starter", "starter_placeholders"]

#: ``<<owner>>``; spaces inside the brackets are allowed: ``<< owner >>``.
PLACEHOLDER = re.compile(r"<<\s*([A-Za-z_][A-Za-z0-9_]*)\s*>>")


def starter_placeholders(entry: ToolEntry) -> list[str]:
    """The placeholder names of a stack's starter, in the order they first appear."""
    names: list[str] = []
    for text in _strings(_parse(entry)):
        for match in PLACEHOLDER.finditer(text):
            if match.group(1) not in names:
                names.append(match.group(1))
    return names


def render_starter(entry: ToolEntry, values: Mapping[str, str]) -> str:
    """The starter of stack ``entry`` with every placeholder replaced by its value.

    Raises InvalidInputError for a value that is missing (or empty) or one the starter
    does not take, RegistryIndexError when the index's starter is not YAML.
    """
    needed = starter_placeholders(entry)
    unknown = [name for name in values if name not in needed]
    if unknown:
        takes = ", ".join(needed) if needed else "no values"
        raise InvalidInputError(
            f"the {entry.name} starter has no value named {', '.join(map(repr, unknown))}; it takes: {takes}",
            hint="check the spelling of each --set NAME=VALUE")
    missing = [name for name in needed if not values.get(name)]
    if missing:
        noun = "a value" if len(missing) == 1 else "values"
        raise InvalidInputError(
            f"the {entry.name} starter needs {noun} for: {', '.join(missing)}",
            hint="give each as --set NAME=VALUE, e.g. " + " ".join(f"--set {n}=VALUE" for n in missing))

    def fill(text: str) -> str:
        return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)

    def change(doc: Any) -> Any:
        _substitute(doc, fill)
        return doc

    return rewrite(entry.starter, change, source=f"{entry.name} starter")


def _parse(entry: ToolEntry) -> Any:
    if entry.kind != "stack":
        raise InvalidInputError(
            f"{entry.name} is a tool, not a stack: only stacks have a starter configuration",
            hint="'dtm search stack' lists the stacks")
    if not entry.starter.strip():
        raise InvalidInputError(
            f"the {entry.name} stack has no starter configuration",
            hint=f"write the file by hand; 'dtm info {entry.name}' lists the tools it brings")
    try:
        return load_round_trip(entry.starter, source=json_path(("tools", entry.name, "starter")))
    except ConfigError as exc:
        raise RegistryIndexError(f"index '{entry.source}': {exc.message}",
                                 hint=default_hint(entry.source)) from None


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, CommentedMap):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, CommentedSeq):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


def _substitute(node: Any, fill: Callable[[str], str]) -> None:
    if not isinstance(node, CommentedMap | CommentedSeq):
        return
    for key in list(node) if isinstance(node, CommentedMap) else range(len(node)):
        value = node[key]
        if isinstance(value, str):
            filled = fill(str(value))
            if filled != value:
                # Same class, same quotes: a starter's "quoted" value stays quoted.
                node[key] = type(value)(filled) if type(value) is not str else filled
        else:
            _substitute(value, fill)
