"""Expressions in toolchain files: ``${{ vars.X }}``, ``${{ env.X }}`` and output references.

Substitution works on parsed YAML values, never on raw text, so a value holding ``:`` or a
newline is data and cannot change the file's structure (the DevStream lesson). A scalar that
is exactly one expression takes the referenced value with its type; expressions inside longer
text are joined as text. Output references stay symbolic (:class:`OutputRef`,
:class:`Template`) until the instance they name has run; :func:`fill_outputs` then replaces
them, and a missing output is an error, never a silent skip.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import ConfigError
from .model import Location, OutputRef, Template

#: ``$${{`` is the escape for a literal ``${{`` (GitHub Actions workflows are full of them).
_TOKEN = re.compile(r"\$\$\{\{|\$\{\{(?P<body>.*?)(?P<close>\}\}|\Z)", re.S)
_VARS = re.compile(r"vars((?:\.[A-Za-z0-9_-]+)+)")
_ENV = re.compile(r"env\.([A-Za-z_][A-Za-z0-9_]*)")
_OUTPUT = re.compile(r"([a-z0-9][a-z0-9-]*)\.([a-z0-9][a-z0-9-]*)\.outputs\.([A-Za-z0-9_][A-Za-z0-9_-]*)")
#: What a variable may be called: ``vars.NAME`` must parse back unambiguously.
VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")

SYNTAX_HINT = ("write ${{ vars.NAME }}, ${{ env.NAME }} or ${{ TOOL.INSTANCE.outputs.KEY }}; "
               "write $${{ for a literal ${{")

#: Called for each value found while substituting: its dotted path, where the value was
#: written, and where its key was written.
Visit = Callable[[str, Location, Location], None]


@dataclass(frozen=True)
class Expression:
    """One parsed ``${{ … }}``; ``path`` is (NAME, KEY…), (NAME,) or (TOOL, INSTANCE, KEY)."""

    kind: Literal["vars", "env", "output"]
    path: tuple[str, ...]
    text: str

    def __str__(self) -> str:
        return self.text


def describe(value: Any) -> str:
    """``a string 'x'``, ``an integer 3``, ``a list``: for messages about a wrong value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"an integer {value}"
    if isinstance(value, float):
        return f"a number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string {shown!r}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def _loc(where: Location, mark: Any) -> Location:
    line, column = mark
    return Location(where.file, line + 1, column + 1)


def key_location(node: Any, key: Any, where: Location) -> Location:
    """Where ``key`` of a parsed mapping was written; ``where`` when unknown (merge keys ``<<``)."""
    try:
        return _loc(where, node.lc.key(key))
    except (AttributeError, KeyError, TypeError):
        return where


def value_location(node: Any, key: Any, where: Location) -> Location:
    try:
        return _loc(where, node.lc.value(key))
    except (AttributeError, KeyError, TypeError):
        return where


def item_location(node: Any, index: int, where: Location) -> Location:
    try:
        return _loc(where, node.lc.item(index))
    except (AttributeError, KeyError, TypeError, IndexError):
        return where


def start_location(node: Any, where: Location) -> Location:
    """Where a parsed mapping or list begins; ``where`` when unknown."""
    try:
        line, column = node.lc.line, node.lc.col
    except AttributeError:
        return where
    # A tagged scalar (``!foo``) has an ``lc`` that ruamel never fills in.
    return where if line is None or column is None else Location(where.file, line + 1, column + 1)


def is_container(node: Any) -> bool:
    return isinstance(node, Mapping | list | tuple)


def plain(node: Any, where: Location) -> Any:
    """Parsed YAML as plain values, expressions left as written."""
    if isinstance(node, Mapping):
        return {k: plain(v, value_location(node, k, where)) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [plain(v, item_location(node, i, where)) for i, v in enumerate(node)]
    return plain_scalar(node, where)


def plain_scalar(node: Any, where: Location) -> Any:
    """A parsed YAML scalar as a plain Python value (ruamel's subclasses carry style, not meaning)."""
    if node is None or isinstance(node, bool):
        return node
    # ruamel keeps an anchored boolean as ScalarBoolean, an int subclass; named to avoid the import.
    if type(node).__name__ == "ScalarBoolean":
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, dt.date):
        return node.isoformat()
    tag = getattr(getattr(node, "tag", None), "value", None)
    what = f"YAML tag {tag}" if tag else f"YAML value {type(node).__name__}"
    raise ConfigError(f"{where}: unsupported {what}",
                      hint="use plain strings, numbers, booleans, lists and mappings")


def _merged(parts: list[Any]) -> list[Any]:
    """Adjacent strings joined, empty strings dropped."""
    out: list[Any] = []
    for part in parts:
        if isinstance(part, str):
            if not part:
                continue
            if out and isinstance(out[-1], str):
                out[-1] += part
                continue
        out.append(part)
    return out


def _expression(body: str, written: str, where: Location) -> Expression:
    if match := _VARS.fullmatch(body):
        return Expression("vars", tuple(match[1][1:].split(".")), written)
    if match := _ENV.fullmatch(body):
        return Expression("env", (match[1],), written)
    if match := _OUTPUT.fullmatch(body):
        return Expression("output", (match[1], match[2], match[3]), written)
    head = body.split(".", 1)[0]
    if not body:
        hint = SYNTAX_HINT
    elif head in {"vars", "env"}:
        hint = f"write ${{{{ {head}.NAME }}}} with a name of letters, digits and _"
    elif ".outputs." in f".{body}." or body.endswith(".outputs"):
        hint = ("an output reference is ${{ TOOL.INSTANCE.outputs.KEY }} "
                "(INSTANCE is 'default' for a tool item without name:)")
    else:
        hint = (f"dtm knows vars, env and TOOL.INSTANCE.outputs.KEY, not {head!r}; if this is meant "
                "for another program (a GitHub Actions workflow, say), write $${{ so dtm keeps it as text")
    shown = written if written.isprintable() else repr(written)  # one line, whatever it holds
    raise ConfigError(f"{where}: malformed expression {shown}", hint=hint)


def parse(text: str, where: Location) -> list[str | Expression]:
    """Split ``text`` into literal text and expressions; ``$${{`` stands for a literal ``${{``."""
    parts: list[str | Expression] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        parts.append(text[pos:match.start()])
        pos = match.end()
        written = match.group(0)
        if written == "$${{":
            parts.append("${{")
        elif not match.group("close"):
            shown = written if len(written) <= 40 else written[:37] + "..."
            raise ConfigError(f"{where}: unterminated expression {shown!r}: '}}}}' is missing",
                              hint=SYNTAX_HINT)
        else:
            parts.append(_expression(match.group("body").strip(), written, where))
    parts.append(text[pos:])
    return _merged(parts)


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _known(names: list[str]) -> str:
    shown = ", ".join(names[:12]) + (", …" if len(names) > 12 else "")
    return shown or "none"


class Scope:
    """Resolves expressions against the toolchain's variables and an environment.

    Variables may refer to the environment and to each other; each is resolved once, and a
    cycle is an error naming it.
    """

    def __init__(self, definitions: Mapping[str, tuple[Any, Location]],
                 environ: Mapping[str, str]) -> None:
        self._definitions = definitions
        self._environ = environ
        self._values: dict[str, Any] = {}
        self._resolving: list[str] = []

    def variables(self) -> dict[str, Any]:
        """Every variable, resolved, in definition order."""
        return {name: copy.deepcopy(self._variable(name)) for name in self._definitions}

    def _variable(self, name: str) -> Any:
        if name in self._values:
            return self._values[name]
        if name in self._resolving:
            cycle = [*self._resolving[self._resolving.index(name):], name]
            first = self._definitions[cycle[0]][1]
            raise ConfigError(
                f"{first}: variables refer to each other in a cycle: "
                + " -> ".join(f"vars.{n}" for n in cycle),
                hint="give one of them a value that does not refer back to the others")
        node, where = self._definitions[name]
        self._resolving.append(name)
        try:
            value = self.resolve(node, where)
        finally:
            self._resolving.pop()
        self._values[name] = value
        return value

    def resolve(self, node: Any, where: Location, path: str = "", visit: Visit | None = None) -> Any:
        """``node`` (parsed YAML) as plain values with every expression substituted."""
        if isinstance(node, Mapping):
            out: dict[str, Any] = {}
            for key in node:
                key_at = key_location(node, key, where)
                if not isinstance(key, str):
                    raise ConfigError(f"{key_at}: keys must be strings, got {describe(key)}",
                                      hint=f'quote the key: "{key}":')
                if "${{" in key:
                    raise ConfigError(f"{key_at}: expressions are not allowed in keys: {key}",
                                      hint="move the expression into a value; write $${{ for a literal ${{")
                child = node[key]
                child_at = key_at if is_container(child) else value_location(node, key, where)
                child_path = f"{path}.{key}" if path else key
                if visit is not None:
                    visit(child_path, child_at, key_at)
                out[key] = self.resolve(child, child_at, child_path, visit)
            return out
        if isinstance(node, list | tuple):
            items = []
            for index, child in enumerate(node):
                child_at = item_location(node, index, where)
                child_path = f"{path}[{index}]"
                if visit is not None:
                    visit(child_path, child_at, child_at)
                items.append(self.resolve(child, child_at, child_path, visit))
            return items
        if isinstance(node, str):
            return self.text(str(node), where)
        return plain_scalar(node, where)

    def text(self, text: str, where: Location) -> Any:
        """A string with its expressions substituted: a typed value, a str, or a Template."""
        parts = parse(text, where)
        if len(parts) == 1 and isinstance(parts[0], Expression):
            return self._whole(parts[0], where)
        pieces: list[Any] = []
        for part in parts:
            pieces.extend([part] if isinstance(part, str) else self._embedded(part, where))
        joined = _merged(pieces)
        if not any(isinstance(p, OutputRef) for p in joined):
            return "".join(joined)
        return Template(tuple(joined))

    def _whole(self, expr: Expression, where: Location) -> Any:
        if expr.kind == "output":
            tool, instance, key = expr.path
            return OutputRef(f"{tool}.{instance}", key, where)
        if expr.kind == "env":
            return self._env(expr, where)
        # A copy: two options that use the same list must not share (and mutate) one object.
        return copy.deepcopy(self._lookup(expr, where))

    def _embedded(self, expr: Expression, where: Location) -> list[Any]:
        value = self._whole(expr, where)
        if isinstance(value, OutputRef):
            return [value]
        if isinstance(value, Template):
            return list(value.parts)
        if isinstance(value, bool):
            return ["true" if value else "false"]  # as YAML writes it, not Python's True
        if isinstance(value, str | int | float):
            return [str(value)]
        raise ConfigError(
            f"{where}: {expr.text} is {describe(value)}, which cannot be joined into text",
            hint=f"use it alone as the whole value (key: {expr.text}), or give it a string value")

    def _env(self, expr: Expression, where: Location) -> str:
        name = expr.path[0]
        value = self._environ.get(name)
        if value is None:
            raise ConfigError(f"{where}: environment variable {name} is not set (used in {expr.text})",
                              hint=f"export {name}=... before running dtm")
        return value

    def _lookup(self, expr: Expression, where: Location) -> Any:
        name, *keys = expr.path
        if name not in self._definitions:
            names = list(self._definitions)
            raise ConfigError(
                f"{where}: unknown variable {name!r} in {expr.text}",
                hint=f"define it under vars: (defined: {_known(names)}){_suggest(name, names)}")
        value = self._variable(name)
        done = f"vars.{name}"
        for key in keys:
            if isinstance(value, Mapping) and key in value:
                value = value[key]
            elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
                value = value[int(key)]
            elif isinstance(value, Mapping):
                names = [str(k) for k in value]
                raise ConfigError(f"{where}: {done} has no key {key!r} (in {expr.text})",
                                  hint=f"its keys: {_known(names)}{_suggest(key, names)}")
            elif isinstance(value, list):
                raise ConfigError(f"{where}: {done} has no item {key!r} (in {expr.text})",
                                  hint=f"it has {len(value)} items, numbered from 0")
            else:
                raise ConfigError(f"{where}: {done} is {describe(value)}, so it has no key {key!r} "
                                  f"(in {expr.text})", hint=f"use {done} itself")
            done += f".{key}"
        return value


def references_in(value: Any) -> list[OutputRef]:
    """Every output reference in ``value``, in order of appearance."""
    if isinstance(value, OutputRef):
        return [value]
    if isinstance(value, Template):
        return [p for p in value.parts if isinstance(p, OutputRef)]
    if isinstance(value, Mapping):
        return [ref for v in value.values() for ref in references_in(v)]
    if isinstance(value, list | tuple):
        return [ref for v in value for ref in references_in(v)]
    return []


def has_unresolved(value: Any) -> bool:
    """Whether ``value`` still holds output references (known only once their instance ran)."""
    if isinstance(value, OutputRef | Template):
        return True
    if isinstance(value, Mapping):
        return any(has_unresolved(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(has_unresolved(v) for v in value)
    return False


def _output(ref: OutputRef, outputs: Mapping[str, Mapping[str, Any]]) -> Any:
    produced = outputs.get(ref.address)
    if produced is None:
        raise ConfigError(f"{ref.location}: {ref.address} has not run yet, so its output "
                          f"{ref.output!r} is not known", hint=f"apply {ref.address} first")
    if ref.output not in produced:
        known = ", ".join(sorted(produced)) or "none"
        raise ConfigError(f"{ref.location}: {ref.address} has no output {ref.output!r}; its outputs: {known}",
                          hint=f"refer to one of its outputs: ${{{{ {ref.address}.outputs.NAME }}}}")
    return produced[ref.output]


def fill_outputs(value: Any, outputs: Mapping[str, Mapping[str, Any]]) -> Any:
    """``value`` with output references replaced by the recorded ``outputs`` (address → key → value).

    Inside text, an output is joined with ``str()``, exactly as the journal does on recovery
    (``dtm_core.references``), so a plan and its replay agree.
    """
    if isinstance(value, OutputRef):
        return _output(value, outputs)
    if isinstance(value, Template):
        return "".join(str(_output(p, outputs)) if isinstance(p, OutputRef) else p for p in value.parts)
    if isinstance(value, Mapping):
        return {k: fill_outputs(v, outputs) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [fill_outputs(v, outputs) for v in value]
    return value
